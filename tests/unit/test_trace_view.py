"""The waterfall's rows (tree order, depth, the call behind the root failure), why an execution has no
trace, and the simulator's trace documents of one execution (known answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from collectors.simulate.definitions import enterprise
from collectors.simulate.traces import Tracer
from collectors.xray.normalize import parse_trace
from dashboard.components.waterfall import INDENT, no_trace_reason, waterfall, waterfall_rows

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def seg(sid: str, parent: str | None, name: str, start_s: float, **kw) -> dict:
    row = {
        "trace_id": "1-x",
        "segment_id": sid,
        "parent_id": parent,
        "name": name,
        "origin": None,
        "namespace": None,
        "start_time": T0 + timedelta(seconds=start_s),
        "end_time": T0 + timedelta(seconds=start_s + 1),
        "error": False,
        "fault": False,
        "throttle": False,
        "http_status": None,
        "aws_operation": None,
        "state_name": None,
    }
    return {**row, **kw}


def test_rows_in_tree_order_with_the_last_failing_call_under_the_root_state_marked():
    segs = pd.DataFrame(
        [  # shuffled: the tree is rebuilt from parent ids
            seg("c2", "s2", "BedrockRuntime", 3.0, namespace="aws", aws_operation="InvokeModel", fault=True),
            seg("root", None, "rag", 0.0, origin="AWS::StepFunctions::StateMachine"),
            seg("s1", "root", "Retrieve", 0.1, state_name="Retrieve"),
            seg("s2", "root", "InvokeModel", 2.0, state_name="InvokeModel", fault=True),
            seg(
                "c1", "s2", "BedrockRuntime", 2.1, namespace="aws", aws_operation="InvokeModel", throttle=True
            ),
            seg("f1", "c0", "fn", 0.3, origin="AWS::Lambda::Function"),
            seg("c0", "s1", "Lambda", 0.2, namespace="aws", aws_operation="Invoke", fault=True),
        ]
    )
    rows = waterfall_rows(segs, "InvokeModel")
    assert list(rows["segment_id"]) == ["root", "s1", "c0", "f1", "s2", "c1", "c2"]
    assert list(rows["depth"]) == [0, 1, 2, 3, 1, 2, 2]
    assert rows.loc[rows["segment_id"] == "f1", "label"].item() == INDENT * 3 + "fn (AWS::Lambda::Function)"
    assert list(rows["kind"]) == ["ok", "ok", "fault", "ok", "fault", "throttle", "fault"]
    # c0 faulted too, but under Retrieve: the mark is the last failed call below the root state
    assert list(rows.loc[rows["root_call"], "segment_id"]) == ["c2"]
    fig = waterfall(rows, "t")
    widths = [w for tr in fig.data for w in tr.marker.line.width]
    assert sorted(widths) == [0] * 6 + [3]
    assert not waterfall_rows(segs, None)["root_call"].any()


def test_text_from_aws_stays_text_in_the_chart():
    segs = pd.DataFrame([seg("a", None, "<b>x</b>", 0.0)])
    fig = waterfall(waterfall_rows(segs), "t")
    assert all("<b>" not in t for t in fig.layout.yaxis.ticktext)


@pytest.mark.parametrize(
    ("ex", "machine", "lookup", "words"),
    [
        ({"trace_id": "1-a"}, {"tracing_enabled": True}, {"status": "EXPIRED"}, "X-Ray keeps traces 30 days"),
        ({"trace_id": "1-a"}, {}, {"status": "NOT_SAMPLED"}, "did not sample"),
        ({"trace_id": "1-a"}, {}, {"status": "PENDING", "attempts": 2}, "looked for 2 time(s)"),
        ({"trace_id": None}, {"tracing_enabled": False}, None, "tracing is off"),
        ({"trace_id": "1-a", "status": "RUNNING"}, {}, None, "still running"),
        ({"trace_id": "1-a", "status": "SUCCEEDED"}, {}, None, "--source traces"),
    ],
)
def test_why_there_is_no_trace(ex, machine, lookup, words):
    assert words in no_trace_reason(ex, machine, lookup)


def test_the_simulator_traces_an_outage_execution_as_its_state_runs_say():
    spec = next(s for s in enterprise() if s.name == "ai-inference-rag-answer")
    ex = {
        "execution_arn": f"{spec.arn().replace(':stateMachine:', ':execution:')}:e1",
        "status": "FAILED",
        "start_time": T0,
        "stop_time": T0 + timedelta(seconds=30),
    }

    def run(
        name: str, a: float, b: float, attempts: int = 1, status: str = "SUCCEEDED", error: str | None = None
    ):
        return {
            "state_name": name,
            "parent_state": None,
            "entered_time": T0 + timedelta(seconds=a),
            "exited_time": T0 + timedelta(seconds=b),
            "attempts": attempts,
            "status": status,
            "error": error,
        }

    runs = [
        run("RetrieveContext", 0, 1),
        run("BuildPrompt", 1, 1.01),
        run("InvokeModel", 1.01, 30, 3, "FAILED", "Bedrock.ServiceUnavailableException"),
    ]
    docs = Tracer(spec).documents("1-6630a1b0-0123456789abcdef01234567", ex, runs)
    parsed = parse_trace(
        {"Id": "1-6630a1b0-0123456789abcdef01234567", "Segments": [{"Document": d} for d in docs]}
    )
    rows = {r["segment_id"]: r for r in parsed.segments}
    states = [r["state_name"] for r in parsed.segments if r["state_name"]]
    assert states == ["RetrieveContext", "BuildPrompt", "InvokeModel"]
    invoke = next(r for r in parsed.segments if r["state_name"] == "InvokeModel")
    calls = [r for r in parsed.segments if r["parent_id"] == invoke["segment_id"]]
    assert [(c["name"], c["aws_operation"], c["fault"], c["http_status"]) for c in calls] == [
        ("BedrockRuntime", "InvokeModel", True, 503)
    ] * 3
    assert all(invoke["start_time"] <= c["start_time"] <= c["end_time"] <= invoke["end_time"] for c in calls)
    assert len(rows) == 1 + 3 + 1 + 3  # the execution, three states, Retrieve's call, three model calls
