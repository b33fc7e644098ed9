"""Parquet schemas of the lake tables, grouped by the source that writes them; each column is described.

Names are lower_snake_case and types plain Parquet types, so DuckDB, Athena, Spark and Trino read
them alike. Times are milliseconds in UTC.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ms", tz="UTC")


def _schema(*fields: tuple[str, pa.DataType, str]) -> pa.Schema:
    return pa.schema([pa.field(n, t, metadata={"description": d}) for n, t, d in fields])


# -- Step Functions (collectors/stepfunctions): state machines and execution histories ----------
STATE_MACHINES = _schema(
    ("state_machine_arn", pa.string(), "key"),
    ("account_id", pa.string(), "AWS account id"),
    ("region", pa.string(), "AWS Region"),
    ("name", pa.string(), "state machine name"),
    ("type", pa.string(), "STANDARD or EXPRESS"),
    ("domain", pa.string(), "value of the business-domain tag"),
    ("tags_json", pa.string(), "all tags as a JSON object"),
    ("definition", pa.string(), "ASL definition (JSON or YAML text)"),
    ("revision_id", pa.string(), "revision of the definition"),
    ("status", pa.string(), "ACTIVE or DELETING"),
    ("role_arn", pa.string(), "execution role"),
    ("creation_date", TS, "when the state machine was created"),
    ("description", pa.string(), "description"),
    ("logging_level", pa.string(), "ALL, ERROR, FATAL or OFF"),
    ("log_group_arn", pa.string(), "CloudWatch Logs group the machine logs to"),
    ("tracing_enabled", pa.bool_(), "X-Ray tracing on"),
    ("collected_at", TS, "when this row was collected"),
)

EXECUTIONS = _schema(
    ("execution_arn", pa.string(), "key"),
    ("state_machine_arn", pa.string(), "the state machine (unqualified ARN)"),
    ("state_machine_name", pa.string(), "the state machine's name"),
    ("account_id", pa.string(), "AWS account id"),
    ("region", pa.string(), "AWS Region"),
    ("name", pa.string(), "execution name"),
    ("status", pa.string(), "RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE"),
    ("start_time", TS, "start"),
    ("stop_time", TS, "stop (null while running)"),
    ("duration_ms", pa.int64(), "stop - start in ms (null while running)"),
    ("error", pa.string(), "error of a failed execution"),
    ("cause", pa.string(), "cause of a failed execution"),
    ("failed_state", pa.string(), "name of the state where the execution failed"),
    ("redrive_count", pa.int32(), "times redriven (0 = first attempt)"),
    ("redrive_status", pa.string(), "REDRIVABLE, NOT_REDRIVABLE, REDRIVABLE_BY_MAP_RUN"),
    ("redrive_status_reason", pa.string(), "why it can't be redriven"),
    ("redrive_date", TS, "last redrive"),
    ("state_machine_version_arn", pa.string(), "version that ran"),
    ("state_machine_alias_arn", pa.string(), "alias used to start it"),
    ("trace_id", pa.string(), "X-Ray trace id (Root=...)"),
    ("input_sha256", pa.string(), "SHA-256 of the input"),
    ("input_bytes", pa.int64(), "input size"),
    ("output_sha256", pa.string(), "SHA-256 of the output"),
    ("output_bytes", pa.int64(), "output size"),
    ("input", pa.string(), "input payload, only with --include-payloads"),
    ("output", pa.string(), "output payload, only with --include-payloads"),
    ("event_count", pa.int32(), "events in the history"),
    ("history_complete", pa.bool_(), "the whole history was read"),
    ("history_error", pa.string(), "why not (e.g. ExecutionDoesNotExist: expired)"),
    ("collected_at", TS, "when this row was collected"),
)

STATE_RUNS = _schema(
    ("execution_arn", pa.string(), "key part 1"),
    ("entered_event_id", pa.int64(), "key part 2: id of the StateEntered event"),
    ("exited_event_id", pa.int64(), "id of the StateExited event (null if it never exited)"),
    ("state_machine_arn", pa.string(), "the state machine"),
    ("state_name", pa.string(), "state name"),
    ("state_type", pa.string(), "Task, Choice, Pass, Wait, Map, Parallel, Succeed, Fail"),
    ("parent_state", pa.string(), "enclosing Map or Parallel state (null at top level)"),
    ("iteration", pa.int32(), "Map iteration index or Parallel branch index"),
    ("entered_time", TS, "entered"),
    ("exited_time", TS, "exited"),
    ("duration_ms", pa.int64(), "exited - entered"),
    ("attempts", pa.int32(), "task attempts (1 + retries)"),
    ("status", pa.string(), "SUCCEEDED, FAILED, CAUGHT, TIMED_OUT, ABORTED, RUNNING"),
    ("error", pa.string(), "error of the last failed attempt"),
    ("cause", pa.string(), "cause of the last failed attempt"),
    ("resource", pa.string(), "task resource"),
    ("next_state", pa.string(), "state entered next"),
)

EVENTS = _schema(
    ("execution_arn", pa.string(), "key part 1"),
    ("event_id", pa.int64(), "key part 2"),
    ("previous_event_id", pa.int64(), "previous event"),
    ("timestamp", TS, "when"),
    ("type", pa.string(), "HistoryEventType"),
    ("state_name", pa.string(), "state named by the event, if any"),
    ("details_json", pa.string(), "the event's details as JSON, payloads stripped"),
)

# -- derived from executions (lake/derived.py) --------------------------------------------------
SLA_FACTS = _schema(
    ("state_machine_arn", pa.string(), "the state machine"),
    ("state_machine_name", pa.string(), "its name"),
    ("succeeded", pa.bool_(), "status SUCCEEDED (the others are FAILED, TIMED_OUT, ABORTED)"),
    ("redriven", pa.bool_(), "redrive_count > 0"),
    ("duration_ms", pa.int64(), "stop - start in ms"),
    ("start_time", TS, "start (read only on the days where it decides)"),
)

# -- the collector's own bookkeeping -------------------------------------------------------------
CURSORS = _schema(
    ("source", pa.string(), "key part 1: the source (histories, metrics, ...)"),
    ("account_id", pa.string(), "key part 2"),
    ("region", pa.string(), "key part 3"),
    ("key", pa.string(), "key part 4: what the source keeps a position for (a state machine ARN, ...)"),
    ("domain", pa.string(), "domain tag, where the key has one"),
    ("watermark", TS, "newest time durably collected"),
    ("last_collected_at", TS, "end of the last run that covered this key"),
    ("open_items", pa.int32(), "items still open, revisited next run (RUNNING executions)"),
    ("incomplete_items", pa.int32(), "items that could not be read whole (expired histories)"),
    ("last_error", pa.string(), "last error collecting this key"),
)

COLLECTION_RUNS = _schema(
    ("run_id", pa.string(), "key"),
    ("started_at", TS, "start"),
    ("finished_at", TS, "end"),
    ("source", pa.string(), "aws or demo"),
    ("summary_json", pa.string(), "counts: machines, executions, pages, calls, throttles"),
)
