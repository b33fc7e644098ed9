"""Known answers for the X-Ray segment parser and the linking of traces to executions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from collectors.xray.normalize import (
    LAMBDA_FUNCTION,
    STEP_FUNCTIONS,
    Execution,
    link,
    machine_of,
    parse_trace,
    trace_rows,
)

TID = "1-6560a1b0-0123456789abcdef01234567"
SM = "arn:aws:states:us-east-1:123456789012:stateMachine:claims"
EX = "arn:aws:states:us-east-1:123456789012:execution:claims:run-1"
T0 = 1_700_000_000.0


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def step_functions_doc(origin: str = "AWS::StepFunctions") -> dict:
    """The state machine's segment: a Task state calling Lambda, a Map whose iteration nests a state."""
    return {
        "id": "sfn0000000000001",
        "trace_id": TID,
        "name": "claims",
        "origin": origin,
        "resource_arn": EX,
        "start_time": T0,
        "end_time": T0 + 3.0,
        "subsegments": [
            {
                "id": "state00000000001",
                "name": "Score",
                "start_time": T0 + 0.01,
                "end_time": T0 + 1.2,
                "fault": True,
                "subsegments": [
                    {
                        "id": "call000000000001",
                        "name": "Lambda",
                        "namespace": "aws",
                        "start_time": T0 + 0.02,
                        "end_time": T0 + 1.19,
                        "fault": True,
                        "http": {"response": {"status": 502}},
                        "aws": {"operation": "Invoke", "function_name": "score"},
                    }
                ],
            },
            {
                "id": "state00000000002",
                "name": "Fan",
                "start_time": T0 + 1.3,
                "end_time": T0 + 2.9,
                "subsegments": [
                    {
                        "id": "iter000000000001",
                        "name": "Iteration 0",
                        "start_time": T0 + 1.31,
                        "end_time": T0 + 2.8,
                        "subsegments": [
                            {
                                "id": "state00000000003",
                                "name": "Check",
                                "start_time": T0 + 1.32,
                                "end_time": T0 + 2.7,
                            }
                        ],
                    }
                ],
            },
        ],
    }


def lambda_doc() -> dict:
    """The function's own segment, a child document of the Lambda call, with a throttled DynamoDB call."""
    return {
        "id": "func000000000001",
        "trace_id": TID,
        "parent_id": "call000000000001",
        "name": "score",
        "origin": "AWS::Lambda::Function",
        "resource_arn": "arn:aws:lambda:us-east-1:123456789012:function:score",
        "start_time": T0 + 0.05,
        "end_time": T0 + 1.1,
        "subsegments": [
            {
                "id": "ddb0000000000001",
                "name": "DynamoDB",
                "namespace": "aws",
                "start_time": T0 + 0.1,
                "end_time": T0 + 1.0,
                "throttle": True,
                "error": True,
                "http": {"response": {"status": 400}},
                "aws": {"operation": "GetItem"},
            }
        ],
    }


def inferred_doc() -> dict:
    return {
        "id": "infr000000000001",
        "trace_id": TID,
        "parent_id": "call000000000001",
        "name": "Lambda",
        "origin": "AWS::Lambda",
        "inferred": True,
        "start_time": T0 + 0.02,
        "end_time": T0 + 1.19,
    }


def raw_trace() -> dict:
    """BatchGetTraces' shape: documents as JSON strings, one as an object, one broken, one duplicated."""
    partial = {**lambda_doc(), "in_progress": True}
    partial.pop("end_time")
    return {
        "Id": TID,
        "Duration": 3.0,
        "Segments": [
            {"Id": "sfn0000000000001", "Document": json.dumps(step_functions_doc())},
            {"Id": "func000000000001", "Document": json.dumps(partial)},  # sent early, still running
            {"Id": "func000000000001", "Document": json.dumps(lambda_doc())},  # the completed copy
            {"Id": "infr000000000001", "Document": inferred_doc()},
            {"Id": "bad", "Document": "{not json"},
            {"Id": "noid", "Document": json.dumps({"name": "x", "start_time": T0})},
        ],
    }


def test_every_segment_and_subsegment_is_one_row_with_its_known_fields():
    parsed = parse_trace(raw_trace())
    assert parsed.trace_id == TID and parsed.skipped_documents == 2
    rows = {r["segment_id"]: r for r in parsed.segments}
    assert set(rows) == {
        "sfn0000000000001",
        "state00000000001",
        "call000000000001",
        "state00000000002",
        "iter000000000001",
        "state00000000003",
        "func000000000001",
        "ddb0000000000001",
        "infr000000000001",
    }
    want = {  # (parent_id, origin, namespace, state_name, error, fault, throttle, http, operation)
        "sfn0000000000001": (None, STEP_FUNCTIONS, None, None, False, False, False, None, None),
        "state00000000001": ("sfn0000000000001", None, None, "Score", False, True, False, None, None),
        "call000000000001": ("state00000000001", None, "aws", None, False, True, False, 502, "Invoke"),
        "state00000000002": ("sfn0000000000001", None, None, "Fan", False, False, False, None, None),
        "iter000000000001": ("state00000000002", None, None, "Iteration 0", False, False, False, None, None),
        "state00000000003": ("iter000000000001", None, None, "Check", False, False, False, None, None),
        "func000000000001": (
            "call000000000001",
            LAMBDA_FUNCTION,
            None,
            None,
            False,
            False,
            False,
            None,
            None,
        ),
        "ddb0000000000001": ("func000000000001", None, "aws", None, True, False, True, 400, "GetItem"),
        "infr000000000001": ("call000000000001", "AWS::Lambda", None, None, False, False, False, None, None),
    }
    cols = ("parent_id", "origin", "namespace", "state_name", "error", "fault", "throttle", "http_status")
    got = {k: (*(r[c] for c in cols), r["aws_operation"]) for k, r in rows.items()}
    assert got == want
    # times to the millisecond; the completed copy of the Lambda segment won over the in-progress one
    assert rows["func000000000001"]["end_time"] == at(1.1) and rows["func000000000001"]["duration_ms"] == 1050
    assert (
        rows["state00000000001"]["start_time"] == at(0.01) and rows["state00000000001"]["duration_ms"] == 1190
    )
    assert rows["sfn0000000000001"]["resource_arn"] == EX and parsed.step_functions_execution() == EX


