"""The logs source against a real moto server: an EXPRESS machine logging ALL, its records put with
put_log_events in AWS's format (successes, a failure with error and cause, a Map, an execution whose
end arrives on a later run, a record in the stream AWS creates to validate delivery), collected twice.
The lake holds exactly the executions, statuses, errors and state runs the records describe."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from lakecheck import contents, run
from scenario import ROLE

from collectors.logs.mapping import VALIDATION_STREAM
from lake.store import Lake

pytestmark = pytest.mark.integration
ACCT, REGION = "123456789012", "us-east-1"
GROUP = "/aws/vendedlogs/states/card-auth"
DEFINITION = {
    "StartAt": "Score",
    "States": {
        "Score": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Checks"},
        "Checks": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Check", "States": {"Check": {"Type": "Pass", "End": True}}},
            "End": True,
        },
    },
}


class Execution:
    """The records of one execution, written as Step Functions writes them (ids from 1, strings)."""

    def __init__(self, name: str, start: datetime):
        self.arn = f"arn:aws:states:{REGION}:{ACCT}:express:card-auth:{name}:{name}-id"
        self.t = start
        self.records: list[dict[str, Any]] = []

    def add(self, typ: str, prev: int | None = None, **details: Any) -> int:
        i = len(self.records) + 1
        self.t += timedelta(milliseconds=40)
        self.records.append(
            {
                "id": str(i),
                "type": typ,
                "details": details,
                "previous_event_id": str(i - 1 if prev is None else prev),
                "event_timestamp": str(int(self.t.timestamp() * 1000)),
                "execution_arn": self.arn,
                "redrive_count": "0",
            }
        )
        return i

    def start_task(self) -> None:
        self.add("ExecutionStarted", 0, input='{"card":"4111"}', inputDetails={"truncated": "false"})
        self.add("TaskStateEntered", name="Score", input="{}")
        self.add("TaskScheduled", resourceType="lambda", resource="invoke", region=REGION, parameters="{}")
        self.add("TaskStarted", resourceType="lambda", resource="invoke")

    def succeed(self) -> None:
        self.add("TaskSucceeded", resourceType="lambda", resource="invoke", output="{}")
        self.add("TaskStateExited", name="Score", output="{}")
        self.add("ExecutionSucceeded", output='{"ok":true}', outputDetails={"truncated": "false"})


def events(*executions: Execution, part: slice = slice(None)) -> list[tuple[int, str]]:
    return [(int(r["event_timestamp"]), json.dumps(r)) for x in executions for r in x.records[part]]


def put(logs: Any, stream: str, items: list[tuple[int, str]]) -> None:
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": m} for ts, m in sorted(items)],
    )


def lake_rows(lake: Path, table: str, cols: str) -> list[tuple]:
    glob = f"{lake}/{table}/*/*/*.parquet"
    query = f"SELECT {cols} FROM read_parquet($g, hive_partitioning = true) ORDER BY ALL"  # noqa: S608
    return duckdb.execute(query, {"g": glob}).fetchall()


def test_express_records_become_the_executions_they_describe_and_late_ones_are_merged(moto, tmp_path: Path):
    sfn, logs = boto3.client("stepfunctions"), boto3.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    group_arn = f"arn:aws:logs:{REGION}:{ACCT}:log-group:{GROUP}:*"
    sm = sfn.create_state_machine(
        name="card-auth",
        definition=json.dumps(DEFINITION),
        roleArn=ROLE,
        type="EXPRESS",
        loggingConfiguration={
            "level": "ALL",
            "includeExecutionData": True,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        },
        tags=[{"key": "domain", "value": "payments"}],
    )["stateMachineArn"]
    for s in ("a", "b", VALIDATION_STREAM):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=s)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

    ok = Execution("ok", t0)
    ok.start_task()
    ok.succeed()
    failed = Execution("failed", t0 + timedelta(minutes=1))
    failed.start_task()
    failed.add(
        "TaskFailed", resourceType="lambda", resource="invoke", error="Issuer.Timeout", cause="no answer"
    )
    failed.add("ExecutionFailed", error="Issuer.Timeout", cause="no answer")
    mapped = Execution("mapped", t0 + timedelta(minutes=2))
    mapped.start_task()
    mapped.add("TaskSucceeded", resourceType="lambda", resource="invoke", output="[1,2]")
    mapped.add("TaskStateExited", name="Score", output="[1,2]")
    entered = mapped.add("MapStateEntered", name="Checks", input="[1,2]")
    started = mapped.add("MapStateStarted", length="2")
    ends = []
    for i in ("0", "1"):
        it = mapped.add("MapIterationStarted", started, name="Checks", index=i)
        mapped.add("PassStateEntered", it, name="Check", input=i)
        mapped.add("PassStateExited", name="Check", output=i)
        ends.append(mapped.add("MapIterationSucceeded", name="Checks", index=i))
    mapped.add("MapStateSucceeded", ends[-1])
    mapped.add("MapStateExited", name="Checks", output="[1,2]")
    mapped.add("ExecutionSucceeded", output="[1,2]")
    assert entered == 7
    late = Execution("late", t0 + timedelta(minutes=3))
    late.start_task()
    late.succeed()
    hidden = Execution("hidden", t0 + timedelta(minutes=4))
    hidden.start_task()
    hidden.succeed()

    put(logs, "a", events(ok, failed) + events(late, part=slice(0, 4)))
    put(logs, "b", events(mapped) + [(int(t0.timestamp() * 1000), "START RequestId: not a record")])
    put(logs, VALIDATION_STREAM, events(hidden))

    lake = tmp_path / "lake"
    first = run(lake, sources=["logs"], since=t0 - timedelta(hours=1))
    assert not first.errors, first.errors
    assert first.counts["log_bad_records"] == 1 and first.counts["log_new"] == 4
    running = lake_rows(lake, "executions", "name, status, history_source")
    assert ("late", "RUNNING", "logs") in running and len(running) == 4

    put(logs, "a", events(late, part=slice(4, None)))  # its end arrives after the first run
    second = run(lake, sources=["logs"], since=t0 - timedelta(hours=1))
    assert not second.errors
    assert (second.counts["log_updated"], second.counts["log_new"], second.counts["log_unchanged"]) == (
        1,
        0,
        3,
    )

    got = lake_rows(
        lake,
        "executions",
        "name, status, error, cause, event_count, history_complete, history_source, domain",
    )
    assert got == [
        ("failed", "FAILED", "Issuer.Timeout", "no answer", 6, True, "logs", "payments"),
        ("late", "SUCCEEDED", None, None, 7, True, "logs", "payments"),
        ("mapped", "SUCCEEDED", None, None, len(mapped.records), True, "logs", "payments"),
        ("ok", "SUCCEEDED", None, None, 7, True, "logs", "payments"),
    ]
    runs = lake_rows(
        lake,
        "state_runs",
        "split_part(execution_arn, ':', 8), state_name, parent_state, iteration, status, error",
    )
    assert runs == sorted(
        [
            ("failed", "Score", None, None, "FAILED", "Issuer.Timeout"),
            ("late", "Score", None, None, "SUCCEEDED", None),
            ("mapped", "Check", "Checks", 0, "SUCCEEDED", None),
            ("mapped", "Check", "Checks", 1, "SUCCEEDED", None),
            ("mapped", "Checks", None, None, "SUCCEEDED", None),
            ("mapped", "Score", None, None, "SUCCEEDED", None),
            ("ok", "Score", None, None, "SUCCEEDED", None),
        ]
    )
    n_events = lake_rows(lake, "events", "count(*), count(DISTINCT (execution_arn, event_id))")
    want = sum(len(x.records) for x in (ok, failed, mapped, late))
    assert n_events == [(want, want)]  # the late execution's first records were replaced, not doubled
    assert not any("4111" in (d or "") for (d,) in lake_rows(lake, "events", "details_json"))  # no payloads

    cursors = {r["key"]: r for r in Lake(str(lake)).read("cursors").to_pylist() if r["source"] == "logs"}
    assert set(cursors) == {sm, f"{group_arn}|a", f"{group_arn}|b"}
    assert cursors[sm]["open_items"] == 0 and cursors[sm]["incomplete_items"] == 0
    assert cursors[f"{group_arn}|a"]["watermark"] == datetime.fromtimestamp(
        int(late.records[-1]["event_timestamp"]) / 1000, UTC
    )

    before = contents(lake)
    third = run(lake, sources=["logs"], since=t0 - timedelta(hours=1))
    after = contents(lake)
    assert len(after.pop("collection_runs")) == len(before.pop("collection_runs")) + 1
    assert (
        third.counts["log_unchanged"] == 4 and after == before
    )  # a run over the same records changes nothing
