"""The traces source against a real moto server: Standard executions started with and without a trace
header, their traces put with put_trace_segments (the Step Functions segment with nested state and
call subsegments, a Lambda function's child document, an inferred segment), collected twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from lakecheck import contents, run
from scenario import ROLE, wait_terminal

from lake.store import Lake

pytestmark = pytest.mark.integration
DEFINITION = json.dumps(
    {
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Pass", "Next": "Fan"},
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Score", "States": {"Score": {"Type": "Pass", "End": True}}},
                "End": True,
            },
        },
    }
)


def machine(sfn: Any, name: str, domain: str | None, tracing: bool) -> str:
    tags = [{"key": "domain", "value": domain}] if domain else []
    return sfn.create_state_machine(
        name=name, definition=DEFINITION, roleArn=ROLE, tags=tags, tracingConfiguration={"enabled": tracing}
    )["stateMachineArn"]


def trace_documents(trace_id: str, execution: dict[str, Any], n: int) -> tuple[list[str], set[str]]:
    """The documents of one execution's trace and the ids of every segment and subsegment in them."""
    t0, t1 = execution["startDate"].timestamp(), execution["stopDate"].timestamp()
    sid = lambda k: f"{n:04x}{k:012x}"  # noqa: E731 - 16 hex digits, unique per trace
    call = {
        "id": sid(4),
        "name": "Lambda",
        "namespace": "aws",
        "start_time": t0 + 0.002,
        "end_time": t1 - 0.002,
        "aws": {"operation": "Invoke"},
        "http": {"response": {"status": 200}},
    }
    fan = {
        "id": sid(2),
        "name": "Fan",
        "start_time": t0 + 0.001,
        "end_time": t1 - 0.001,
        "subsegments": [
            {
                "id": sid(3),
                "name": "Score",
                "start_time": t0 + 0.002,
                "end_time": t1 - 0.002,
                "subsegments": [call],
            }
        ],
    }
    sfn_segment = {
        "id": sid(0),
        "trace_id": trace_id,
        "name": execution["stateMachineArn"].rsplit(":", 1)[1],
        "origin": "AWS::StepFunctions::StateMachine",
        "resource_arn": execution["executionArn"],
        "start_time": t0,
        "end_time": t1,
        "subsegments": [{"id": sid(1), "name": "Check", "start_time": t0, "end_time": t0 + 0.001}, fan],
    }
    function = {
        "id": sid(5),
        "trace_id": trace_id,
        "parent_id": sid(4),
        "name": "score",
        "origin": "AWS::Lambda::Function",
        "start_time": t0 + 0.003,
        "end_time": t1 - 0.003,
        "subsegments": [
            {
                "id": sid(6),
                "name": "DynamoDB",
                "namespace": "aws",
                "start_time": t0 + 0.004,
                "end_time": t1 - 0.004,
                "fault": True,
                "http": {"response": {"status": 500}},
                "aws": {"operation": "GetItem"},
            }
        ],
    }
    inferred = {
        "id": sid(7),
        "trace_id": trace_id,
        "parent_id": sid(4),
        "name": "Lambda",
        "origin": "AWS::Lambda",
        "inferred": True,
        "start_time": t0 + 0.002,
        "end_time": t1 - 0.002,
    }
    docs = [sfn_segment, function, inferred]
    return [json.dumps(d) for d in docs], {sid(k) for k in range(8)}


def test_every_trace_is_linked_with_all_its_segments_and_a_second_run_changes_nothing(moto, tmp_path: Path):
    sfn, xray = boto3.client("stepfunctions"), boto3.client("xray")
    traced = machine(sfn, "claims", "claims", True)
    plain = machine(sfn, "intake", "intake", False)  # tracing off, no header: nothing to look for
    stray = machine(sfn, "stray", None, True)  # not tagged: its trace is nobody's here
    started = []
    for i, header in enumerate([True, True, False, False]):
        kw = {"traceHeader": f"Root=1-{i:08x}-{'ab' * 12};Sampled=1"} if header else {}
        started.append(
            sfn.start_execution(stateMachineArn=traced, name=f"c{i}", input='{"items": [1]}', **kw)[
                "executionArn"
            ]
        )
    others = [
        sfn.start_execution(stateMachineArn=arn, name="o", input='{"items": [1]}')["executionArn"]
        for arn in (plain, stray)
    ]
    wait_terminal(sfn, started + others)
    expected: dict[str, tuple[str, set[str]]] = {}  # trace id → (execution, segment ids)
    for n, arn in enumerate([*started, others[1]]):
        d = sfn.describe_execution(executionArn=arn)
        trace_id = f"1-{int(d['startDate'].timestamp()):08x}-{n:024x}"
        docs, ids = trace_documents(trace_id, d, n)
        assert xray.put_trace_segments(TraceSegmentDocuments=docs)["UnprocessedTraceSegments"] == []
        if arn != others[1]:
            expected[trace_id] = (arn, ids)

    lake = tmp_path / "lake"
    first = run(lake)
    assert not first.errors, first.errors
    lk = Lake(str(lake))
    traces = {r["trace_id"]: r for r in lk.read("traces").to_pylist()}
    assert {k: r["execution_arn"] for k, r in traces.items()} == {k: v[0] for k, v in expected.items()}
    segments = lk.read("trace_segments").to_pylist()
    for trace_id, (_, ids) in expected.items():
        mine = [s for s in segments if s["trace_id"] == trace_id]
        assert {s["segment_id"] for s in mine} == ids and len(mine) == len(ids)
        assert traces[trace_id]["segment_count"] == 8 and traces[trace_id]["state_machine_arn"] == traced
        assert traces[trace_id]["has_fault"] and not traces[trace_id]["has_throttle"]
        states = {s["state_name"] for s in mine if s["state_name"]}
        assert states == {"Check", "Fan", "Score"}
        by_id = {s["segment_id"]: s for s in mine}
        function = next(s for s in mine if s["origin"] == "AWS::Lambda::Function")
        assert by_id[function["parent_id"]]["aws_operation"] == "Invoke"
    assert len(segments) == 8 * len(expected)
    assert lk.read("trace_lookups").num_rows == 0
    assert first.counts["traces"] == 4 and first.counts["traces_unlinked"] == 1
    assert "GetTraceSegmentDestination did not answer" in first.text()
    assert "X-Ray (GetTraceSummaries, BatchGetTraces)" in first.text()

    before = contents(lake)
    second = run(lake)
    after = contents(lake)
    assert not second.errors and after.pop("collection_runs") != before.pop("collection_runs")
    assert after == before
    assert second.counts["traces"] == 0 and "xray.BatchGetTraces" not in second.api["calls"]
