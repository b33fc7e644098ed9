"""X-Ray trace documents → `traces` and `trace_segments` rows, linked to executions. Pure, no I/O: the
collector and the simulator both write through here.

A trace (BatchGetTraces' `Traces[]`, or ListRetrievedTraces' in XRAY format) is a list of documents,
each a segment: the Step Functions segment of an execution, the inferred segment of a service it
called, the segment a Lambda function wrote itself (its `parent_id` the caller's subsegment). Each
document holds subsegments nested to any depth. Every segment and every subsegment becomes one row.

Parsed defensively, since the shapes are not documented as JSON for Step Functions: a document is a
JSON string or an object; a document that is neither, or has no id, is skipped and counted; origins
are spelled in more than one way (`ORIGINS`); a subsegment sent as a document of its own and also
embedded in its parent is kept once (the completed copy wins); `in_progress` segments have no end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STEP_FUNCTIONS = "AWS::StepFunctions::StateMachine"
LAMBDA_FUNCTION = "AWS::Lambda::Function"
# Origin spellings seen in public fixtures and SDKs, lower-cased → the one the lake stores.
ORIGINS = {
    "aws::stepfunctions::statemachine": STEP_FUNCTIONS,
    "aws::stepfunctions": STEP_FUNCTIONS,
    "aws::states::statemachine": STEP_FUNCTIONS,
    "aws::states": STEP_FUNCTIONS,
    "aws::lambda::function": LAMBDA_FUNCTION,
    "aws::lambda": "AWS::Lambda",
}
CALL_NAMESPACES = frozenset({"aws", "remote"})  # a subsegment in one of these is a call, not a state
MAX_ROWS_PER_TRACE = 20_000  # X-Ray caps a trace at ~500 kB of documents: more rows is not a trace
EXECUTION_ARN = re.compile(r"^arn:aws[\w-]*:states:[\w-]+:\d{12}:(execution|express):[^:]+:[^:]+(:[^:]+)?$")


@dataclass
class ParsedTrace:
    """One trace's rows (trace_segments columns, `trace_id` included) and what could not be read."""

    trace_id: str
    segments: list[dict[str, Any]] = field(default_factory=list)
    skipped_documents: int = 0

    def step_functions_execution(self) -> str | None:
        """The execution a Step Functions segment of the trace names, if one does."""
        for r in self.segments:
            if r["origin"] == STEP_FUNCTIONS and r.get("_execution_arn"):
                return str(r["_execution_arn"])
        return None


def parse_trace(trace: Mapping[str, Any]) -> ParsedTrace:
    """Rows of every segment and subsegment of one trace (`Id`, `Segments[].Document`; `Spans` too)."""
    trace_id = str(trace.get("Id") or "")
    out = ParsedTrace(trace_id)
    rows: dict[str, dict[str, Any]] = {}
    for item in trace.get("Segments") or trace.get("Spans") or []:
        doc = _document(item.get("Document") if isinstance(item, Mapping) else None)
        if doc is None or not doc.get("id"):
            out.skipped_documents += 1
            continue
        for row in _walk(doc, trace_id):
            old = rows.get(row["segment_id"])
            if old is None or (old["end_time"] is None and row["end_time"] is not None):
                rows[row["segment_id"]] = row
            if len(rows) >= MAX_ROWS_PER_TRACE:
                break
    out.segments = sorted(rows.values(), key=lambda r: (r["start_time"] or _EPOCH, r["segment_id"]))
    if not out.trace_id and out.segments:
        out.trace_id = out.segments[0]["trace_id"]
    return out


