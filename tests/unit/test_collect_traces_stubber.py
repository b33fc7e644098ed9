"""The traces source where moto cannot go, with botocore's Stubber: Transaction Search retrieval, a
throttle botocore gave up on, expired and unsampled traces (and that neither is looked for forever)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

from collectors.aws import Target
from collectors.run import Run, Summary
from collectors.source import CollectOptions
from lake.store import Lake
from tests.unit.stubbed import ACCT, REGION, SM, description, discovered

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DEFINITION = json.dumps({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}})


def tid(i: int) -> str:
    return f"1-6630a1b0-{i:024x}"


def ex(i: int) -> str:
    return f"arn:aws:states:{REGION}:{ACCT}:execution:claims:e{i}"


def stubbed(tracing: bool = False) -> tuple[Target, Stubber]:
    """A target whose discovery finds the one machine, and the Stubber of its X-Ray client."""
    machine = description(DEFINITION, T0 - timedelta(days=90), tracingConfiguration={"enabled": tracing})
    return discovered(machine, "xray")


def seed(lake: Path, ended: dict[int, timedelta]) -> None:
    """Executions e<i> with trace id tid(i), each ended `ended[i]` before T0 after running 2 s."""
    rows = []
    for i, ago in ended.items():
        stop = T0 - ago
        start = stop - timedelta(seconds=2)
        rows.append(
            {
                "execution_arn": ex(i),
                "state_machine_arn": SM,
                "state_machine_name": "claims",
                "name": f"e{i}",
                "status": "SUCCEEDED",
                "start_time": start,
                "stop_time": stop,
                "trace_id": tid(i),
                "domain": "claims",
                "date": start.strftime("%Y-%m-%d"),
            }
        )
    Lake(str(lake)).write_partitioned("executions", rows)


def document(i: int, start: datetime) -> str:
    """A Step Functions segment naming no execution (found by the trace id) with one state subsegment."""
    t = start.timestamp()
    state = {"id": f"{i:015x}b", "name": "S", "start_time": t, "end_time": t + 1}
    seg = {
        "id": f"{i:015x}a",
        "trace_id": tid(i),
        "name": "claims",
        "origin": "AWS::StepFunctions::StateMachine",
    }
    return json.dumps({**seg, "start_time": t, "end_time": t + 2, "subsegments": [state]})


def run(t: Target, lake: Path, now: datetime = T0, **kw: Any) -> Summary:
    opts = CollectOptions(lake=str(lake), sources=["traces"], progress_every=0, **kw)
    return Run(opts, [t], t.limiter, now=lambda: now, err=io.StringIO(), sleep=lambda s: None).run()


def table(lake: Path, name: str) -> list[dict]:
    return Lake(str(lake)).read(name).to_pylist()


def test_transaction_search_retrieves_the_traces_by_id_and_says_so(tmp_path: Path):
    seed(tmp_path, {1: timedelta(minutes=5), 2: timedelta(minutes=4)})
    t, s = stubbed()
    starts = {i: T0 - timedelta(minutes=m, seconds=2) for i, m in ((1, 5), (2, 4))}
    with s:
        s.add_response("get_trace_segment_destination", {"Destination": "CloudWatchLogs", "Status": "ACTIVE"})
        span = {"StartTime": starts[1] - timedelta(minutes=1), "EndTime": T0 - timedelta(minutes=3)}
        s.add_response(
            "start_trace_retrieval", {"RetrievalToken": "tok"}, {"TraceIds": [tid(1), tid(2)], **span}
        )
        listed = {"RetrievalToken": "tok", "TraceFormat": "XRAY"}
        s.add_response("list_retrieved_traces", {"RetrievalStatus": "RUNNING", "Traces": []}, listed)
        for i, token, nxt in ((1, None, "p2"), (2, "p2", None)):
            page: dict[str, Any] = {
                "RetrievalStatus": "COMPLETE",
                "TraceFormat": "XRAY",
                "Traces": [
                    {"Id": tid(i), "Spans": [{"Id": f"{i:015x}a", "Document": document(i, starts[i])}]}
                ],
            }
            if nxt:
                page["NextToken"] = nxt
            s.add_response(
                "list_retrieved_traces", page, {**listed, **({"NextToken": token} if token else {})}
            )
        summary = run(t, tmp_path, since=T0 - timedelta(hours=1))
        s.assert_no_pending_responses()
    assert not summary.errors
    assert "Transaction Search (StartTraceRetrieval, ListRetrievedTraces)" in summary.text()
    traces = {r["trace_id"]: r for r in table(tmp_path, "traces")}
    assert {k: (r["execution_arn"], r["segment_count"]) for k, r in traces.items()} == {
        tid(1): (ex(1), 2),
        tid(2): (ex(2), 2),
    }
    assert len(table(tmp_path, "trace_segments")) == 4 and table(tmp_path, "trace_lookups") == []


def test_a_throttle_botocore_gave_up_on_loses_nothing_and_the_next_run_completes(tmp_path: Path):
    seed(tmp_path, {i: timedelta(minutes=10 - i) for i in range(1, 7)})  # 6 traces: two BatchGetTraces
    t, s = stubbed()
    with s:
        s.add_response("get_trace_segment_destination", {"Destination": "XRay", "Status": "ACTIVE"})
        s.add_client_error("batch_get_traces", "ThrottledException", "Rate exceeded", 429)
        first = run(t, tmp_path, since=T0 - timedelta(hours=1))
    assert any("ThrottledException" in e for e in first.errors)
    assert table(tmp_path, "traces") == [] and table(tmp_path, "trace_lookups") == []
    (cursor,) = table(tmp_path, "cursors")
    assert cursor["watermark"] is None and "ThrottledException" in cursor["last_error"]

    t, s = stubbed()
    with s:
        s.add_response("get_trace_segment_destination", {"Destination": "XRay", "Status": "ACTIVE"})
        for ids in ([1, 2, 3, 4, 5], [6]):
            traces = [
                {
                    "Id": tid(i),
                    "Segments": [{"Id": "x", "Document": document(i, T0 - timedelta(minutes=10 - i))}],
                }
                for i in ids
            ]
            s.add_response("batch_get_traces", {"Traces": traces}, {"TraceIds": [tid(i) for i in ids]})
        second = run(t, tmp_path, since=T0 - timedelta(hours=1))
        s.assert_no_pending_responses()
    assert not second.errors and second.api["calls"]["xray.BatchGetTraces"] == 2
    assert sorted(r["execution_arn"] for r in table(tmp_path, "traces")) == sorted(ex(i) for i in range(1, 7))
    (cursor,) = table(tmp_path, "cursors")
    assert cursor["watermark"] == T0 - timedelta(minutes=4) and cursor["last_error"] is None  # e6's end


def test_expired_and_unsampled_traces_are_recorded_and_not_looked_for_forever(tmp_path: Path):
    # e1 ended 40 days ago (past X-Ray's 30 days), e2 3 hours ago, e3 10 minutes ago
    seed(tmp_path, {1: timedelta(days=40), 2: timedelta(hours=3), 3: timedelta(minutes=10)})
    since = T0 - timedelta(days=60)
    t, s = stubbed()
    with s:
        s.add_response("get_trace_segment_destination", {"Destination": "XRay"})
        s.add_response(
            "batch_get_traces",
            {"Traces": [], "UnprocessedTraceIds": [tid(2), tid(3)]},
            {"TraceIds": [tid(2), tid(3)]},
        )
        first = run(t, tmp_path, since=since)
        s.assert_no_pending_responses()
    assert not first.errors
    status = {r["execution_arn"]: (r["status"], r["attempts"]) for r in table(tmp_path, "trace_lookups")}
    assert status == {ex(1): ("EXPIRED", 0), ex(2): ("NOT_SAMPLED", 1), ex(3): ("PENDING", 1)}
    assert "1 pending, 1 not sampled, 1 expired" in first.text()
    (cursor,) = table(tmp_path, "cursors")
    assert (cursor["open_items"], cursor["incomplete_items"]) == (1, 2)

    later = T0 + timedelta(hours=2)  # past e3's retry window: one more look, then given up
    t, s = stubbed()
    with s:
        s.add_response("get_trace_segment_destination", {"Destination": "XRay"})
        s.add_response(
            "batch_get_traces", {"Traces": [], "UnprocessedTraceIds": [tid(3)]}, {"TraceIds": [tid(3)]}
        )
        run(t, tmp_path, now=later, since=since)
        s.assert_no_pending_responses()
    status = {r["execution_arn"]: (r["status"], r["attempts"]) for r in table(tmp_path, "trace_lookups")}
    assert status == {ex(1): ("EXPIRED", 0), ex(2): ("NOT_SAMPLED", 1), ex(3): ("NOT_SAMPLED", 2)}

    t, s = stubbed()
    with s:  # nothing left to look for: the destination is the only call
        s.add_response("get_trace_segment_destination", {"Destination": "XRay"})
        third = run(t, tmp_path, now=later + timedelta(days=1), since=since)
        s.assert_no_pending_responses()
    assert not third.errors and "xray.BatchGetTraces" not in third.api["calls"]


def test_a_pending_trace_found_later_replaces_its_lookup(tmp_path: Path):
    seed(tmp_path, {1: timedelta(minutes=2)})
    t, s = stubbed()
    with s:
        s.add_response("get_trace_segment_destination", {"Destination": "XRay"})
        s.add_response(
            "batch_get_traces", {"Traces": [], "UnprocessedTraceIds": [tid(1)]}, {"TraceIds": [tid(1)]}
        )
        run(t, tmp_path, since=T0 - timedelta(hours=1))
    assert [r["status"] for r in table(tmp_path, "trace_lookups")] == ["PENDING"]
    t, s = stubbed()
    with s:
        s.add_response("get_trace_segment_destination", {"Destination": "XRay"})
        doc = {
            "Id": tid(1),
            "Segments": [{"Id": "x", "Document": document(1, T0 - timedelta(minutes=2, seconds=2))}],
        }
        s.add_response("batch_get_traces", {"Traces": [doc]}, {"TraceIds": [tid(1)]})
        run(t, tmp_path, now=T0 + timedelta(minutes=5), since=T0 - timedelta(hours=1))
    assert [r["execution_arn"] for r in table(tmp_path, "traces")] == [ex(1)]
    assert table(tmp_path, "trace_lookups") == []
