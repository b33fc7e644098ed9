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
    ("include_execution_data", pa.bool_(), "its logs carry inputs and outputs (loggingConfiguration)"),
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
    ("root_state", pa.string(), "the state whose failure (after retries, caught or not) ended the execution"),
    ("root_error", pa.string(), "that state's error (the execution's when no state failed)"),
    ("root_cause", pa.string(), "that state's cause"),
    ("root_path", pa.string(), "enclosing Map/Parallel states of root_state, e.g. Fan[3]/Inner[0]"),
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
    ("history_source", pa.string(), "where the history came from: api (GetExecutionHistory) or logs"),
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
    ("history_source", pa.string(), "api or logs, as its execution's"),
)

EVENTS = _schema(
    ("execution_arn", pa.string(), "key part 1"),
    ("event_id", pa.int64(), "key part 2"),
    ("previous_event_id", pa.int64(), "previous event"),
    ("timestamp", TS, "when"),
    ("type", pa.string(), "HistoryEventType"),
    ("state_name", pa.string(), "state named by the event, if any"),
    ("details_json", pa.string(), "the event's details as JSON, payloads stripped"),
    ("history_source", pa.string(), "api or logs, as its execution's"),
)

# -- CloudWatch metrics (collectors/cloudwatch): AWS/States and the Lambda functions the flows call --
# Partitioned like the others; `domain` is null (folder domain=__HIVE_DEFAULT_PARTITION__) for series
# that belong to no single domain: account level, service integrations, functions shared by domains.
# Within a collected window (see `cursors`, source "metrics") a count metric with no datapoint is 0;
# a gauge with none is unknown.
METRICS = _schema(
    ("account_id", pa.string(), "key part 1: AWS account id"),
    ("region", pa.string(), "key part 2: AWS Region"),
    ("namespace", pa.string(), "key part 3: AWS/States or AWS/Lambda"),
    ("metric_name", pa.string(), "key part 4: e.g. ExecutionsFailed, Duration"),
    ("stat", pa.string(), "key part 5: Sum, Average, Maximum, p99, ..."),
    ("period_s", pa.int32(), "key part 6: seconds a datapoint covers (60, 300 or 3600)"),
    ("timestamp", TS, "key part 7: start of the period"),
    ("value", pa.float64(), "the statistic over the period"),
    ("unit", pa.string(), "Count, Milliseconds, Megabytes, ... (null when CloudWatch does not say)"),
    ("dimensions", pa.string(), "key part 8: the series' dimensions as a JSON object, keys sorted"),
    ("state_machine_arn", pa.string(), "the state machine of a per-machine series (else null)"),
    ("function_name", pa.string(), "the Lambda function of an AWS/Lambda series (else null)"),
)

# Derived from metrics (lake/derived.py): one row per (metrics partition, series), i.e. per series and UTC
# day, what the metric questions read for whole days instead of the datapoints. One small file for the
# whole lake. Nothing here is a percentile of a day: a p95 series keeps its datapoints' highest and their
# invocation-weighted sum, never a "daily p95".
METRICS_DAILY = _schema(
    ("domain", pa.string(), "key part 1: partition domain (__HIVE_DEFAULT_PARTITION__: none)"),
    ("date", pa.string(), "key part 2: partition date (YYYY-MM-DD)"),
    ("account_id", pa.string(), "key part 3: AWS account id"),
    ("region", pa.string(), "key part 4: AWS Region"),
    ("namespace", pa.string(), "key part 5: AWS/States or AWS/Lambda"),
    ("metric_name", pa.string(), "key part 6"),
    ("stat", pa.string(), "key part 7: the statistic of the datapoints"),
    ("period_s", pa.int32(), "key part 8: seconds each datapoint covers"),
    ("dimensions", pa.string(), "key part 9: the series' dimensions as a JSON object, keys sorted"),
    ("unit", pa.string(), "as in metrics"),
    ("state_machine_arn", pa.string(), "as in metrics"),
    ("function_name", pa.string(), "as in metrics"),
    ("datapoints", pa.int64(), "datapoints of the series that day"),
    ("value_sum", pa.float64(), "their sum: a count's day total (Sum series); / datapoints: their mean"),
    ("value_min", pa.float64(), "their lowest"),
    ("value_max", pa.float64(), "their highest (Maximum, p95, p99 series: the day's highest datapoint)"),
    ("weight_sum", pa.float64(), "weighted series (derived.WEIGHTS): sum of the count at their datapoints"),
    ("weighted_sum", pa.float64(), "weighted series: sum of value x that count (/ weight_sum: their mean)"),
)

