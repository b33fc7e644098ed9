"""History normalization: boto3-shaped Step Functions records → executions, state_runs, events rows."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import botocore.session
import pytest

from collectors.stepfunctions import normalize as history
from collectors.stepfunctions.normalize import (
    EVENT_KINDS,
    NormalizedExecution,
    event_rows,
    normalize_execution,
    state_runs_from_events,
)
from lake.schema import EVENTS, EXECUTIONS, STATE_RUNS
from lake.store import Lake
from lake.tables import to_table

T0 = datetime(2025, 3, 1, 23, 59, 58, tzinfo=UTC)  # runs past midnight: partition = start date
SM_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
ARN = "arn:aws:states:us-east-1:123456789012:execution:orders:e1"
SM = {
    "state_machine_arn": SM_ARN,
    "name": "orders",
    "domain": "payments",
    "account_id": "123456789012",
    "region": "us-east-1",
}
COLLECTED = datetime(2025, 3, 3, tzinfo=UTC)
SECRET_IN = '{"card": "4111-SECRET-IN"}'
SECRET_OUT = '{"token": "SECRET-OUT-99"}'


def _dkey(t: str) -> str:
    if t.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if t.endswith("StateExited"):
        return "stateExitedEventDetails"
    return t[0].lower() + t[1:] + "EventDetails"


class History:
    """Builds GetExecutionHistory events in boto3's shape; `prev` defaults to the last event."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def __call__(self, type_: str, prev: int | None = None, **details) -> int:
        eid = len(self.events) + 1
        ev = {
            "timestamp": T0 + timedelta(milliseconds=250 * eid),
            "type": type_,
            "id": eid,
            "previousEventId": eid - 1 if prev is None else prev,
        }
        if details:
            ev[_dkey(type_)] = details
        self.events.append(ev)
        return eid

    def start(self) -> int:
        return self(
            "ExecutionStarted",
            0,
            input=SECRET_IN,
            inputDetails={"truncated": False},
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )

    def enter(self, state_type: str, name: str, prev: int | None = None) -> int:
        return self(
            f"{state_type}StateEntered", prev, name=name, input=SECRET_IN, inputDetails={"truncated": False}
        )

    def exit(self, state_type: str, name: str, prev: int | None = None) -> int:
        return self(
            f"{state_type}StateExited", prev, name=name, output=SECRET_OUT, outputDetails={"truncated": False}
        )

    def lambda_task(self, name: str, prev: int | None = None, fail: list[str] | None = None) -> int:
        """A Task on lambda:invoke; each entry of `fail` is one failed attempt (its error), then success."""
        self.enter("Task", name, prev)
        for err in fail or []:
            self(
                "TaskScheduled",
                resourceType="lambda",
                resource="invoke",
                region="us-east-1",
                parameters=SECRET_IN,
                timeoutInSeconds=60,
            )
            self("TaskStarted", resourceType="lambda", resource="invoke")
            self("TaskFailed", resourceType="lambda", resource="invoke", error=err, cause=f"{err} cause")
        self(
            "TaskScheduled",
            resourceType="lambda",
            resource="invoke",
            region="us-east-1",
            parameters=SECRET_IN,
        )
        self("TaskStarted", resourceType="lambda", resource="invoke")
        self(
            "TaskSucceeded",
            resourceType="lambda",
            resource="invoke",
            output=SECRET_OUT,
            outputDetails={"truncated": False},
        )
        return self.exit("Task", name)

    def at(self, eid: int) -> datetime:
        return self.events[eid - 1]["timestamp"]


def describe(h: History, status: str, **extra) -> dict:
    """A DescribeExecution response for the history."""
    d = {
        "executionArn": ARN,
        "stateMachineArn": SM_ARN,
        "name": "e1",
        "status": status,
        "startDate": T0,
        "input": SECRET_IN,
        "inputDetails": {"included": True},
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
        "traceHeader": "Root=1-67a1b2c3-0123456789abcdef01234567;Sampled=1",
    }
    if status != "RUNNING" and h.events:
        d["stopDate"] = h.events[-1]["timestamp"]
    if status == "SUCCEEDED":
        d.update(output=SECRET_OUT, outputDetails={"included": True})
    d.update(extra)
    return d


def list_item(h: History, status: str, **extra) -> dict:
    """A ListExecutions item: no error, cause, input or output."""
    d = {"executionArn": ARN, "stateMachineArn": SM_ARN, "name": "e1", "status": status, "startDate": T0}
    d.update(extra)
    return d


def norm(execution: dict, h: History, **kw) -> NormalizedExecution:
    return normalize_execution(execution, h.events, state_machine=SM, collected_at=COLLECTED, **kw)


def runs_by_name(n: NormalizedExecution) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in n.state_runs:
        assert r["state_name"] not in out, "use the list when a state is visited more than once"
        out[r["state_name"]] = r
    return out


# --- the simple paths -------------------------------------------------------------------------


