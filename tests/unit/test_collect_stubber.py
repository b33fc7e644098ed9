"""What moto cannot do, with botocore's Stubber: paged and 25,000-event histories, throttles that
outlive botocore's retries, expired histories, tagging API denied; plus the pure decisions."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from collectors.aws import Target
from collectors.run import Run
from collectors.source import CollectOptions
from collectors.stepfunctions import fetch as sf
from collectors.stepfunctions.collect import lower_bound, needs_fetch
from collectors.stepfunctions.normalize import normalize_execution
from lake.store import Lake
from stepscope.cli import parse_duration, parse_since
from tests.unit.stubbed import SFN, SM, TAGGING, add_discovery, client, description, target

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DEFINITION = json.dumps({"StartAt": "S0", "States": {"S0": {"Type": "Pass", "End": True}}})


def ex_arn(i: int) -> str:
    return f"arn:aws:states:us-east-1:123456789012:execution:claims:e{i}"


def history(n_events: int, arn_start: datetime = T0) -> list[dict[str, Any]]:
    """ExecutionStarted, Pass state entered/exited pairs, ExecutionSucceeded: `n_events` in all."""
    ev = [
        {
            "id": 1,
            "previousEventId": 0,
            "type": "ExecutionStarted",
            "timestamp": arn_start,
            "executionStartedEventDetails": {"roleArn": "arn:aws:iam::123456789012:role/r"},
        }
    ]
    while len(ev) < n_events - 1:
        i = len(ev) + 1
        ts = arn_start + timedelta(milliseconds=i)
        if len(ev) % 2:
            ev.append(
                {
                    "id": i,
                    "previousEventId": i - 1,
                    "type": "PassStateEntered",
                    "timestamp": ts,
                    "stateEnteredEventDetails": {"name": f"S{i}"},
                }
            )
        else:
            ev.append(
                {
                    "id": i,
                    "previousEventId": i - 1,
                    "type": "PassStateExited",
                    "timestamp": ts,
                    "stateExitedEventDetails": {"name": f"S{i - 1}"},
                }
            )
    ev.append(
        {
            "id": n_events,
            "previousEventId": n_events - 1,
            "type": "ExecutionSucceeded",
            "timestamp": arn_start + timedelta(milliseconds=n_events),
            "executionSucceededEventDetails": {},
        }
    )
    return ev


def add_history_pages(stub: Stubber, arn: str, events: list[dict], page: int = 1000) -> int:
    chunks = [events[i : i + page] for i in range(0, len(events), page)]
    for k, chunk in enumerate(chunks):
        params = {"executionArn": arn, "includeExecutionData": False, "maxResults": 1000}
        if k:
            params["nextToken"] = f"tok{k}"
        resp: dict[str, Any] = {"events": chunk}
        if k + 1 < len(chunks):
            resp["nextToken"] = f"tok{k + 1}"
        stub.add_response("get_execution_history", resp, params)
    return len(chunks)


def describe(i: int, status: str = "SUCCEEDED") -> dict[str, Any]:
    d = {
        "executionArn": ex_arn(i),
        "stateMachineArn": SM,
        "name": f"e{i}",
        "status": status,
        "startDate": T0 + timedelta(minutes=i),
    }
    if status != "RUNNING":
        d["stopDate"] = T0 + timedelta(minutes=i, seconds=5)
    return d


def test_history_pages_are_followed_with_the_token():
    sfn = client("stepfunctions")
    events = history(2500)
    with Stubber(sfn) as stub:
        assert add_history_pages(stub, ex_arn(1), events) == 3
        got, pages = sf.get_history(sfn, ex_arn(1))
        stub.assert_no_pending_responses()
    assert pages == 3
    assert [e["id"] for e in got] == list(range(1, 2501))


def test_payloads_are_requested_only_when_opted_in():
    sfn = client("stepfunctions")
    with Stubber(sfn) as stub:
        stub.add_response(
            "get_execution_history",
            {"events": history(3)},
            {"executionArn": ex_arn(1), "includeExecutionData": True, "maxResults": 1000},
        )
        sf.get_history(sfn, ex_arn(1), include_payloads=True)
        stub.assert_no_pending_responses()


def test_a_25000_event_history_is_read_whole_and_normalised():
    sfn = client("stepfunctions")
    events = history(25_000)
    with Stubber(sfn) as stub:
        stub.add_response("describe_execution", describe(1), {"executionArn": ex_arn(1)})
        add_history_pages(stub, ex_arn(1), events)
        fetched = sf.fetch_execution(sfn, describe(1))
        stub.assert_no_pending_responses()
    assert fetched.pages == 25 and fetched.history_complete
    n = normalize_execution(
        fetched.execution,
        fetched.events,
        state_machine={"domain": "claims", "definition": None},
        collected_at=T0,
    )
    assert n.execution["event_count"] == 25_000
    assert len({e["event_id"] for e in n.events}) == 25_000
    assert len(n.state_runs) == 12_499


def test_throttle_after_botocore_gave_up_restarts_the_history_without_duplicates():
    sfn = client("stepfunctions")
    events = history(2200)
    slept: list[float] = []
    with Stubber(sfn) as stub:
        stub.add_response("describe_execution", describe(1))
        stub.add_response("get_execution_history", {"events": events[:1000], "nextToken": "tok1"})
        stub.add_client_error("get_execution_history", "ThrottlingException", "Rate exceeded", 400)
        stub.add_response("describe_execution", describe(1))
        add_history_pages(stub, ex_arn(1), events)
        fetched = sf.fetch_execution(sfn, describe(1), sleep=slept.append)
        stub.assert_no_pending_responses()
    assert fetched.retries == 1 and len(slept) == 1
    assert [e["id"] for e in fetched.events] == list(range(1, 2201))


def test_throttles_beyond_the_retry_budget_fail_loudly():
    sfn = client("stepfunctions")
    with Stubber(sfn) as stub:
        for _ in range(3):
            stub.add_client_error("describe_execution", "ThrottlingException", "Rate exceeded", 400)
        with pytest.raises(sfn.exceptions.ClientError, match="Rate exceeded"):
            sf.fetch_execution(sfn, describe(1), throttle_retries=2, sleep=lambda s: None)


def test_expired_history_is_recorded_not_fatal():
    sfn = client("stepfunctions")
    with Stubber(sfn) as stub:
        stub.add_client_error("describe_execution", "ExecutionDoesNotExist", "Execution Does Not Exist", 400)
        stub.add_client_error(
            "get_execution_history", "ExecutionDoesNotExist", "Execution Does Not Exist", 400
        )
        fetched = sf.fetch_execution(sfn, describe(1))
    assert not fetched.history_complete and fetched.events == []
    assert fetched.history_error == "ExecutionDoesNotExist: Execution Does Not Exist"
    assert fetched.execution["executionArn"] == ex_arn(1)  # the list item stands in for the describe


def test_tagging_denied_falls_back_to_listing():
    sfn, tagging = client("stepfunctions"), client("resourcegroupstaggingapi")
    other = SM.replace("claims", "misc")
    with Stubber(sfn) as s1, Stubber(tagging) as s2:
        s2.add_client_error("get_resources", "AccessDeniedException", "not allowed", 400)
        s1.add_response(
            "list_state_machines",
            {
                "stateMachines": [
                    {"stateMachineArn": SM, "name": "claims", "type": "STANDARD", "creationDate": T0},
                    {"stateMachineArn": other, "name": "misc", "type": "STANDARD", "creationDate": T0},
                ]
            },
        )
        s1.add_response(
            "list_tags_for_resource", {"tags": [{"key": "domain", "value": "claims"}]}, {"resourceArn": SM}
        )
        s1.add_response(
            "list_tags_for_resource", {"tags": [{"key": "team", "value": "x"}]}, {"resourceArn": other}
        )
        machines, how = sf.discover(sfn, tagging, "domain", None)
    assert machines == [sf.Machine(SM, {"domain": "claims"})]
    assert how == "list (tagging: AccessDeniedException)"


def test_other_tagging_errors_are_not_swallowed():
    sfn, tagging = client("stepfunctions"), client("resourcegroupstaggingapi")
    with Stubber(tagging) as s2:
        s2.add_client_error("get_resources", "InvalidParameterException", "bad filter", 400)
        with pytest.raises(tagging.exceptions.ClientError, match="bad filter"):
            sf.discover(sfn, tagging, "domain", None)


# -- the whole collector over stubbed clients --------------------------------------------------
def stubbed_target() -> tuple[Target, Stubber, Stubber]:
    t, stubs = target()
    return t, stubs[SFN], stubs[TAGGING]


LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:claims:*"
MACHINE = description(
    DEFINITION,
    T0,
    revisionId="rev-1",
    loggingConfiguration={
        "level": "ERROR",
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}],
    },
    tracingConfiguration={"enabled": True},
)


def add_listing(s_sfn: Stubber, items: list[dict]) -> None:
    s_sfn.add_response("list_executions", {"executions": items}, {"stateMachineArn": SM, "maxResults": 1000})
    s_sfn.add_response(
        "list_executions",
        {"executions": []},
        {"stateMachineArn": SM, "maxResults": 1000, "redriveFilter": "REDRIVEN"},
    )


def collector(t: Target, lake: Path, slept: list[float] | None = None) -> Run:
    # Histories only: these stubs answer Step Functions (the metrics source has tests of its own).
    opts = CollectOptions(
        lake=str(lake), sources=["histories"], concurrency=1, progress_every=0, since=T0 - timedelta(days=1)
    )
    return Run(
        opts,
        [t],
        t.limiter,
        now=lambda: T0 + timedelta(days=1),
        err=io.StringIO(),
        sleep=(slept if slept is not None else []).append,
    )


def test_collector_records_expired_history_and_never_asks_again(tmp_path: Path):
    t, s_sfn, s_tag = stubbed_target()
    items = [{k: v for k, v in describe(i).items()} for i in (2, 1)]  # newest first
    with s_sfn, s_tag:
        add_discovery(s_sfn, s_tag, MACHINE)
        add_listing(s_sfn, items)
        s_sfn.add_response("describe_execution", describe(1), {"executionArn": ex_arn(1)})
        s_sfn.add_client_error(
            "get_execution_history",
            "ExecutionDoesNotExist",
            "gone",
            400,
            expected_params={"executionArn": ex_arn(1), "includeExecutionData": False, "maxResults": 1000},
        )
        s_sfn.add_response("describe_execution", describe(2), {"executionArn": ex_arn(2)})
        add_history_pages(s_sfn, ex_arn(2), history(1500))
        summary = collector(t, tmp_path).run()
        s_sfn.assert_no_pending_responses()
    assert summary.counts["expired"] == 1 and summary.counts["new"] == 2 and summary.counts["pages"] == 2
    rows = {r["name"]: r for r in Lake(str(tmp_path)).read("executions").to_pylist()}
    assert (
        rows["e1"]["history_complete"] is False
        and rows["e1"]["history_error"] == "ExecutionDoesNotExist: gone"
    )
    assert rows["e2"]["history_complete"] is True and rows["e2"]["event_count"] == 1500
    sm = Lake(str(tmp_path)).read("state_machines").to_pylist()[0]
    assert (sm["domain"], sm["revision_id"], sm["logging_level"], sm["tracing_enabled"]) == (
        "claims",
        "rev-1",
        "ERROR",
        True,
    )
    assert sm["log_group_arn"].endswith("log-group:claims:*")
    state = Lake(str(tmp_path)).read("cursors").to_pylist()[0]
    assert state["incomplete_items"] == 1 and state["watermark"] == T0 + timedelta(minutes=2)

    # Second run: same listing, nothing fetched (a Stubber fails on any call not queued).
    t, s_sfn, s_tag = stubbed_target()
    with s_sfn, s_tag:
        add_discovery(s_sfn, s_tag, MACHINE)
        add_listing(s_sfn, items)
        again = collector(t, tmp_path).run()
        s_sfn.assert_no_pending_responses()
    assert (
        again.counts["skipped"] == 2 and again.api["calls"].get("stepfunctions.GetExecutionHistory", 0) == 0
    )


def test_collector_storm_of_escaped_throttles(tmp_path: Path):
    t, s_sfn, s_tag = stubbed_target()
    n = 6
    items = [describe(i) for i in range(n, 0, -1)]
    with s_sfn, s_tag:
        add_discovery(s_sfn, s_tag, MACHINE)
        add_listing(s_sfn, items)
        for i in range(1, n + 1):  # fetched in ARN order, one at a time
            for _ in range(i % 3):  # 0, 1 or 2 throttles before each succeeds
                s_sfn.add_client_error("describe_execution", "ThrottlingException", "Rate exceeded", 400)
            s_sfn.add_response("describe_execution", describe(i), {"executionArn": ex_arn(i)})
            if i % 2:
                s_sfn.add_response(
                    "get_execution_history",
                    {"events": history(40)[:20], "nextToken": "tok1"},
                    {"executionArn": ex_arn(i), "includeExecutionData": False, "maxResults": 1000},
                )
                s_sfn.add_client_error(
                    "get_execution_history",
                    "ThrottlingException",
                    "Rate exceeded",
                    400,
                    expected_params={
                        "executionArn": ex_arn(i),
                        "includeExecutionData": False,
                        "maxResults": 1000,
                        "nextToken": "tok1",
                    },
                )
                s_sfn.add_response("describe_execution", describe(i), {"executionArn": ex_arn(i)})
            add_history_pages(s_sfn, ex_arn(i), history(40), page=20)
        slept: list[float] = []
        summary = collector(t, tmp_path, slept).run()
        s_sfn.assert_no_pending_responses()
    retries = sum(i % 3 for i in range(1, n + 1)) + sum(i % 2 for i in range(1, n + 1))
    assert summary.counts["collector_retries"] == retries == len(slept)
    events = Lake(str(tmp_path)).read("events").to_pylist()
    assert len(events) == n * 40
    assert len({(e["execution_arn"], e["event_id"]) for e in events}) == n * 40


# -- pure decisions ---------------------------------------------------------------------------
def known(status: str, complete: bool = True, error: str | None = None, redrive_count: int = 0) -> dict:
    return {
        "status": status,
        "history_complete": complete,
        "history_error": error,
        "redrive_count": redrive_count,
        "redrive_date": None,
    }


@pytest.mark.parametrize(
    "row, item, fetch",
    [
        (None, {"status": "SUCCEEDED"}, True),
        (known("SUCCEEDED"), {"status": "SUCCEEDED"}, False),
        (known("RUNNING"), {"status": "SUCCEEDED"}, True),
        (known("RUNNING"), {"status": "RUNNING"}, True),
        (known("FAILED"), {"status": "RUNNING", "redriveCount": 1}, True),
        (known("FAILED"), {"status": "FAILED", "redriveCount": 1, "redriveDate": T0}, True),
        (
            known("FAILED", redrive_count=1) | {"redrive_date": T0},
            {"status": "FAILED", "redriveCount": 1, "redriveDate": T0},
            False,
        ),
        (known("SUCCEEDED", False, "ExecutionDoesNotExist: gone"), {"status": "SUCCEEDED"}, False),
        (known("SUCCEEDED", False, "ReadTimeout"), {"status": "SUCCEEDED"}, True),
    ],
)
def test_needs_fetch(row, item, fetch):
    assert needs_fetch(row, item) is fetch


def test_lower_bound():
    now = T0
    assert lower_bound(CollectOptions(), None, now) == now - timedelta(days=7)
    assert lower_bound(CollectOptions(), T0 - timedelta(hours=5), now) == T0 - timedelta(hours=6)
    assert lower_bound(CollectOptions(lookback=timedelta(0)), T0, now) == T0
    assert lower_bound(CollectOptions(since=T0 - timedelta(days=30)), T0, now) == T0 - timedelta(days=30)


def test_since_and_durations():
    assert parse_since("7d", now=T0) == T0 - timedelta(days=7)
    assert parse_since("2024-04-01", now=T0) == datetime(2024, 4, 1, tzinfo=UTC)
    assert parse_since("2024-04-01T10:00:00+02:00", now=T0) == datetime(2024, 4, 1, 8, tzinfo=UTC)
    assert parse_duration("90s") == timedelta(seconds=90)
    for bad in ("soon", "7 days", "2024-13-01"):
        with pytest.raises(argparse.ArgumentTypeError, match="bad"):
            parse_since(bad, now=T0)
    with pytest.raises(argparse.ArgumentTypeError, match="future"):
        parse_since("2030-01-01", now=T0)
