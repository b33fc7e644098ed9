"""Known answers for the CloudWatch Logs records of Step Functions → history events → rows.

The records are written by hand in AWS's format (string ids, counts and flags, epoch-ms strings,
flattened details); what each should become is written beside it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from collectors.logs.collect import is_settled, machine_of, window_start
from collectors.logs.fetch import log_group_name
from collectors.logs.mapping import (
    BadRecord,
    by_execution,
    completeness,
    execution_name,
    execution_record,
    parse,
)
from collectors.source import CollectOptions, reads_logs
from collectors.stepfunctions.normalize import details_keys, history_event_types, normalize_execution

SM = "arn:aws:states:us-east-1:123456789012:stateMachine:card-auth"
ARN = "arn:aws:states:us-east-1:123456789012:express:card-auth:7a1c2e:0f9d-44"
T0 = 1_760_000_000_000  # epoch ms
MACHINE = {
    "state_machine_arn": SM,
    "name": "card-auth",
    "domain": "payments",
    "account_id": "123456789012",
    "region": "us-east-1",
    "type": "EXPRESS",
    "logging_level": "ALL",
    "definition": None,
}


def rec(
    i: int, typ: str, prev: int | None, details: dict | None = None, *, arn: str = ARN, redrive: str = "0"
) -> str:
    """One log record's message, as Step Functions writes it."""
    r = {
        "id": str(i),
        "type": typ,
        "details": details or {},
        "previous_event_id": str(prev) if prev is not None else "0",
        "event_timestamp": str(T0 + 100 * i),
        "execution_arn": arn,
        "redrive_count": redrive,
    }
    return json.dumps(r)


def at(i: int) -> datetime:
    return datetime.fromtimestamp((T0 + 100 * i) / 1000, UTC)


FAILED = [
    rec(
        1,
        "ExecutionStarted",
        None,
        {
            "input": '{"card":"4111"}',
            "inputDetails": {"truncated": "false"},
            "roleArn": "arn:aws:iam::123456789012:role/r",
        },
    ),
    rec(2, "PassStateEntered", 1, {"name": "Start", "input": "{}", "inputDetails": {"truncated": "false"}}),
    rec(3, "PassStateExited", 2, {"name": "Start", "output": "{}", "outputDetails": {"truncated": "false"}}),
    rec(4, "TaskStateEntered", 3, {"name": "Authorise", "input": "{}"}),
    rec(
        5,
        "TaskScheduled",
        4,
        {
            "resourceType": "lambda",
            "resource": "invoke",
            "region": "us-east-1",
            "parameters": "{}",
            "timeoutInSeconds": "30",
        },
    ),
    rec(6, "TaskStarted", 5, {"resourceType": "lambda", "resource": "invoke"}),
    rec(
        7,
        "TaskFailed",
        6,
        {
            "resourceType": "lambda",
            "resource": "invoke",
            "error": "Issuer.Timeout",
            "cause": "issuer did not answer",
        },
    ),
    rec(8, "ExecutionFailed", 7, {"error": "Issuer.Timeout", "cause": "issuer did not answer"}),
]


def normalized(messages: list[str], level: str = "ALL", **kw):
    records = [parse(m) for m in messages]
    ((arn, group),) = by_execution(records).items()
    events = [r.event for r in group]
    whole, why = completeness(events, level)
    return normalize_execution(
        execution_record(arn, SM, events, max(r.redrive_count for r in group)),
        events,
        state_machine={**MACHINE, "logging_level": level},
        history_complete=whole,
        history_error=why,
        collected_at=datetime(2026, 1, 1, tzinfo=UTC),
        history_source="logs",
        **kw,
    )


def test_a_record_becomes_the_history_event_the_api_would_return():
    r = parse(FAILED[4])
    assert r.execution_arn == ARN and r.redrive_count == 0
    assert r.event == {
        "id": 5,
        "type": "TaskScheduled",
        "timestamp": at(5),
        "previousEventId": 4,
        "taskScheduledEventDetails": {
            "resourceType": "lambda",
            "resource": "invoke",
            "region": "us-east-1",
            "parameters": "{}",
            "timeoutInSeconds": 30,
        },
    }
    started = parse(FAILED[0]).event["executionStartedEventDetails"]
    assert started["inputDetails"] == {"truncated": False}  # the string "false" is not a truncation