def test_origin_spellings_are_one_value():
    for spelling in ("AWS::StepFunctions::StateMachine", "aws::stepfunctions", " AWS::States::StateMachine "):
        parsed = parse_trace(
            {"Id": TID, "Segments": [{"Document": json.dumps(step_functions_doc(spelling))}]}
        )
        assert parsed.segments[0]["origin"] == STEP_FUNCTIONS
        assert parsed.step_functions_execution() == EX


def test_nesting_of_any_depth_and_in_progress_segments():
    depth = 3000  # far past Python's recursion limit
    node: dict = {"id": f"n{depth:015d}", "name": "leaf", "start_time": T0 + 1, "in_progress": True}
    for i in range(depth - 1, -1, -1):
        node = {
            "id": f"n{i:015d}",
            "name": f"d{i}",
            "start_time": T0,
            "end_time": T0 + 2,
            "subsegments": [node],
        }
    node.update(trace_id=TID, origin="AWS::EC2::Instance")
    parsed = parse_trace({"Id": TID, "Segments": [{"Document": node}]})  # an object: json.dumps would recurse
    rows = {r["segment_id"]: r for r in parsed.segments}
    assert len(rows) == depth + 1
    assert rows[f"n{depth:015d}"]["parent_id"] == f"n{depth - 1:015d}"
    assert rows[f"n{depth:015d}"]["end_time"] is None and rows[f"n{depth:015d}"]["duration_ms"] is None
    assert all(r["state_name"] is None for r in rows.values())  # not a Step Functions trace: no states
    too_deep = '{"id": "a", "subsegments": [' * 100_000
    assert parse_trace({"Id": TID, "Segments": [{"Document": too_deep}]}).skipped_documents == 1


def test_a_trace_row_counts_its_rows_and_carries_the_execution_partition():
    parsed = parse_trace(raw_trace())
    start = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    trace, segs = trace_rows(parsed, Execution(EX, SM, "claims", start))
    assert trace == {
        "trace_id": TID,
        "execution_arn": EX,
        "state_machine_arn": SM,
        "start_time": at(0),
        "duration_ms": 3000,
        "has_error": True,
        "has_fault": True,
        "has_throttle": True,
        "segment_count": 9,
        "domain": "claims",
        "date": "2023-11-14",
    }
    assert len(segs) == 9 and {(s["domain"], s["date"]) for s in segs} == {("claims", "2023-11-14")}
    assert all(not k.startswith("_") for s in segs for k in s)


def test_a_trace_with_a_segment_in_progress_has_no_duration():
    doc = {**step_functions_doc(), "in_progress": True}
    parsed = parse_trace({"Id": TID, "Segments": [{"Document": json.dumps(doc)}]})
    trace, _ = trace_rows(parsed, Execution(EX, SM, "claims"))
    assert trace["duration_ms"] is None and trace["date"] == "2023-11-14"


def test_linking_by_trace_id_then_by_the_step_functions_segment():
    parsed = parse_trace(raw_trace())
    mine = Execution(EX, SM, "claims")
    other = Execution("arn:aws:states:us-east-1:123456789012:execution:claims:run-9", SM, "claims")
    assert link(parsed, {TID: other}, {EX: mine}, {SM: "claims"}) is other  # the header's Root= first
    assert link(parsed, {}, {EX: mine}, {SM: "claims"}) is mine
    # not in the lake yet, but of a tagged machine: linked by the segment's ARN
    assert link(parsed, {}, {}, {SM: "claims"}) == Execution(EX, SM, "claims")
    assert link(parsed, {}, {}, {"arn:aws:states:us-east-1:123456789012:stateMachine:other": "x"}) is None
    lambda_only = parse_trace({"Id": TID, "Segments": [{"Document": json.dumps(lambda_doc())}]})
    assert link(lambda_only, {}, {EX: mine}, {SM: "claims"}) is None


def test_machine_of_an_execution_arn():
    assert machine_of(EX) == SM
    express = (
        "arn:aws:states:us-east-1:123456789012:express:claims:run-1:5e1a0c3b-aaaa-bbbb-cccc-0123456789ab"
    )
    assert machine_of(express) == SM