def _document(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the JSON decoder goes
            return None
    return raw if isinstance(raw, dict) else None


def _walk(doc: dict[str, Any], trace_id: str) -> Iterator[dict[str, Any]]:
    """The document's segment, then its subsegments depth first (iteratively: any depth)."""
    tid = str(doc.get("trace_id") or trace_id)
    top_origin = _origin(doc.get("origin"))
    # (node, parent id, is the node a Step Functions state or the state machine itself)
    stack: list[tuple[dict[str, Any], str | None, bool]] = [(doc, _text(doc.get("parent_id")), False)]
    in_step_functions = top_origin == STEP_FUNCTIONS
    first = True
    while stack:
        node, parent, is_state = stack.pop()
        row = _row(node, tid, parent, top_origin if first else None, is_state)
        first = False
        yield row
        subs = node.get("subsegments")
        if not isinstance(subs, list):
            continue
        # a child of the state machine or of a state, not itself a call, is a state (Map, Parallel nest them)
        states_below = in_step_functions and (row["origin"] == STEP_FUNCTIONS or is_state)
        for sub in reversed(subs):
            if isinstance(sub, dict) and sub.get("id"):
                child_is_state = states_below and _text(sub.get("namespace")) not in CALL_NAMESPACES
                stack.append((sub, row["segment_id"], child_is_state))


def _row(
    node: dict[str, Any], trace_id: str, parent: str | None, origin: str | None, is_state: bool
) -> dict[str, Any]:
    start, end = _time(node.get("start_time")), _time(node.get("end_time"))
    if node.get("in_progress") is True:
        end = None
    aws, response = _obj(node.get("aws")), _obj(_obj(node.get("http")).get("response"))
    name = _text(node.get("name"))
    resource = _text(node.get("resource_arn"))
    row = {
        "trace_id": trace_id,
        "segment_id": str(node["id"]),
        "parent_id": parent,
        "name": name,
        "origin": origin,
        "namespace": _text(node.get("namespace")),
        "start_time": start,
        "end_time": end,
        "duration_ms": _ms_between(start, end),
        "error": node.get("error") is True,
        "fault": node.get("fault") is True,
        "throttle": node.get("throttle") is True,
        "http_status": _int(response.get("status")),
        "aws_operation": _text(aws.get("operation")),
        "resource_arn": resource,
        "state_name": name if is_state else None,
    }
    if origin == STEP_FUNCTIONS:
        row["_execution_arn"] = next(
            (
                v
                for v in (resource, _text(aws.get("execution_arn")), _text(aws.get("executionArn")))
                if v and EXECUTION_ARN.match(v)
            ),
            None,
        )
    return row


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _origin(value: Any) -> str | None:
    text = _text(value)
    return ORIGINS.get(text.lower(), text) if text else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(value: Any) -> datetime | None:
    """Epoch seconds (a number, or its text) → an aware UTC time, to the millisecond the lake keeps."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not 0 < seconds < 32503680000:  # after 1970 and before 3000
        return None
    return datetime.fromtimestamp(round(seconds * 1000) / 1000, UTC)


def _ms_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))


# -- linking ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Execution:
    """What linking needs of an execution: its machine, domain and start (the partition)."""

    execution_arn: str
    state_machine_arn: str
    domain: str | None
    start_time: datetime | None = None


def machine_of(execution_arn: str) -> str:
    """arn:...:execution:<machine>:<name> → arn:...:stateMachine:<machine> (an Express one too)."""
    parts = execution_arn.split(":")
    return ":".join([*parts[:5], "stateMachine", parts[6]]) if len(parts) >= 8 else execution_arn


def link(
    parsed: ParsedTrace,
    by_trace_id: Mapping[str, Execution],
    by_arn: Mapping[str, Execution],
    domains: Mapping[str, str | None],
) -> Execution | None:
    """The execution a trace belongs to: by its id (the execution's trace header Root=), else by the
    Step Functions segment naming the execution; only executions of the machines in `domains` (ARN →
    domain). None when the trace is nobody's here."""
    known = by_trace_id.get(parsed.trace_id)
    if known is not None:
        return known
    arn = parsed.step_functions_execution()
    if arn is None:
        return None
    if arn in by_arn:
        return by_arn[arn]
    machine = machine_of(arn)
    if machine not in domains:
        return None
    return Execution(arn, machine, domains[machine])


def trace_rows(parsed: ParsedTrace, ex: Execution) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `traces` row and the `trace_segments` rows of a linked trace, each with the `domain` and
    `date` of its execution's partition (the execution's start, else the trace's)."""
    segs = [{k: v for k, v in r.items() if not k.startswith("_")} for r in parsed.segments]
    starts = [r["start_time"] for r in segs if r["start_time"] is not None]
    ends = [r["end_time"] for r in segs if r["end_time"] is not None]
    start = min(starts) if starts else None
    complete = bool(segs) and all(r["end_time"] is not None for r in segs)
    when = ex.start_time or start
    part = {"domain": ex.domain, "date": when.astimezone(UTC).strftime("%Y-%m-%d") if when else None}
    trace = {
        "trace_id": parsed.trace_id,
        "execution_arn": ex.execution_arn,
        "state_machine_arn": ex.state_machine_arn,
        "start_time": start,
        "duration_ms": _ms_between(start, max(ends)) if complete and ends else None,
        "has_error": any(r["error"] for r in segs),
        "has_fault": any(r["fault"] for r in segs),
        "has_throttle": any(r["throttle"] for r in segs),
        "segment_count": len(segs),
        **part,
    }
    return trace, [{**r, **part} for r in segs]


def trace_ids(values: Iterable[str | None]) -> list[str]:
    """Distinct non-empty trace ids in first-seen order."""
    return list(dict.fromkeys(v for v in values if v))