def test_a_failed_express_execution_is_what_its_records_say():
    n = normalized(FAILED)
    x = n.execution
    assert (x["status"], x["error"], x["cause"]) == ("FAILED", "Issuer.Timeout", "issuer did not answer")
    assert (x["start_time"], x["stop_time"], x["duration_ms"]) == (at(1), at(8), 700)
    assert x["name"] == "7a1c2e" and x["state_machine_arn"] == SM
    assert (x["root_state"], x["failed_state"], x["event_count"]) == ("Authorise", "Authorise", 8)
    assert x["history_complete"] and x["history_error"] is None and x["history_source"] == "logs"
    assert x["input"] is None and x["input_bytes"] == len('{"card":"4111"}')  # payload not kept
    runs = [(r["state_name"], r["status"], r["attempts"], r["error"], r["duration_ms"]) for r in n.state_runs]
    assert runs == [("Start", "SUCCEEDED", 1, None, 100), ("Authorise", "FAILED", 1, "Issuer.Timeout", 400)]
    assert {r["history_source"] for r in n.state_runs + n.events} == {"logs"}
    assert [e["event_id"] for e in n.events] == list(range(1, 9))
    assert all("4111" not in (e["details_json"] or "") for e in n.events)


def test_payloads_are_kept_only_when_opted_in():
    n = normalized(FAILED, include_payloads=True)
    assert n.execution["input"] == '{"card":"4111"}'
    assert "4111" in n.events[0]["details_json"]


def test_a_map_with_string_indexes_makes_one_run_per_iteration():
    msgs = [
        rec(1, "ExecutionStarted", None, {"input": "{}"}),
        rec(2, "MapStateEntered", 1, {"name": "Checks"}),
        rec(3, "MapStateStarted", 2, {"length": "2"}),
        rec(4, "MapIterationStarted", 3, {"name": "Checks", "index": "0"}),
        rec(5, "MapIterationStarted", 3, {"name": "Checks", "index": "1"}),
        rec(6, "PassStateEntered", 4, {"name": "Check"}),
        rec(7, "PassStateEntered", 5, {"name": "Check"}),
        rec(8, "PassStateExited", 6, {"name": "Check"}),
        rec(9, "PassStateExited", 7, {"name": "Check"}),
        rec(10, "MapIterationSucceeded", 8, {"name": "Checks", "index": "0"}),
        rec(11, "MapIterationSucceeded", 9, {"name": "Checks", "index": "1"}),
        rec(12, "MapStateSucceeded", 11),
        rec(13, "MapStateExited", 12, {"name": "Checks", "output": "[]"}),
        rec(14, "ExecutionSucceeded", 13, {"output": "[]", "outputDetails": {"truncated": "false"}}),
    ]
    n = normalized(list(reversed(msgs)))  # delivered in any order: ordered by the integer id
    runs = sorted((r["state_name"], r["parent_state"], r["iteration"], r["status"]) for r in n.state_runs)
    assert runs == [
        ("Check", "Checks", 0, "SUCCEEDED"),
        ("Check", "Checks", 1, "SUCCEEDED"),
        ("Checks", None, None, "SUCCEEDED"),
    ]
    assert n.execution["status"] == "SUCCEEDED" and n.execution["output_bytes"] == 2


def test_an_execution_cut_off_mid_way_is_running_and_whole_so_far():
    n = normalized(FAILED[:5])
    assert n.execution["status"] == "RUNNING" and n.execution["stop_time"] is None
    assert n.execution["history_complete"]
    assert [(r["state_name"], r["status"]) for r in n.state_runs] == [
        ("Start", "SUCCEEDED"),
        ("Authorise", "RUNNING"),
    ]


def test_records_missing_in_the_middle_are_said_and_no_success_is_invented():
    n = normalized([FAILED[0], FAILED[1], FAILED[5], FAILED[6]])
    assert n.execution["status"] == "RUNNING"
    assert not n.execution["history_complete"]
    assert n.execution["history_error"] == "log records missing (not delivered yet, or lost): ids 3-5"


def test_error_level_logging_records_only_failures():
    n = normalized([FAILED[6], FAILED[7]], level="ERROR")
    x = n.execution
    assert (x["status"], x["error"], x["start_time"]) == (
        "FAILED",
        "Issuer.Timeout",
        at(7),
    )  # the start is unknown
    assert not x["history_complete"] and x["history_error"] == "logged at ERROR: only failure records, 2 of 8"
    assert x["input_sha256"] is None


def test_a_redrive_after_the_end_runs_again():
    msgs = [*FAILED, rec(9, "ExecutionRedriven", 8, {"redriveCount": "1"}, redrive="1")]
    n = normalized(msgs)
    assert n.execution["status"] == "RUNNING" and n.execution["redrive_count"] == 1