def test_success_rows_have_the_lake_columns_and_values():
    h = History()
    h.start()
    t_in = h.events[-1]
    t_exit = h.lambda_task("Charge", prev=0)
    p_exit = h.exit("Pass", "Done", h.enter("Pass", "Done", t_exit))
    h("ExecutionSucceeded", p_exit, output=SECRET_OUT, outputDetails={"truncated": False})
    n = norm(describe(h, "SUCCEEDED"), h)

    extra = {"domain", "date"}
    assert set(n.execution) == set(EXECUTIONS.names) | extra
    assert all(set(r) == set(STATE_RUNS.names) | extra for r in n.state_runs)
    assert all(set(r) == set(EVENTS.names) | extra for r in n.events)
    assert {r["date"] for r in [n.execution, *n.state_runs, *n.events]} == {"2025-03-01"}
    assert {r["domain"] for r in [n.execution, *n.state_runs, *n.events]} == {"payments"}

    e = n.execution
    assert e["status"] == "SUCCEEDED" and e["error"] is None and e["failed_state"] is None
    assert e["duration_ms"] == 250 * len(h.events)  # startDate T0, event n at T0 + n*250 ms
    assert e["trace_id"] == "1-67a1b2c3-0123456789abcdef01234567"
    assert e["input_sha256"] == hashlib.sha256(SECRET_IN.encode()).hexdigest()
    assert e["input_bytes"] == len(SECRET_IN.encode())
    assert e["output_sha256"] == hashlib.sha256(SECRET_OUT.encode()).hexdigest()
    assert e["input"] is None and e["output"] is None
    assert e["event_count"] == len(h.events) == len(n.events)
    assert e["history_complete"] is True and e["collected_at"] == COLLECTED
    assert (e["state_machine_name"], e["account_id"], e["region"]) == ("orders", "123456789012", "us-east-1")

    runs = runs_by_name(n)
    charge = runs["Charge"]
    assert charge["status"] == "SUCCEEDED" and charge["attempts"] == 1
    assert charge["resource"] == "lambda:invoke" and charge["next_state"] == "Done"
    assert (charge["entered_event_id"], charge["exited_event_id"]) == (2, t_exit)
    assert charge["duration_ms"] == 250 * (t_exit - 2)
    assert charge["parent_state"] is None and charge["iteration"] is None
    assert runs["Done"]["state_type"] == "Pass" and runs["Done"]["next_state"] is None
    assert t_in["type"] == "ExecutionStarted"

    ev = {r["event_id"]: r for r in n.events}
    assert ev[2]["state_name"] == "Charge" and ev[2]["type"] == "TaskStateEntered"
    assert json.loads(ev[2]["details_json"]) == {"name": "Charge", "inputDetails": {"truncated": False}}
    assert ev[3]["state_name"] is None and ev[3]["previous_event_id"] == 2
    assert json.loads(ev[3]["details_json"])["resource"] == "invoke"


def test_fail_state_fails_the_execution_there():
    h = History()
    h.start()
    x = h.exit("Pass", "Check", h.enter("Pass", "Check", 0))
    f = h.enter("Fail", "Reject", x)
    h("ExecutionFailed", f, error="Order.Rejected", cause="amount too large")
    n = norm(describe(h, "FAILED", error="Order.Rejected", cause="amount too large"), h)
    runs = runs_by_name(n)
    assert runs["Check"]["next_state"] == "Reject"
    reject = runs["Reject"]
    assert reject["status"] == "FAILED" and reject["exited_event_id"] is None
    assert (reject["error"], reject["cause"]) == ("Order.Rejected", "amount too large")
    assert n.execution["failed_state"] == "Reject"
    assert (n.execution["error"], n.execution["cause"]) == ("Order.Rejected", "amount too large")


def test_task_retried_twice_then_succeeded():
    h = History()
    h.start()
    x = h.lambda_task("Charge", prev=0, fail=["Lambda.TooManyRequestsException", "Lambda.ServiceException"])
    h("ExecutionSucceeded", x, output=SECRET_OUT, outputDetails={"truncated": False})
    r = runs_by_name(norm(describe(h, "SUCCEEDED"), h))["Charge"]
    assert r["attempts"] == 3 and r["status"] == "SUCCEEDED"
    assert r["error"] == "Lambda.ServiceException"  # the last failed attempt, kept for "why retried"