# -- X-Ray traces (collectors/xray): traces linked to executions ---------------------------------
# Partitioned by the domain and UTC start date of the execution a trace belongs to.
TRACES = _schema(
    ("trace_id", pa.string(), "key: X-Ray trace id, e.g. 1-5759e988-bd862e3fe1be46a994272793"),
    ("execution_arn", pa.string(), "the execution the trace belongs to"),
    ("state_machine_arn", pa.string(), "its state machine"),
    ("domain", pa.string(), "value of the state machine's domain tag"),
    ("start_time", TS, "earliest start among the trace's segments"),
    ("duration_ms", pa.int64(), "latest end - earliest start (null while a segment is in progress)"),
    ("has_error", pa.bool_(), "a segment or subsegment has error (4xx)"),
    ("has_fault", pa.bool_(), "a segment or subsegment has fault (5xx)"),
    ("has_throttle", pa.bool_(), "a segment or subsegment has throttle (429)"),
    ("segment_count", pa.int32(), "rows of the trace in trace_segments (segments and subsegments)"),
)

TRACE_SEGMENTS = _schema(
    ("trace_id", pa.string(), "key part 1"),
    ("segment_id", pa.string(), "key part 2: id of the segment or subsegment"),
    ("parent_id", pa.string(), "the enclosing segment or subsegment, or the caller's subsegment"),
    ("name", pa.string(), "segment name (service, state machine, state, called API)"),
    ("origin", pa.string(), "segments only: AWS::StepFunctions::StateMachine, AWS::Lambda::Function, ..."),
    ("namespace", pa.string(), "subsegments only: aws (an AWS call) or remote (another call)"),
    ("start_time", TS, "start"),
    ("end_time", TS, "end (null while in progress)"),
    ("duration_ms", pa.int64(), "end - start"),
    ("error", pa.bool_(), "client error (4xx)"),
    ("fault", pa.bool_(), "server error (5xx)"),
    ("throttle", pa.bool_(), "throttled (429)"),
    ("http_status", pa.int32(), "HTTP response status"),
    ("aws_operation", pa.string(), "the AWS API called (aws.operation), e.g. Invoke, InvokeModel"),
    ("resource_arn", pa.string(), "the resource the segment ran as or called"),
    ("state_name", pa.string(), "the Step Functions state, when the row is one"),
)

# Executions that should have a trace and have none in the lake, and why: looked for within a bounded
# window after they ended (PENDING while it lasts), then NOT_SAMPLED; EXPIRED when X-Ray no longer
# kept traces that old at the first look. Never looked for again once NOT_SAMPLED or EXPIRED.
TRACE_LOOKUPS = _schema(
    ("execution_arn", pa.string(), "key"),
    ("state_machine_arn", pa.string(), "the state machine"),
    ("trace_id", pa.string(), "the trace id the execution names (Root= of its trace header), if any"),
    ("status", pa.string(), "PENDING, NOT_SAMPLED or EXPIRED"),
    ("attempts", pa.int32(), "collect runs that looked for the trace"),
    ("first_looked_at", TS, "first look"),
    ("last_looked_at", TS, "latest look"),
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
# Derived from executions: the failed, timed-out and aborted ones, without payloads, with the signature
# of their root failure (recomputed by `stepscope rebuild-derived` when the masking rules change).
FAILURES = pa.schema(
    [
        *EXECUTIONS,
        pa.field(
            "signature",
            pa.string(),
            metadata={"description": "12 hex: root error + root state + root cause with ids masked"},
        ),
    ]
)

# Derived from executions: one row per (partition, state machine, error signature of the root failure).
# One small file for the whole lake, so "first seen" looks at all of it without reading every failure.
ERROR_SIGNATURES = _schema(
    ("domain", pa.string(), "partition domain of the failures counted"),
    ("date", pa.string(), "partition date (YYYY-MM-DD)"),
    ("state_machine_arn", pa.string(), "the state machine"),
    ("signature", pa.string(), "12 hex: root error + root state + cause with ids masked (lake.signature)"),
    ("error", pa.string(), "root_error"),
    ("state", pa.string(), "root_state"),
    ("cause_pattern", pa.string(), "root_cause with ids, numbers and times masked"),
    ("failures", pa.int64(), "failed, timed-out and aborted executions"),
    ("first_seen", TS, "earliest start among them"),
    ("last_seen", TS, "latest start among them"),
)

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

# -- The dashboard's audit trail (queries/audit/access_log.py) ------------------------------------------
# One row per download of an audit export, partitioned by the domain exported and the UTC day.
ACCESS_LOG = _schema(
    ("entry_id", pa.string(), "key: a random id"),
    ("logged_at", TS, "when the export was downloaded"),
    ("who", pa.string(), "the signed-in person (e-mail, else name), or 'anonymous' without sign-in"),
    ("action", pa.string(), "what was done: export"),
    ("period_start", TS, "start of the period exported"),
    ("period_end", TS, "end of the period exported (exclusive)"),
    ("file", pa.string(), "the CSV's file name"),
    ("rows", pa.int64(), "rows in the CSV"),
    ("sha256", pa.string(), "SHA-256 of the CSV's bytes"),
    ("via", pa.string(), "where it was done: dashboard"),
)