def test_every_event_type_a_log_can_carry_lands_under_its_details_member_typed_by_the_model():
    import botocore.session

    members = (
        botocore.session.get_session().get_service_model("stepfunctions").shape_for("HistoryEvent").members
    )

    def logged(shape):  # what a log writes: every scalar as a string
        if shape.type_name == "structure":
            return {k: logged(m) for k, m in shape.members.items()}
        return {"integer": "7", "long": "7", "boolean": "true", "string": "s"}.get(
            shape.type_name, {"k": "v"}
        )

    def expected(shape):
        if shape.type_name == "structure":
            return {k: expected(m) for k, m in shape.members.items()}
        return {"integer": 7, "long": 7, "boolean": True, "string": "s"}.get(shape.type_name, {"k": "v"})

    for i, t in enumerate(history_event_types(), 1):
        key = details_keys()[t]
        details = logged(members[key]) if key else {"name": "x"}
        ev = parse(rec(i, t, i - 1, details)).event
        assert (ev["id"], ev["type"], ev["previousEventId"]) == (i, t, i - 1)
        if key:
            assert ev[key] == expected(members[key]), t
        else:
            assert set(ev) == {"id", "type", "timestamp", "previousEventId"}, t


def test_duplicates_are_one_event_and_executions_are_kept_apart():
    other = ARN.replace("7a1c2e", "b2")
    records = [
        parse(m) for m in [FAILED[1], FAILED[0], FAILED[1], rec(1, "ExecutionStarted", None, arn=other)]
    ]
    groups = by_execution(records)
    assert {a: [r.event["id"] for r in g] for a, g in groups.items()} == {ARN: [1, 2], other: [1]}


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        '{"type": "TaskFailed", "execution_arn": "x"}',
        '{"id": "x1", "type": "T", "execution_arn": "a", "event_timestamp": "1"}',
    ],
)
def test_what_is_not_a_record_is_refused_clearly(message):
    with pytest.raises(BadRecord):
        parse(message)


def test_a_record_without_its_own_time_takes_the_log_events():
    m = json.loads(FAILED[0])
    del m["event_timestamp"]
    assert parse(json.dumps(m), fallback_ms=T0).event["timestamp"] == datetime.fromtimestamp(T0 / 1000, UTC)


def test_names_and_arns():
    assert execution_name(ARN) == "7a1c2e"
    assert execution_name("arn:aws:states:us-east-1:1:execution:m:run-1") == "run-1"
    assert machine_of(ARN) == SM and machine_of("arn:aws:states:us-east-1:1:stateMachine:m") is None
    assert log_group_name("arn:aws:logs:us-east-1:1:log-group:/aws/vendedlogs/states/card-auth:*") == (
        "/aws/vendedlogs/states/card-auth"
    )
    with pytest.raises(ValueError, match="not a log group ARN"):
        log_group_name("card-auth")


def test_which_machines_are_read_from_their_logs():
    api, logs = CollectOptions(), CollectOptions(history_source="logs")
    std = {"type": "STANDARD", "logging_level": "ALL", "log_group_arn": "arn:g"}
    assert reads_logs({"type": "EXPRESS"}, api)
    assert not reads_logs(std, api) and reads_logs(std, logs)
    assert not reads_logs({**std, "logging_level": "ERROR"}, logs)  # the API is its only whole record
    assert not reads_logs({**std, "log_group_arn": None}, logs)


def test_the_window_starts_at_the_oldest_stream_still_delivering():
    now = datetime(2026, 1, 2, tzinfo=UTC)
    wm, opts = now - timedelta(minutes=5), CollectOptions(lookback=timedelta(minutes=10))
    assert window_start(opts, None, [], now) == now - timedelta(days=7)
    assert window_start(opts, wm, [], now) == wm - timedelta(minutes=10)
    lagging, ended = wm - timedelta(hours=3), wm - timedelta(days=3)
    assert window_start(opts, wm, [wm, lagging, ended, None], now) == lagging - timedelta(minutes=10)
    assert window_start(CollectOptions(since=now - timedelta(days=30)), wm, [], now) == now - timedelta(
        days=30
    )


def test_a_finished_whole_execution_is_settled_until_higher_ids_arrive():
    known = {"status": "FAILED", "history_complete": True, "event_count": 8}
    records = [parse(m) for m in FAILED]
    assert is_settled(known, records)
    assert not is_settled({**known, "status": "RUNNING"}, records)
    assert not is_settled({**known, "history_complete": False}, records)
    assert not is_settled(known, [parse(rec(9, "ExecutionRedriven", 8, redrive="1"))])
    assert not is_settled(None, records)
