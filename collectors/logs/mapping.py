"""CloudWatch Logs records of Step Functions → GetExecutionHistory events (pure, no I/O).

A record's `message` is JSON: `id`, `type` (a history event type), `details` (that event's details,
flattened), `previous_event_id`, `event_timestamp` (epoch ms), `execution_arn`, `redrive_count`. Ids,
counts and flags are strings (`"id": "17"`, `"truncated": "false"`); inputs and outputs may be strings
or objects. `history_events` gives them the types botocore's model declares, under the member the API
puts them in, so `collectors.stepfunctions.normalize` reads them as it reads an API history.

Records of one execution may come out of order, late, or not at all (logging at ERROR or FATAL keeps
only failures): `execution_record` says only what the records show, and `completeness` whether they
make a whole history.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.stepfunctions.normalize import details_keys

VALIDATION_STREAM = "log_stream_created_by_aws_to_validate_log_delivery_subscriptions"
RUNNING = "RUNNING"
END_STATUS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
_TRUE = ("true", "True", "1")


class BadRecord(ValueError):
    """A log record that is not a Step Functions history record (counted and skipped)."""


@dataclass(frozen=True)
class Record:
    """One parsed log record: its execution, and the history event it stands for."""

    execution_arn: str
    redrive_count: int
    event: dict[str, Any]  # GetExecutionHistory shape: id, type, timestamp, previousEventId, <details>


def parse(message: str, fallback_ms: int | None = None) -> Record:
    """A record's `message` → Record; `fallback_ms` (the log event's own time) when it has no
    `event_timestamp`. Raises BadRecord for anything else (another writer's line, a truncated one)."""
    try:
        rec = json.loads(message)
    except ValueError:
        raise BadRecord(f"not JSON: {message[:80]!r}") from None
    if not isinstance(rec, dict):
        raise BadRecord(f"not a JSON object: {message[:80]!r}")
    missing = [k for k in ("id", "type", "execution_arn") if rec.get(k) in (None, "")]
    if missing:
        raise BadRecord(f"lacks {', '.join(missing)}: {message[:80]!r}")
    try:
        ms = int(rec["event_timestamp"]) if rec.get("event_timestamp") not in (None, "") else fallback_ms
        if ms is None:
            raise BadRecord(f"no time: {message[:80]!r}")
        return Record(
            str(rec["execution_arn"]),
            int(rec.get("redrive_count") or 0),
            history_event(rec, ms),
        )
    except (TypeError, ValueError) as e:
        if isinstance(e, BadRecord):
            raise
        raise BadRecord(f"{e}: {message[:80]!r}") from None


def history_event(rec: Mapping[str, Any], ms: int) -> dict[str, Any]:
    """One record → the history event it stands for (details typed by the model's shape)."""
    t = str(rec["type"])
    ev: dict[str, Any] = {
        "id": int(rec["id"]),
        "type": t,
        "timestamp": datetime.fromtimestamp(ms / 1000, UTC),
    }
    prev = rec.get("previous_event_id")
    if prev not in (None, ""):
        ev["previousEventId"] = int(prev)
    key = details_keys().get(t)
    details = rec.get("details")
    if key and isinstance(details, Mapping) and details:
        ev[key] = _typed(details, _details_shape(key))
    return ev


@functools.cache
def _details_shape(key: str) -> Any:
    import botocore.session  # the model costs ~0.3 s to load: only when first needed

    event: Any = botocore.session.get_session().get_service_model("stepfunctions").shape_for("HistoryEvent")
    return event.members[key]  # a StructureShape: botocore's stubs type it as a plain Shape


def _typed(value: Any, shape: Any) -> Any:
    """`value` as the model's `shape` types it; members the shape does not have are left out."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            return None
        members = shape.members
        return {k: _typed(v, members[k]) for k, v in value.items() if k in members and v is not None}
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value is True or str(value) in _TRUE
    if kind == "string":
        # inputs and outputs logged as JSON objects: the compact text the API would have returned
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return value  # map (assigned variables): as logged


def by_execution(records: Iterable[Record]) -> dict[str, list[Record]]:
    """Records grouped by execution, each group in id order with one record per id (the later wins:
    a record delivered twice is one event)."""
    out: dict[str, dict[int, Record]] = {}
    for r in records:
        out.setdefault(r.execution_arn, {})[r.event["id"]] = r
    return {arn: [g[i] for i in sorted(g)] for arn, g in sorted(out.items())}


def execution_name(arn: str) -> str | None:
    """The name in an execution ARN (`...:execution:<machine>:<name>` or `...:express:<machine>:<name>:<id>`)."""
    parts = arn.split(":")
    return parts[7] if len(parts) > 7 else None


def execution_record(
    arn: str, state_machine_arn: str, events: Sequence[Mapping[str, Any]], redrives: int
) -> dict:
    """What DescribeExecution would say of the execution, as far as its records tell (ascending ids).

    No terminal record (yet): RUNNING. No ExecutionStarted record: the start is the earliest record's
    time, the best that is known. A redrive after the last end makes it RUNNING again."""
    started = next((e for e in events if e["type"] == "ExecutionStarted"), None)
    start = (started or events[0])["timestamp"]
    last = next(
        (e for e in reversed(events) if e["type"] in END_STATUS or e["type"] == "ExecutionRedriven"), None
    )
    status = END_STATUS.get(last["type"], RUNNING) if last is not None else RUNNING
    return {
        "executionArn": arn,
        "stateMachineArn": state_machine_arn,
        "name": execution_name(arn),
        "status": status,
        "startDate": start,
        "redriveCount": redrives,
    }


def completeness(events: Sequence[Mapping[str, Any]], level: str | None) -> tuple[bool, str | None]:
    """(history_complete, history_error) of an execution's records (ascending ids): whole when they run
    1, 2, ... without a gap from ExecutionStarted; otherwise why not, with the logging level."""
    ids = [e["id"] for e in events]
    if ids and ids[0] == 1 and events[0]["type"] == "ExecutionStarted" and ids[-1] == len(ids):
        return True, None
    if level in ("ERROR", "FATAL"):
        return False, f"logged at {level}: only failure records, {len(ids)} of {ids[-1] if ids else 0}"
    gaps = _gaps(ids)
    return False, f"log records missing (not delivered yet, or lost): ids {gaps}"


def _gaps(ids: Sequence[int]) -> str:
    missing, want = [], 1
    for i in ids:
        if i > want:
            missing.append(f"{want}" if i - 1 == want else f"{want}-{i - 1}")
        want = i + 1
    return ", ".join(missing) or "none"