def test_task_retried_then_failed():
    h = History()
    h.start()
    h.enter("Task", "Charge", 0)
    for err in ("Lambda.ServiceException", "Lambda.ServiceException", "Lambda.Unknown"):
        h("TaskScheduled", resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
        h("TaskStarted", resourceType="lambda", resource="invoke")
        last = h("TaskFailed", resourceType="lambda", resource="invoke", error=err, cause=f"{err}: boom")
    h("ExecutionFailed", last, error="Lambda.Unknown", cause="Lambda.Unknown: boom")
    n = norm(list_item(h, "FAILED", stopDate=h.at(last + 1)), h)
    r = runs_by_name(n)["Charge"]
    assert (r["attempts"], r["status"]) == (3, "FAILED")
    assert (r["error"], r["cause"]) == ("Lambda.Unknown", "Lambda.Unknown: boom")
    assert r["exited_event_id"] is None and r["exited_time"] == h.at(last + 1)
    # a ListExecutions item has no error/cause: they come from the history
    assert (n.execution["error"], n.execution["cause"]) == ("Lambda.Unknown", "Lambda.Unknown: boom")
    assert n.execution["failed_state"] == "Charge"


def test_catch_moves_to_the_catch_target():
    h = History()
    h.start()
    h.enter("Task", "Charge", 0)
    h("TaskScheduled", resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    h("TaskStarted", resourceType="lambda", resource="invoke")
    h(
        "TaskFailed",
        resourceType="lambda",
        resource="invoke",
        error="Card.Declined",
        cause="insufficient funds",
    )
    x = h.exit("Task", "Charge")
    y = h.exit("Pass", "Refund", h.enter("Pass", "Refund", x))
    h("ExecutionSucceeded", y)
    n = norm(describe(h, "SUCCEEDED"), h)
    r = runs_by_name(n)
    assert r["Charge"]["status"] == "CAUGHT" and r["Charge"]["next_state"] == "Refund"
    assert r["Charge"]["error"] == "Card.Declined" and r["Charge"]["exited_event_id"] == x
    assert r["Refund"]["status"] == "SUCCEEDED"
    assert n.execution["failed_state"] is None


def test_task_timeout():
    h = History()
    h.start()
    h.enter("Task", "Review", 0)
    h(
        "TaskScheduled",
        resourceType="lambda",
        resource="invoke.waitForTaskToken",
        region="us-east-1",
        parameters="{}",
        timeoutInSeconds=1,
    )
    h("TaskStarted", resourceType="lambda", resource="invoke.waitForTaskToken")
    h("TaskSubmitted", resourceType="lambda", resource="invoke.waitForTaskToken", output="{}")
    t = h("TaskTimedOut", resourceType="lambda", resource="invoke.waitForTaskToken", error="States.Timeout")
    h("ExecutionFailed", t, error="States.Timeout")
    n = norm(describe(h, "FAILED", error="States.Timeout"), h)
    r = runs_by_name(n)["Review"]
    assert r["status"] == "TIMED_OUT" and r["error"] == "States.Timeout"
    assert r["resource"] == "lambda:invoke.waitForTaskToken"
    assert n.execution["failed_state"] == "Review"


def test_execution_timed_out_without_stop_date():
    h = History()
    h.start()
    w = h.enter("Wait", "Cooloff", 0)
    end = h("ExecutionTimedOut", w)  # moto: empty details, no stopDate on the execution
    h.events[-1].pop("executionTimedOutEventDetails", None)
    n = norm(list_item(h, "TIMED_OUT"), h)
    e = n.execution
    assert e["stop_time"] == h.at(end) and e["duration_ms"] == 250 * end
    assert e["error"] == "States.Timeout" and e["failed_state"] == "Cooloff"
    r = runs_by_name(n)["Cooloff"]
    assert r["status"] == "TIMED_OUT" and r["exited_time"] == h.at(end)


def test_aborted_execution():
    h = History()
    h.start()
    h.enter("Task", "Ship", 0)
    h(
        "ActivityScheduled",
        resource="arn:aws:states:us-east-1:123456789012:activity:ship",
        input="{}",
        inputDetails={"truncated": False},
        timeoutInSeconds=300,
    )
    h("ActivityStarted", workerName="worker-1")
    h("ExecutionAborted", error="Operator", cause="stopped by on-call")
    n = norm(list_item(h, "ABORTED", stopDate=h.events[-1]["timestamp"]), h)
    r = runs_by_name(n)["Ship"]
    assert r["status"] == "ABORTED" and r["resource"] == "arn:aws:states:us-east-1:123456789012:activity:ship"
    assert (n.execution["error"], n.execution["cause"]) == ("Operator", "stopped by on-call")
    assert n.execution["failed_state"] == "Ship"


def test_running_execution():
    h = History()
    h.start()
    x = h.lambda_task("Charge", prev=0)
    h.enter("Task", "Ship", x)
    h("TaskScheduled", resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    n = norm(describe(h, "RUNNING"), h)
    assert n.execution["stop_time"] is None and n.execution["duration_ms"] is None
    assert n.execution["output_sha256"] is None and n.execution["failed_state"] is None
    r = runs_by_name(n)["Ship"]
    assert r["status"] == "RUNNING" and r["exited_time"] is None and r["duration_ms"] is None
    assert r["attempts"] == 1


# --- nesting ----------------------------------------------------------------------------------


def test_map_with_three_concurrent_iterations():
    h = History()
    h.start()
    h.enter("Map", "Items", 0)
    started = h("MapStateStarted", length=3)
    it = {i: h("MapIterationStarted", started, name="Items", index=i) for i in range(3)}
    # iterations interleave: first states of all three, then second states in reverse order
    a = {i: h.enter("Pass", "Price", it[i]) for i in range(3)}
    ax = {i: h.exit("Pass", "Price", a[i]) for i in range(3)}
    bx = {}
    for i in (2, 1, 0):
        bx[i] = h.exit("Pass", "Tax", h.enter("Pass", "Tax", ax[i]))
    ends = [h("MapIterationSucceeded", bx[i], name="Items", index=i) for i in range(3)]
    ok = h("MapStateSucceeded", ends[-1])
    mx = h.exit("Map", "Items", ok)
    h("ExecutionSucceeded", mx)
    n = norm(describe(h, "SUCCEEDED"), h)

    inner = [r for r in n.state_runs if r["parent_state"] == "Items"]
    assert sorted((r["state_name"], r["iteration"]) for r in inner) == [
        ("Price", 0),
        ("Price", 1),
        ("Price", 2),
        ("Tax", 0),
        ("Tax", 1),
        ("Tax", 2),
    ]
    assert all(r["status"] == "SUCCEEDED" for r in inner)
    for i in range(3):  # next_state stays inside the iteration
        price = next(r for r in inner if r["state_name"] == "Price" and r["iteration"] == i)
        assert price["next_state"] == "Tax" and price["exited_event_id"] == ax[i]
    m = next(r for r in n.state_runs if r["state_name"] == "Items")
    assert m["parent_state"] is None and m["status"] == "SUCCEEDED" and m["exited_event_id"] == mx
    assert m["state_type"] == "Map" and m["attempts"] == 1


def _parallel_history(h: History) -> dict[str, int]:
    """Parallel `Split`: branch 0 starts at `Left`, branch 1 at `Right`; Right's events come first."""
    h.start()
    h.enter("Parallel", "Split", 0)
    ps = h("ParallelStateStarted")
    r1 = h.enter("Pass", "Right", ps)
    l1 = h.enter("Task", "Left", ps)
    ls = h("TaskScheduled", l1, resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    r1x = h.exit("Pass", "Right", r1)
    r2 = h.enter("Pass", "Right2", r1x)
    lst = h("TaskStarted", ls, resourceType="lambda", resource="invoke")
    r2x = h.exit("Pass", "Right2", r2)
    lsu = h("TaskSucceeded", lst, resourceType="lambda", resource="invoke", output="{}")
    lx = h.exit("Task", "Left", lsu)
    ok = h("ParallelStateSucceeded", lx)
    px = h.exit("Parallel", "Split", ok)
    h("ExecutionSucceeded", px)
    return {"r2x": r2x, "lsu": lsu, "lst": lst}


PARALLEL_ASL = {
    "StartAt": "Split",
    "States": {
        "Split": {
            "Type": "Parallel",
            "End": True,
            "Branches": [
                {
                    "StartAt": "Left",
                    "States": {
                        "Left": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
                    },
                },
                {
                    "StartAt": "Right",
                    "States": {
                        "Right": {"Type": "Pass", "Next": "Right2"},
                        "Right2": {"Type": "Pass", "End": True},
                    },
                },
            ],
        }
    },
}


def test_parallel_with_interleaved_branches():
    h = History()
    ids = _parallel_history(h)
    assert ids["lst"] < ids["r2x"] < ids["lsu"]  # the branches' events interleave
    runs = state_runs_from_events(h.events, execution_arn=ARN, state_machine_arn=SM_ARN)
    by = {r["state_name"]: r for r in runs}
    assert {k: (v["parent_state"], v["status"]) for k, v in by.items()} == {
        "Split": (None, "SUCCEEDED"),
        "Right": ("Split", "SUCCEEDED"),
        "Right2": ("Split", "SUCCEEDED"),
        "Left": ("Split", "SUCCEEDED"),
    }
    # without the definition: branches numbered in order of appearance
    assert (by["Right"]["iteration"], by["Right2"]["iteration"], by["Left"]["iteration"]) == (0, 0, 1)
    assert by["Right"]["next_state"] == "Right2" and by["Left"]["resource"] == "lambda:invoke"
    # with it: definition order, whether passed as a dict or as the state machine's JSON text
    for definition in (PARALLEL_ASL, json.dumps(PARALLEL_ASL)):
        by = {
            r["state_name"]: r
            for r in state_runs_from_events(
                h.events, execution_arn=ARN, state_machine_arn=SM_ARN, definition=definition
            )
        }
        assert (by["Right"]["iteration"], by["Right2"]["iteration"], by["Left"]["iteration"]) == (1, 1, 0)
    n = normalize_execution(
        describe(h, "SUCCEEDED"),
        h.events,
        state_machine={**SM, "definition": json.dumps(PARALLEL_ASL)},
        collected_at=COLLECTED,
    )
    assert {r["state_name"]: r["iteration"] for r in n.state_runs}["Left"] == 0


def test_map_inside_parallel():
    # the shape moto's engine produces for Parallel[ [A, A2], [Map M of X] ] then Succeed Z
    h = History()
    h.start()
    h.enter("Parallel", "P", 0)
    ps = h("ParallelStateStarted")
    m = h.enter("Map", "M", ps)
    a = h.enter("Pass", "A", ps)
    ms = h("MapStateStarted", m, length=2)
    it0 = h("MapIterationStarted", ms, name="M", index=0)
    ax = h.exit("Pass", "A", a)
    x0 = h.enter("Pass", "X", it0)
    it1 = h("MapIterationStarted", ms, name="M", index=1)
    x1 = h.enter("Pass", "X", it1)
    a2x = h.exit("Pass", "A2", h.enter("Pass", "A2", ax))
    x0x = h.exit("Pass", "X", x0)
    x1x = h.exit("Pass", "X", x1)
    h("MapIterationSucceeded", x0x, name="M", index=0)
    i1 = h("MapIterationSucceeded", x1x, name="M", index=1)
    mx = h.exit("Map", "M", h("MapStateSucceeded", i1))
    px = h.exit("Parallel", "P", h("ParallelStateSucceeded", mx))
    zx = h.exit("Succeed", "Z", h.enter("Succeed", "Z", px))
    h("ExecutionSucceeded", zx)
    assert a2x < x0x
    runs = state_runs_from_events(h.events, execution_arn=ARN, state_machine_arn=SM_ARN)
    got = sorted((r["state_name"], r["parent_state"], r["iteration"], r["status"]) for r in runs)
    assert got == [
        ("A", "P", 1, "SUCCEEDED"),
        ("A2", "P", 1, "SUCCEEDED"),
        ("M", "P", 0, "SUCCEEDED"),
        ("P", None, None, "SUCCEEDED"),
        ("X", "M", 0, "SUCCEEDED"),
        ("X", "M", 1, "SUCCEEDED"),
        ("Z", None, None, "SUCCEEDED"),
    ]
    by = {r["state_name"]: r for r in runs}
    assert by["P"]["next_state"] == "Z" and by["A"]["next_state"] == "A2" and by["M"]["exited_event_id"] == mx


def test_map_sequential_iterations_chain_through_the_previous_iteration():
    # moto chains MapIterationStarted of iteration n+1 to the last event of iteration n
    h = History()
    h.start()
    h.enter("Map", "M", 0)
    ms = h("MapStateStarted", length=2)
    it0 = h("MapIterationStarted", ms, name="M", index=0)
    x0 = h.exit("Pass", "X", h.enter("Pass", "X", it0))
    h("MapIterationSucceeded", x0, name="M", index=0)
    it1 = h("MapIterationStarted", x0, name="M", index=1)
    x1 = h.exit("Pass", "X", h.enter("Pass", "X", it1))
    i1 = h("MapIterationSucceeded", x1, name="M", index=1)
    h("MapStateSucceeded", i1)
    mx = h.exit("Map", "M", i1)
    h("ExecutionSucceeded", mx)
    runs = state_runs_from_events(h.events, execution_arn=ARN, state_machine_arn=SM_ARN)
    assert [(r["state_name"], r["parent_state"], r["iteration"]) for r in runs] == [
        ("M", None, None),
        ("X", "M", 0),
        ("X", "M", 1),
    ]
    assert runs[0]["exited_event_id"] == mx and runs[0]["status"] == "SUCCEEDED"


def test_fail_inside_map_uncaught_and_caught():
    h = History()
    h.start()
    h.enter("Map", "M", 0)
    ms = h("MapStateStarted", length=1)
    f = h.enter("Fail", "Bad", h("MapIterationStarted", ms, name="M", index=0))
    h("MapIterationFailed", f, name="M", index=0)
    mf = h("MapStateFailed", f)
    h("ExecutionFailed", mf, error="Item.Bad", cause="item 0 is bad")
    n = norm(describe(h, "FAILED", error="Item.Bad", cause="item 0 is bad"), h)
    by = runs_by_name(n)
    assert (by["M"]["status"], by["M"]["error"]) == ("FAILED", "Item.Bad")
    assert (by["Bad"]["status"], by["Bad"]["error"], by["Bad"]["iteration"]) == ("FAILED", "Item.Bad", 0)
    assert n.execution["failed_state"] == "M"  # the top-level state: what on-call searches by

    h = History()
    h.start()
    h.enter("Map", "M", 0)
    ms = h("MapStateStarted", length=2)
    it = [h("MapIterationStarted", ms, name="M", index=i) for i in range(2)]
    f = [h.enter("Fail", "Bad", it[i]) for i in range(2)]
    h("MapIterationFailed", f[0], name="M", index=0)
    h("MapIterationFailed", f[1], name="M", index=1)
    mx = h.exit("Map", "M", h("MapStateFailed", f[1]))
    hx = h.exit("Pass", "Handle", h.enter("Pass", "Handle", mx))
    h("ExecutionSucceeded", hx)
    asl = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Next": "Handle",
                "ItemProcessor": {
                    "StartAt": "Bad",
                    "States": {"Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "bad item"}},
                },
            },
            "Handle": {"Type": "Pass", "End": True},
        },
    }
    runs = state_runs_from_events(h.events, execution_arn=ARN, state_machine_arn=SM_ARN, definition=asl)
    m = runs[0]
    assert (m["status"], m["next_state"], m["exited_event_id"]) == ("CAUGHT", "Handle", mx)
    assert m["error"] == "Item.Bad"  # MapStateFailed has no details: the failing child's error
    bad = [r for r in runs if r["state_name"] == "Bad"]
    assert [(r["status"], r["error"], r["iteration"]) for r in bad] == [
        ("FAILED", "Item.Bad", 0),
        ("FAILED", "Item.Bad", 1),
    ]


def test_parallel_branch_failure_aborts_the_sibling():
    h = History()
    h.start()
    h.enter("Parallel", "P", 0)
    ps = h("ParallelStateStarted")
    h.enter("Wait", "Hold", ps)
    f = h.enter("Fail", "Bad", ps)
    pf = h("ParallelStateFailed", f)
    h("ExecutionFailed", pf, error="E", cause="C")
    n = norm(describe(h, "FAILED", error="E", cause="C"), h)
    by = runs_by_name(n)
    assert {k: v["status"] for k, v in by.items()} == {"P": "FAILED", "Hold": "ABORTED", "Bad": "FAILED"}
    assert by["P"]["error"] == "E" and by["Bad"]["error"] == "E" and by["Hold"]["error"] is None
    assert by["Hold"]["exited_time"] == h.at(pf)
    assert n.execution["failed_state"] == "P"


def test_redriven_execution_keeps_the_failed_visit():
    h = History()
    h.start()
    x = h.lambda_task("Charge", prev=0)
    t = h.enter("Task", "Ship", x)
    h("TaskScheduled", t, resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    fail = h("TaskFailed", resourceType="lambda", resource="invoke", error="Carrier.Down", cause="503")
    ef = h("ExecutionFailed", fail, error="Carrier.Down", cause="503")
    red = h("ExecutionRedriven", ef, redriveCount=1)
    t2 = h.enter("Task", "Ship", red)
    h("TaskScheduled", t2, resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    h("TaskSucceeded", resourceType="lambda", resource="invoke", output="{}")
    h("ExecutionSucceeded", h.exit("Task", "Ship"))
    n = norm(list_item(h, "SUCCEEDED", stopDate=h.events[-1]["timestamp"], redriveDate=h.at(red)), h)
    ships = [r for r in n.state_runs if r["state_name"] == "Ship"]
    assert [(r["entered_event_id"], r["status"], r["error"]) for r in ships] == [
        (t, "FAILED", "Carrier.Down"),
        (t2, "SUCCEEDED", None),
    ]
    assert ships[1]["parent_state"] is None
    e = n.execution
    assert e["redrive_count"] == 1 and e["redrive_date"] == h.at(red)  # count from the history
    assert e["status"] == "SUCCEEDED" and e["failed_state"] is None and e["error"] is None
    assert norm(describe(h, "SUCCEEDED", redriveCount=1), h).execution["redrive_count"] == 1


# --- robustness and privacy -------------------------------------------------------------------


def test_unknown_event_type_is_kept_and_ignored_for_state_runs(caplog):
    h = History()
    h.start()
    h.enter("Task", "Charge", 0)
    u1 = h("FancyNewThing", name="Charge", input=SECRET_IN, note="kept")
    h("TaskScheduled", u1, resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    u2 = h("FancyNewThing", note="again")
    h("TaskSucceeded", u2, resourceType="lambda", resource="invoke", output="{}")
    h("ExecutionSucceeded", h.exit("Task", "Charge"))
    with caplog.at_level(logging.WARNING, logger="collectors.stepfunctions.normalize"):
        n = norm(describe(h, "SUCCEEDED"), h)
    warnings = [r for r in caplog.records if "FancyNewThing" in r.getMessage()]
    assert len(warnings) == 1
    r = runs_by_name(n)["Charge"]
    assert (r["status"], r["attempts"], r["resource"]) == ("SUCCEEDED", 1, "lambda:invoke")
    ev = n.events[u1 - 1]
    assert ev["type"] == "FancyNewThing" and ev["state_name"] == "Charge"
    assert json.loads(ev["details_json"]) == {"name": "Charge", "note": "kept"}  # input stripped


def _all_text(n: NormalizedExecution) -> str:
    return json.dumps([n.execution, n.state_runs, n.events], default=str)


def test_payloads_stripped_by_default_and_kept_on_opt_in():
    h = History()
    h.start()
    x = h.lambda_task("Charge", prev=0, fail=["Lambda.ServiceException"])
    h("ExecutionSucceeded", x, output=SECRET_OUT, outputDetails={"truncated": False})
    off = norm(describe(h, "SUCCEEDED"), h)
    text = _all_text(off)
    assert "SECRET-IN" not in text and "SECRET-OUT" not in text
    assert off.execution["input_sha256"] == hashlib.sha256(SECRET_IN.encode()).hexdigest()
    assert off.execution["output_bytes"] == len(SECRET_OUT.encode())
    failed = next(r for r in off.events if r["type"] == "TaskFailed")
    assert json.loads(failed["details_json"])["cause"] == "Lambda.ServiceException cause"  # kept
    exited = next(r for r in off.events if r["type"] == "TaskStateExited")
    assert json.loads(exited["details_json"]) == {"name": "Charge", "outputDetails": {"truncated": False}}

    on = norm(describe(h, "SUCCEEDED"), h, include_payloads=True)
    assert on.execution["input"] == SECRET_IN and on.execution["output"] == SECRET_OUT
    sched = next(r for r in on.events if r["type"] == "TaskScheduled")
    assert json.loads(sched["details_json"])["parameters"] == SECRET_IN
    assert on.execution["input_sha256"] == off.execution["input_sha256"]
    # event_rows alone strips the same way
    assert "SECRET" not in json.dumps(event_rows(h.events, execution_arn=ARN), default=str)


def test_input_hash_from_history_or_unknown():
    h = History()
    h.start()
    h(
        "ExecutionSucceeded",
        h.exit("Pass", "P", h.enter("Pass", "P", 0)),
        output=SECRET_OUT,
        outputDetails={"truncated": False},
    )
    # ListExecutions item: the history (fetched with data) supplies input and output
    e = norm(list_item(h, "SUCCEEDED"), h).execution
    assert e["input_sha256"] == hashlib.sha256(SECRET_IN.encode()).hexdigest()
    assert e["output_sha256"] == hashlib.sha256(SECRET_OUT.encode()).hexdigest()
    assert e["stop_time"] == h.events[-1]["timestamp"]
    # DescribeExecution with inputDetails.included=false: unknown, not the hash of ""
    e = norm(describe(h, "SUCCEEDED", input="", inputDetails={"included": False}), h).execution
    assert e["input_sha256"] is None and e["input_bytes"] is None
    # history fetched without data (includeExecutionData=False): nothing to hash
    for ev in h.events:
        for d in ev.values():
            if isinstance(d, dict):
                d.pop("input", None)
                d.pop("output", None)
    e = norm(list_item(h, "SUCCEEDED"), h).execution
    assert e["input_sha256"] is None and e["output_sha256"] is None


def test_partition_date_is_utc_start_date():
    h = History()
    h.start()
    h("ExecutionSucceeded", h.exit("Pass", "P", h.enter("Pass", "P", 0)))
    start = T0.astimezone(timezone(timedelta(hours=5)))  # 2025-03-02 locally, 2025-03-01 in UTC
    n = norm(describe(h, "SUCCEEDED", startDate=start), h)
    assert n.execution["date"] == "2025-03-01"


def test_rows_fit_the_lake(tmp_path):
    h = History()
    _parallel_history(h)
    n = norm(describe(h, "SUCCEEDED"), h)
    lake = Lake(str(tmp_path))
    for table, rows in (("events", n.events), ("state_runs", n.state_runs), ("executions", [n.execution])):
        assert to_table(table, rows).num_rows == len(rows)
        assert lake.write_partitioned(table, rows, replace_executions=True) == 1
        back = lake.read(table, "payments", "2025-03-01")
        assert back.num_rows == len(rows)
    assert lake.read("executions").column("status").to_pylist() == ["SUCCEEDED"]


# --- the service model ------------------------------------------------------------------------


def _model():
    return botocore.session.get_session().get_service_model("stepfunctions")


def test_every_history_event_type_is_handled_and_mapped_to_its_details_key():
    model = _model()
    types = model.shape_for("HistoryEventType").enum
    members = model.shape_for("HistoryEvent").members
    keys = history.details_keys()
    assert set(keys) == set(types) and len(types) > 50
    assert set(EVENT_KINDS) == set(types), "a new HistoryEventType needs a place in EVENT_KINDS"
    for t in types:
        key = keys[t]
        if key is None:  # no details shape for this type in the model
            assert not any(m.lower().startswith(t.lower()) for m in members), t
        else:
            assert key in members and key.endswith("EventDetails"), t
    # every details member of HistoryEvent is reached by some type
    detail_members = {m for m in members if m.endswith("EventDetails")}
    assert detail_members == {k for k in keys.values() if k}


def _fill(shape) -> object:
    """A value for a details member: payload text where the model marks it sensitive."""
    if shape.type_name == "string":
        return (
            "SECRET-PAYLOAD"
            if shape.serialization.get("sensitive") or shape.metadata.get("sensitive")
            else "x"
        )
    if shape.type_name == "map":
        return {"v": "SECRET-PAYLOAD"}  # assignedVariables: variable values
    return {} if shape.type_name == "structure" else 1


def test_every_event_type_flows_through_without_warnings(caplog):
    """One event of each type (with its details shape filled with payload text) strips and replays cleanly."""
    model = _model()
    members = model.shape_for("HistoryEvent").members
    h = History()
    h.start()
    for t in model.shape_for("HistoryEventType").enum:
        key = history.details_keys()[t]
        ev = {"timestamp": T0, "type": t, "id": len(h.events) + 1, "previousEventId": len(h.events)}
        if key:
            ev[key] = {m: _fill(s) for m, s in members[key].members.items()}
        h.events.append(ev)
    with caplog.at_level(logging.WARNING, logger="collectors.stepfunctions.normalize"):
        runs = state_runs_from_events(h.events, execution_arn=ARN, state_machine_arn=SM_ARN)
        rows = event_rows(h.events, execution_arn=ARN)
    assert not caplog.records
    assert len(rows) == len(h.events) and runs
    for r in rows:
        assert "SECRET-PAYLOAD" not in (r["details_json"] or "").replace(
            '"error":"SECRET-PAYLOAD"', ""
        ).replace('"cause":"SECRET-PAYLOAD"', ""), r["type"]
    # payload members named in the brief are all stripped; error/cause and truncation flags kept
    stripped = set().union(*history.stripped_members().values())
    assert {"input", "output", "parameters", "assignedVariables"} <= stripped
    assert not {"error", "cause", "inputDetails", "outputDetails", "name", "resource"} & stripped


def test_expired_history_still_gives_the_execution_row():
    h = History()
    n = norm(
        describe(h, "FAILED", stopDate=T0 + timedelta(seconds=5), error="E", cause="C"),
        h,
        history_complete=False,
        history_error="ExecutionDoesNotExist: history expired",
    )
    e = n.execution
    assert (e["status"], e["error"], e["duration_ms"], e["event_count"]) == ("FAILED", "E", 5000, 0)
    assert e["history_complete"] is False and e["history_error"].startswith("ExecutionDoesNotExist")
    assert n.state_runs == [] and n.events == []


def test_truncated_history_settles_open_visits_from_the_execution_status():
    h = History()
    h.start()
    h.enter("Task", "Charge", 0)
    h("TaskScheduled", resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    n = norm(describe(h, "FAILED", error="E"), h, history_complete=False, history_error="ThrottlingException")
    assert runs_by_name(n)["Charge"]["status"] == "FAILED"  # not RUNNING: the execution is over
    assert n.execution["failed_state"] == "Charge"


def test_descending_history_is_put_in_order():
    h = History()
    h.start()
    h("ExecutionSucceeded", h.lambda_task("Charge", prev=0))
    forward = norm(describe(h, "SUCCEEDED"), h)
    h.events.reverse()  # what GetExecutionHistory(reverseOrder=True) returns
    backward = norm(describe(h, "SUCCEEDED"), h)
    assert backward.state_runs == forward.state_runs and backward.events == forward.events


def test_bad_input_is_named():
    h = History()
    h.start()
    h("ExecutionSucceeded")
    with pytest.raises(ValueError, match="lacks startDate"):
        norm(list_item(h, "SUCCEEDED", startDate=None), h)
    with pytest.raises(ValueError, match="state_machine lacks domain"):
        normalize_execution(
            describe(h, "SUCCEEDED"), h.events, state_machine={"name": "x"}, collected_at=COLLECTED
        )
    bad = [dict(ev) for ev in h.events]
    del bad[1]["type"]
    with pytest.raises(ValueError, match=r"event #1 \(id=2\) lacks type"):
        norm(describe(h, "SUCCEEDED"), type("H", (), {"events": bad})())
    as_text = [{**ev, "timestamp": ev["timestamp"].isoformat()} for ev in h.events]
    with pytest.raises(ValueError, match="str timestamp"):
        state_runs_from_events(as_text, execution_arn=ARN, state_machine_arn=SM_ARN)


def test_parallel_retry_restarts_the_branches():
    h = History()
    h.start()
    h.enter("Parallel", "P", 0)
    ps = h("ParallelStateStarted")
    a = h.enter("Pass", "A", ps)
    b = h.enter("Task", "B", ps)
    h("TaskScheduled", b, resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    tf = h("TaskFailed", resourceType="lambda", resource="invoke", error="Boom", cause="c")
    pf = h("ParallelStateFailed", tf)
    ps2 = h("ParallelStateStarted", pf)
    b2 = h.enter("Task", "B", ps2)
    a2x = h.exit("Pass", "A", h.enter("Pass", "A", ps2))
    h("TaskScheduled", b2, resourceType="lambda", resource="invoke", region="us-east-1", parameters="{}")
    b2x = h.exit("Task", "B", h("TaskSucceeded", resourceType="lambda", resource="invoke", output="{}"))
    px = h.exit("Parallel", "P", h("ParallelStateSucceeded", b2x))
    h("ExecutionSucceeded", px)
    runs = state_runs_from_events(h.events, execution_arn=ARN, state_machine_arn=SM_ARN)
    got = [(r["state_name"], r["iteration"], r["status"], r["error"]) for r in runs]
    assert got == [
        ("P", None, "SUCCEEDED", "Boom"),
        ("A", 0, "ABORTED", None),
        ("B", 1, "FAILED", "Boom"),
        ("B", 0, "SUCCEEDED", None),
        ("A", 1, "SUCCEEDED", None),
    ]
    assert runs[0]["attempts"] == 2 and a < a2x
