"""Step Functions execution records → lake rows (executions, state_runs, events). Pure, no I/O.

Input is what boto3 returns: a DescribeExecution response or a ListExecutions item, and the
GetExecutionHistory events of that execution (all pages, ascending id).

How state runs are rebuilt. Every history event names the event it follows (`previousEventId`);
events of concurrent Map iterations and Parallel branches interleave, so the replay follows those
links, never adjacency:

- a `*StateEntered` event opens a visit in the scope of the event it follows: the iteration
  opened by a `MapIterationStarted`, a new branch when it follows a `ParallelStateStarted`, or
  the scope of the visit that event belongs to (top level when none);
- task, retry, failure and container events belong to the nearest open visit of the right type
  found by climbing from the event they follow through the enclosing Map/Parallel visits;
- a visit ends at its `*StateExited` event (SUCCEEDED, or CAUGHT when its last attempt failed),
  when its iteration or enclosing state ends, or at the execution's terminal event.

Visits that end without an exit event keep `exited_event_id` null; `exited_time` is then the
time of the event that ended them (so durations of failed states are known).
Parallel branches are numbered in order of first appearance, or by the definition's `Branches`
order when the ASL definition is passed. After `ExecutionRedriven`, states entered from the
redrive event start again at top level; visits closed by the earlier failure keep their status.
"""

from __future__ import annotations

import functools
import hashlib
import json
import json.encoder
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from lake.layout import utc_date
from lake.status import UNSUCCESSFUL

log = logging.getLogger(__name__)

_MS = timedelta(milliseconds=1)

# What each event type does to the state-run replay. Kept explicit (semantics cannot be derived
# from the service model); tests check that every HistoryEventType of botocore's model is here.
ENTERED, EXITED, SCHEDULED, FAILED, TIMED_OUT_EV, SUCCEEDED_EV, ABORTED_EV = range(7)
CONTAINER_STARTED, ITERATION_STARTED, ITERATION_ENDED, INFO = range(7, 11)
EXECUTION_STARTED, EXECUTION_ENDED, EXECUTION_REDRIVEN = range(11, 14)

STATE_TYPES = ("Task", "Choice", "Pass", "Wait", "Succeed", "Fail", "Map", "Parallel")

EVENT_KINDS: dict[str, tuple[int, str | None]] = {
    # type: (kind, type of the visit the event belongs to)
    **{f"{s}StateEntered": (ENTERED, s) for s in STATE_TYPES},
    **{f"{s}StateExited": (EXITED, s) for s in STATE_TYPES if s != "Fail"},
    "TaskScheduled": (SCHEDULED, "Task"),
    "LambdaFunctionScheduled": (SCHEDULED, "Task"),
    "ActivityScheduled": (SCHEDULED, "Task"),
    "TaskStarted": (INFO, None),
    "TaskSubmitted": (INFO, None),
    "LambdaFunctionStarted": (INFO, None),
    "ActivityStarted": (INFO, None),
    "MapRunStarted": (INFO, None),
    "MapRunRedriven": (INFO, None),
    "TaskSucceeded": (SUCCEEDED_EV, "Task"),
    "LambdaFunctionSucceeded": (SUCCEEDED_EV, "Task"),
    "ActivitySucceeded": (SUCCEEDED_EV, "Task"),
    "MapStateSucceeded": (SUCCEEDED_EV, "Map"),
    "MapRunSucceeded": (SUCCEEDED_EV, "Map"),
    "ParallelStateSucceeded": (SUCCEEDED_EV, "Parallel"),
    "TaskFailed": (FAILED, "Task"),
    "TaskStartFailed": (FAILED, "Task"),
    "TaskSubmitFailed": (FAILED, "Task"),
    "LambdaFunctionFailed": (FAILED, "Task"),
    "LambdaFunctionStartFailed": (FAILED, "Task"),
    "LambdaFunctionScheduleFailed": (FAILED, "Task"),
    "ActivityFailed": (FAILED, "Task"),
    "ActivityScheduleFailed": (FAILED, "Task"),
    "EvaluationFailed": (FAILED, None),
    "MapStateFailed": (FAILED, "Map"),
    "MapRunFailed": (FAILED, "Map"),
    "ParallelStateFailed": (FAILED, "Parallel"),
    "TaskTimedOut": (TIMED_OUT_EV, "Task"),
    "LambdaFunctionTimedOut": (TIMED_OUT_EV, "Task"),
    "ActivityTimedOut": (TIMED_OUT_EV, "Task"),
    "TaskStateAborted": (ABORTED_EV, "Task"),
    "WaitStateAborted": (ABORTED_EV, "Wait"),
    "MapStateAborted": (ABORTED_EV, "Map"),
    "MapRunAborted": (ABORTED_EV, "Map"),
    "ParallelStateAborted": (ABORTED_EV, "Parallel"),
    "MapStateStarted": (CONTAINER_STARTED, "Map"),
    "ParallelStateStarted": (CONTAINER_STARTED, "Parallel"),
    "MapIterationStarted": (ITERATION_STARTED, "Map"),
    "MapIterationSucceeded": (ITERATION_ENDED, "Map"),
    "MapIterationFailed": (ITERATION_ENDED, "Map"),
    "MapIterationAborted": (ITERATION_ENDED, "Map"),
    "ExecutionStarted": (EXECUTION_STARTED, None),
    "ExecutionSucceeded": (EXECUTION_ENDED, None),
    "ExecutionFailed": (EXECUTION_ENDED, None),
    "ExecutionTimedOut": (EXECUTION_ENDED, None),
    "ExecutionAborted": (EXECUTION_ENDED, None),
    "ExecutionRedriven": (EXECUTION_REDRIVEN, None),
}

_EXECUTION_END_STATUS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}

# Details members kept even though the model marks them sensitive: on-call needs them.
_KEEP_SENSITIVE = frozenset({"error", "cause"})
# Payload members the model does not mark sensitive (variable values).
_ALSO_PAYLOAD = frozenset({"assignedVariables"})
# Which details member names the state an event is about.
_NAME_FIELD = {
    "stateEnteredEventDetails": "name",
    "stateExitedEventDetails": "name",
    "evaluationFailedEventDetails": "state",
}


@functools.cache
def history_event_types() -> tuple[str, ...]:
    """Every HistoryEventType in botocore's Step Functions model."""
    return tuple(_model().shape_for("HistoryEventType").enum)


@functools.cache
def details_keys() -> dict[str, str | None]:
    """HistoryEventType → the HistoryEvent member holding its details (None: the type has none)."""
    members = _model().shape_for("HistoryEvent").members
    out: dict[str, str | None] = {}
    for t in history_event_types():
        if t.endswith("StateEntered"):
            key = "stateEnteredEventDetails"
        elif t.endswith("StateExited"):
            key = "stateExitedEventDetails"
        else:
            key = t[0].lower() + t[1:] + "EventDetails"
        out[t] = key if key in members else None
    return out


@functools.cache
def stripped_members() -> dict[str, frozenset[str]]:
    """Details member (e.g. `stateEnteredEventDetails`) → payload fields removed unless opted in."""
    members = _model().shape_for("HistoryEvent").members
    out = {}
    for key, shape in members.items():
        if not key.endswith("EventDetails"):
            continue
        out[key] = frozenset(
            name
            for name, m in shape.members.items()
            if (m.serialization.get("sensitive") or m.metadata.get("sensitive") or name in _ALSO_PAYLOAD)
            and name not in _KEEP_SENSITIVE
        )
    return out


@functools.cache
def _model() -> Any:
    import botocore.session  # loading the model costs ~0.3 s: only when first needed

    return botocore.session.get_session().get_service_model("stepfunctions")


@functools.cache
def _event_specs() -> dict[str, tuple[str | None, frozenset[str], str]]:
    strip = stripped_members()
    return {
        t: (key, strip.get(key, frozenset()) if key else frozenset(), _NAME_FIELD.get(key or "", "name"))
        for t, key in details_keys().items()
    }


# Unknown types: strip whatever any known details shape strips.
@functools.cache
def _all_stripped() -> frozenset[str]:
    return frozenset().union(*stripped_members().values()) | {"parameters", "input", "output"}


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.isoformat()
    if isinstance(o, bytes | bytearray):
        return o.decode("utf-8", "replace")
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _make_encoder() -> Any:
    """Compact JSON encoder; calls the C encoder directly (half the cost of json.dumps per event)."""
    c_make = getattr(json.encoder, "c_make_encoder", None)
    if c_make is None:
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_default).encode
    # markers=None: no circular check (API data has no cycles); args as json.JSONEncoder.iterencode passes them
    iterencode = c_make(
        None, _json_default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    return lambda o: "".join(iterencode(o, 0))


_encode = _make_encoder()


def _unknown_details(ev: Mapping) -> tuple[str | None, Any]:
    for k, v in ev.items():
        if k.endswith("EventDetails"):
            return k, v
    return None, None


# ---------------------------------------------------------------------------------------------
# events


def event_rows(
    events: Sequence[Mapping], *, execution_arn: str, include_payloads: bool = False
) -> list[dict]:
    """EVENTS rows: one per history event, details as compact JSON (payloads stripped unless opted in)."""
    return _event_rows(_ascending(events), execution_arn, include_payloads, None)


def _event_rows(events: Sequence[Mapping], arn: str, include_payloads: bool, tail: dict | None) -> list[dict]:
    specs = _event_specs()
    all_stripped = _all_stripped()
    rows: list[dict] = []
    append = rows.append
    for ev in events:
        t = ev["type"]
        spec = specs.get(t)
        if spec is None:
            key, d = _unknown_details(ev)
            strip, name_field = all_stripped, "name"
        else:
            key, strip, name_field = spec
            d = ev.get(key) if key else None
        if d is None:
            details_json = name = None
        else:
            name = d.get(name_field)
            if not include_payloads and not strip.isdisjoint(d):
                d = {k: v for k, v in d.items() if k not in strip}
            details_json = _encode(d)
        row = {
            "execution_arn": arn,
            "event_id": ev["id"],
            "previous_event_id": ev.get("previousEventId"),
            "timestamp": ev["timestamp"],
            "type": t,
            "state_name": name if isinstance(name, str) else None,
            "details_json": details_json,
        }
        if tail:
            row.update(tail)
        append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# state runs


class _Scope:
    """Where visits happen: top level, one Map iteration, or one Parallel branch."""

    __slots__ = ("parent", "iteration", "visits")

    def __init__(self, parent: _Visit | None, iteration: int | None):
        self.parent = parent
        self.iteration = iteration
        self.visits: list[_Visit] = []


class _Visit:
    __slots__ = (
        "name",
        "type",
        "scope",
        "entered_id",
        "entered_time",
        "exited_id",
        "ended_time",
        "attempts",
        "error",
        "cause",
        "pending",
        "timeout",
        "aborted",
        "resource",
        "next_state",
        "on_path",
        "status",
        "open",
        "children",
        "sub",
        "failed_child",
        "prev",
    )

    def __init__(self, name: str, typ: str, scope: _Scope, entered_id: int, entered_time: datetime):
        self.name = name
        self.type = typ
        self.scope = scope
        self.entered_id = entered_id
        self.entered_time = entered_time
        self.exited_id: int | None = None
        self.ended_time: datetime | None = None
        self.attempts = 0
        self.error: str | None = None
        self.cause: str | None = None
        self.pending = False  # the last attempt failed
        self.timeout = False  # ... by timing out
        self.aborted = False
        self.resource: str | None = None
        self.next_state: str | None = None
        self.on_path = False  # on the chain of states that failed the execution
        self.status: str | None = None
        self.open = True
        # Map/Parallel only (allocated on demand: fewer objects for the GC on big histories)
        self.children: list[_Scope] | tuple = ()  # every iteration/branch scope, for closing
        self.sub: dict | None = None  # current attempt: iteration index or branch first state → scope
        self.failed_child: _Visit | None = None
        self.prev: _Visit | None = None  # the visit this one followed in its scope (its exit led here)


def _climb(v: _Visit | None, typ: str | None, name: str | None = None) -> _Visit | None:
    """Nearest open visit of `typ` (and `name`) from `v` outwards through enclosing Map/Parallel visits."""
    while v is not None:
        if v.open and (typ is None or v.type == typ) and (name is None or v.name == name):
            return v
        v = v.scope.parent
    return None


@dataclass
class _Replay:
    visits: list[_Visit]
    terminal: Mapping | None  # last ExecutionFailed/TimedOut/Aborted event
    started: Mapping | None  # ExecutionStarted details
    succeeded: Mapping | None  # ExecutionSucceeded details
    redrives: int
    last_end: Mapping | None  # last Execution{Succeeded,Failed,TimedOut,Aborted} event
    end_visit: _Visit | None  # the visit the last Execution{Failed,TimedOut,Aborted} event followed


class _Replayer:
    """One history's replay: the state it builds up, and a handler per event kind (see `_DISPATCH`)."""

    # slots: the handlers read this state on every event
    __slots__ = (
        "branch_index",
        "fail_info",
        "open",
        "top",
        "visits",
        "ctx",
        "openers",
        "warned",
        "terminal",
        "started",
        "succeeded",
        "last_end",
        "redrives",
        "ts",
        "end_visit",
    )

    def __init__(self, branch_index: Mapping[tuple[str, str | None], int], fail_info: Mapping[str, tuple]):
        self.branch_index = branch_index
        self.fail_info = fail_info
        self.open: dict[int, _Visit] = {}  # entered event id → visit not ended yet
        self.top = _Scope(None, None)
        self.visits: list[_Visit] = []
        self.ctx: dict[int, _Visit | None] = {}  # event id → the visit it belongs to
        self.openers: dict[int, Any] = {}  # MapIterationStarted → its scope; ParallelStateStarted → the visit
        self.warned: set[str] = set()
        self.terminal: Mapping | None = None
        self.started: Mapping | None = None
        self.succeeded: Mapping | None = None
        self.last_end: Mapping | None = None
        self.redrives = 0
        self.ts: datetime | None = None  # time of the last event seen
        self.end_visit: _Visit | None = None

    def close(self, v: _Visit, term: str, ts: datetime | None) -> None:
        """End a visit that did not exit; `term` says why (scope, FAILED, TIMED_OUT, ABORTED, ...)."""
        if not v.open:
            return
        if v.type == "Fail":
            status = "FAILED"
        elif v.aborted:
            status = "ABORTED"
        elif term in ("TIMED_OUT", "ABORTED", "RUNNING", "SUCCEEDED"):
            status = term
        elif v.pending:
            status = "TIMED_OUT" if v.timeout else "FAILED"
        elif v.on_path or term == "FAILED?":
            status = "FAILED"
        else:  # stopped because a sibling branch or iteration failed
            status = "ABORTED"
        if status == "TIMED_OUT" and v.error is None:
            v.error = "States.Timeout"
        v.status = status
        v.open = False
        if status != "RUNNING":
            v.ended_time = ts
        self.open.pop(v.entered_id, None)
        for s in v.children:
            self.close_scope(s, term, ts)

    def close_scope(self, scope: _Scope, term: str, ts: datetime | None) -> None:
        for v in scope.visits:
            if v.open:
                self.close(v, term, ts)

    def run(self, events: Iterable[Mapping], execution_status: str | None) -> _Replay:
        """Replay `events` (ascending ids) through the handlers, then settle what is still open."""
        dispatch = _DISPATCH
        unknown = _UNKNOWN
        ts = self.ts
        for ev in events:
            t = ev["type"]
            eid = ev["id"]
            p = ev.get("previousEventId") or 0
            ts = ev["timestamp"]
            handler, vtype = dispatch.get(t, unknown)
            handler(self, ev, t, eid, p, ts, vtype)
        self.ts = ts
        return self._finish(execution_status)

    def _finish(self, execution_status: str | None) -> _Replay:
        """Close visits the history left open, then fill in errors known only from elsewhere."""
        visits = self.visits
        if self.open:
            term = _END_OF_HISTORY.get(execution_status or "RUNNING", "RUNNING")
            for v in list(self.open.values()):
                self.close(v, term, self.ts)
        if self.fail_info:
            for v in visits:
                if v.type == "Fail" and v.error is None and v.name in self.fail_info:
                    v.error, v.cause = self.fail_info[v.name]
        # A failed Map/Parallel attempt has no error of its own (MapStateFailed carries none): take
        # the failing child's. Children come later in `visits`, so walk backwards.
        for v in reversed(visits):
            if v.error is None and v.failed_child is not None:
                v.error, v.cause = v.failed_child.error, v.failed_child.cause
        return _Replay(
            visits, self.terminal, self.started, self.succeeded, self.redrives, self.last_end, self.end_visit
        )

    # Handlers: (event, its type, id, previous id or 0, timestamp, type of the visit it belongs to).

    def _on_unknown(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: None) -> None:
        """Type not in EVENT_KINDS: warn once per replay, pass the event's visit through."""
        if t not in self.warned:
            self.warned.add(t)
            log.warning("unknown history event type %r: kept as an event, ignored for state runs", t)
        ctx = self.ctx
        ctx[eid] = ctx.get(p)

    def _on_info(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None) -> None:
        """Started/submitted events: no effect but passing the event's visit through."""
        ctx = self.ctx
        ctx[eid] = ctx.get(p)

    def _on_entered(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str) -> None:
        """*StateEntered: open a visit in the scope of the event it follows."""
        ctx = self.ctx
        d = ev.get("stateEnteredEventDetails") or {}
        name = d.get("name") or "?"
        opener = self.openers.get(p)
        prev = None
        if opener is None:
            pv = ctx.get(p)
            if pv is None:
                scope = self.top
            else:
                scope = pv.scope
                if pv.exited_id == p:
                    pv.next_state = name
                    prev = pv
        elif type(opener) is _Scope:
            scope = opener
        else:  # first state of a Parallel branch
            sub = opener.sub
            scope = sub.get(name)
            if scope is None:
                idx = self.branch_index.get((opener.name, name), len(sub))
                scope = sub[name] = _Scope(opener, idx)
                opener.children.append(scope)
        v = _Visit(name, vtype, scope, eid, ts)
        v.prev = prev
        scope.visits.append(v)
        self.visits.append(v)
        self.open[eid] = v
        ctx[eid] = v

    def _on_exited(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None) -> None:
        """*StateExited: the visit ends, SUCCEEDED or CAUGHT; what it enclosed ends with it."""
        ctx = self.ctx
        name = (ev.get("stateExitedEventDetails") or {}).get("name")
        v = _climb(ctx.get(p), vtype, name)
        if v is None:  # nothing to attach to: keep the chain going through this event
            ctx[eid] = ctx.get(p)
            return
        ctx[eid] = v
        v.exited_id = eid
        v.ended_time = ts
        v.status = "CAUGHT" if v.pending else "SUCCEEDED"
        v.open = False
        del self.open[v.entered_id]
        for s in v.children:
            self.close_scope(s, "scope", ts)

    def _on_scheduled(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None) -> None:
        """Task/Lambda/Activity scheduled: a new attempt of the Task; the first one names the resource."""
        ctx = self.ctx
        v = ctx.get(p)
        if v is None or not v.open or v.type != "Task":
            v = _climb(v, "Task")
        ctx[eid] = v
        if v is not None:
            v.attempts += 1
            v.pending = False
            if v.resource is None:
                if t == "TaskScheduled":
                    d = ev.get("taskScheduledEventDetails") or {}
                    v.resource = f"{d.get('resourceType')}:{d.get('resource')}"
                else:
                    d = ev.get(_detail_key(t)) or {}
                    v.resource = d.get("resource")

    def _on_failed(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None) -> None:
        """*Failed: the current attempt failed."""
        self._attempt_failed(ev, t, eid, p, ts, vtype, False)

    def _on_timed_out(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None) -> None:
        """*TimedOut: the current attempt timed out."""
        self._attempt_failed(ev, t, eid, p, ts, vtype, True)

    def _attempt_failed(
        self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None, timeout: bool
    ) -> None:
        """Record a failed attempt (error, cause); a failed Map/Parallel also ends what it enclosed."""
        ctx = self.ctx
        pv = ctx.get(p)
        v = pv if pv is not None and pv.open and vtype in (None, pv.type) else _climb(pv, vtype)
        if v is None:  # nothing to attach to: keep the chain going through this event
            ctx[eid] = ctx.get(p)
            return
        ctx[eid] = v
        d = ev.get(_detail_key(t))
        if d:
            v.error = d.get("error")
            v.cause = d.get("cause")
        v.pending = True
        v.timeout = timeout
        if vtype == "Map" or vtype == "Parallel":
            if pv is not None and pv is not v:
                v.failed_child = pv
            for s in v.children:
                self.close_scope(s, "scope", ts)

    def _attach(self, eid: int, p: int, vtype: str | None) -> _Visit | None:
        """The open visit of `vtype` the event at `eid` (after `p`) belongs to: the previous event's, or the
        nearest enclosing one. None when there is none: the chain then goes on through this event."""
        pv = self.ctx.get(p)
        v = pv if pv is not None and pv.open and pv.type == vtype else _climb(pv, vtype)
        self.ctx[eid] = v if v is not None else pv
        return v

    def _on_succeeded(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None) -> None:
        """*Succeeded (task, Map, Parallel): the last attempt did not fail."""
        v = self._attach(eid, p, vtype)
        if v is None:
            return
        v.pending = False

    def _on_aborted(self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None) -> None:
        """*Aborted: the visit and everything it enclosed were aborted."""
        v = self._attach(eid, p, vtype)
        if v is None:
            return
        v.aborted = True
        for s in v.children:
            self.close_scope(s, "ABORTED", ts)

    def _on_container_started(
        self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None
    ) -> None:
        """MapStateStarted/ParallelStateStarted: a new attempt of a Map or Parallel state."""
        v = self._attach(eid, p, vtype)
        if v is None:
            return
        v.attempts += 1
        v.pending = False
        v.sub = {}
        if not v.children:
            v.children = []
        if vtype == "Parallel":
            self.openers[eid] = v

    def _on_iteration_started(
        self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None
    ) -> None:
        """MapIterationStarted: open the iteration's scope in its Map visit."""
        ctx = self.ctx
        d = ev.get(_detail_key(t)) or {}
        v = _climb(ctx.get(p), "Map", d.get("name"))
        if v is None:  # nothing to attach to: keep the chain going through this event
            ctx[eid] = ctx.get(p)
            return
        ctx[eid] = v
        idx = d.get("index")
        scope = _Scope(v, idx)
        if v.sub is None:  # no MapStateStarted seen
            v.sub, v.children = {}, []
        v.sub[idx] = scope
        cast(list, v.children).append(scope)  # a list from here on: set just above or by MapStateStarted
        self.openers[eid] = scope

    def _on_iteration_ended(
        self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None
    ) -> None:
        """MapIteration{Succeeded,Failed,Aborted}: end what is still open in the iteration."""
        ctx = self.ctx
        d = ev.get(_detail_key(t)) or {}
        pv = ctx.get(p)
        v = _climb(pv, "Map", d.get("name"))
        if v is None:  # nothing to attach to: keep the chain going through this event
            ctx[eid] = ctx.get(p)
            return
        ctx[eid] = v
        idx = d.get("index")
        if t == "MapIterationFailed" and pv is not None and pv is not v:
            v.failed_child = pv
        scope = v.sub.get(idx) if v.sub is not None else None
        if scope is not None:
            self.close_scope(scope, "ABORTED" if t == "MapIterationAborted" else "scope", ts)

    def _on_execution_ended(
        self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None
    ) -> None:
        """Execution{Succeeded,Failed,TimedOut,Aborted}: every open visit ends with the execution."""
        self.last_end = ev
        status = _EXECUTION_END_STATUS[t]
        if t == "ExecutionSucceeded":
            self.succeeded = ev.get("executionSucceededEventDetails")
        else:
            self.terminal = ev
            self.end_visit = self.ctx.get(p)
            d = ev.get(_detail_key(t)) or {}
            self._mark_path(self.end_visit, d.get("error"), d.get("cause"))
        for v in list(self.open.values()):
            self.close(v, status, ts)

    def _on_execution_started(
        self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None
    ) -> None:
        """ExecutionStarted: keep its details (input, version and alias ARNs)."""
        self.started = ev.get("executionStartedEventDetails")

    def _on_execution_redriven(
        self, ev: Mapping, t: str, eid: int, p: int, ts: datetime, vtype: str | None
    ) -> None:
        """ExecutionRedriven: count the redrive (the event's own count wins when higher)."""
        self.redrives = max(
            self.redrives + 1, (ev.get("executionRedrivenEventDetails") or {}).get("redriveCount") or 0
        )

    @staticmethod
    def _mark_path(v: _Visit | None, error: str | None, cause: str | None) -> None:
        """Mark the visits the execution failed in: `v`, its enclosing states, and the failed children."""
        path: list[_Visit] = []
        x = v
        while x is not None:
            path.append(x)
            x = x.scope.parent
        x = v.failed_child if v is not None else None
        while x is not None and x not in path:
            path.append(x)
            x = x.failed_child
        for x in path:
            x.on_path = True
            if x.error is None:
                x.error, x.cause = error, cause


# Handler signature: (replayer, event, type, id, previous id or 0, timestamp, type of the visit it belongs to).
_Handler = Callable[[_Replayer, Mapping, str, int, int, datetime, Any], None]

_HANDLERS: dict[int, _Handler] = {
    ENTERED: _Replayer._on_entered,
    EXITED: _Replayer._on_exited,
    SCHEDULED: _Replayer._on_scheduled,
    FAILED: _Replayer._on_failed,
    TIMED_OUT_EV: _Replayer._on_timed_out,
    SUCCEEDED_EV: _Replayer._on_succeeded,
    ABORTED_EV: _Replayer._on_aborted,
    CONTAINER_STARTED: _Replayer._on_container_started,
    ITERATION_STARTED: _Replayer._on_iteration_started,
    ITERATION_ENDED: _Replayer._on_iteration_ended,
    INFO: _Replayer._on_info,
    EXECUTION_STARTED: _Replayer._on_execution_started,
    EXECUTION_ENDED: _Replayer._on_execution_ended,
    EXECUTION_REDRIVEN: _Replayer._on_execution_redriven,
}
# Keyed by event type so that one lookup per event gives both the handler and the visit type; plain
# functions called with the replayer, so nothing is bound per replay or per event.
_DISPATCH: dict[str, tuple[_Handler, str | None]] = {
    t: (_HANDLERS[kind], vtype) for t, (kind, vtype) in EVENT_KINDS.items()
}
_UNKNOWN: tuple[_Handler, str | None] = (_Replayer._on_unknown, None)


# Status of visits still open when a history ends without a terminal event (e.g. a truncated
# history of a finished execution): best effort from the execution's status.
_END_OF_HISTORY = {
    "RUNNING": "RUNNING",
    "SUCCEEDED": "SUCCEEDED",
    "FAILED": "FAILED?",
    "PENDING_REDRIVE": "FAILED?",
    "TIMED_OUT": "TIMED_OUT",
    "ABORTED": "ABORTED",
}


def _detail_key(t: str) -> str:
    """Details member of a non-state event type (e.g. TaskFailed → taskFailedEventDetails)."""
    return _DETAIL_KEYS.get(t) or t[0].lower() + t[1:] + "EventDetails"


_DETAIL_KEYS = {t: t[0].lower() + t[1:] + "EventDetails" for t in EVENT_KINDS}


@functools.lru_cache(maxsize=256)
def _definition_index_text(text: str) -> tuple[dict, dict]:
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}, {}
    return _definition_index(parsed)


def _definition_index(definition: Any) -> tuple[dict[tuple[str, str | None], int], dict[str, tuple]]:
    """(Parallel state, first state of a branch) → branch index, and Fail state → (Error, Cause)."""
    branches: dict[tuple[str, str | None], int] = {}
    fails: dict[str, tuple] = {}
    stack = [definition]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        states = node.get("States")
        if not isinstance(states, Mapping):
            continue
        for name, st in states.items():
            if not isinstance(st, Mapping):
                continue
            typ = st.get("Type")
            if typ == "Parallel":
                for i, b in enumerate(st.get("Branches") or ()):
                    if isinstance(b, Mapping):
                        branches[(name, b.get("StartAt"))] = i
                        stack.append(b)
            elif typ == "Map":
                stack.append(st.get("ItemProcessor") or st.get("Iterator"))
            elif typ == "Fail" and (st.get("Error") or st.get("Cause")):
                fails[name] = (st.get("Error"), st.get("Cause"))
    return branches, fails


def _index_for(definition: Mapping | str | None) -> tuple[Mapping, Mapping]:
    if definition is None:
        return {}, {}
    if isinstance(definition, str):
        return _definition_index_text(definition)
    return _definition_index(definition)


def _replay(
    events: Sequence[Mapping], definition: Mapping | str | None, execution_status: str | None
) -> _Replay:
    # recordings loaded from JSON carry string timestamps: say so instead of failing later on arithmetic
    if events and not (isinstance(events[0], Mapping) and isinstance(events[0].get("timestamp"), datetime)):
        raise ValueError(_bad_events(events) or "history events need datetime timestamps")
    try:
        return _Replayer(*_index_for(definition)).run(events, execution_status)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(_bad_events(events) or f"cannot replay history: {e!r}") from e


_EVENT_KEYS = ("id", "type", "timestamp")


def _bad_events(events: Sequence[Mapping]) -> str | None:
    """Describe the first malformed event (missing id/type/timestamp, not a mapping), if any."""
    for i, ev in enumerate(events):
        if not isinstance(ev, Mapping):
            return f"history event #{i} is a {type(ev).__name__}, not a mapping"
        missing = [k for k in _EVENT_KEYS if ev.get(k) is None]
        if missing:
            return f"history event #{i} (id={ev.get('id')!r}) lacks {', '.join(missing)}"
        if not isinstance(ev["timestamp"], datetime):
            return f"history event #{i} (id={ev['id']}) has a {type(ev['timestamp']).__name__} timestamp"
    return None


def _ascending(events: Sequence[Mapping]) -> Sequence[Mapping]:
    """Events in ascending id order (a reverseOrder=True fetch is turned around)."""
    if len(events) > 1 and events[0].get("id", 0) > events[-1].get("id", 0):
        return sorted(events, key=lambda e: e.get("id", 0))
    return events


def _state_run_rows(r: _Replay, arn: str, sm_arn: str | None, tail: dict | None) -> list[dict]:
    rows = []
    for v in r.visits:
        parent = v.scope.parent
        ended = v.ended_time
        row = {
            "execution_arn": arn,
            "entered_event_id": v.entered_id,
            "exited_event_id": v.exited_id,
            "state_machine_arn": sm_arn,
            "state_name": v.name,
            "state_type": v.type,
            "parent_state": parent.name if parent is not None else None,
            "iteration": v.scope.iteration,
            "entered_time": v.entered_time,
            "exited_time": ended,
            "duration_ms": (ended - v.entered_time) // _MS if ended is not None else None,
            "attempts": v.attempts or 1,
            "status": v.status,
            "error": v.error,
            "cause": v.cause,
            "resource": v.resource,
            "next_state": v.next_state,
        }
        if tail:
            row.update(tail)
        rows.append(row)
    return rows


def state_runs_from_events(
    events: Sequence[Mapping],
    *,
    execution_arn: str,
    state_machine_arn: str,
    definition: Mapping | str | None = None,
    execution_status: str | None = None,
) -> list[dict]:
    """STATE_RUNS rows: one per visit of a state, rebuilt from the history's event links.

    `definition` (ASL as a dict or JSON text) numbers Parallel branches in definition order and
    gives Fail states their static Error/Cause; `execution_status` settles visits left open by a
    history that ends without a terminal event.
    """
    events = _ascending(events)
    return _state_run_rows(
        _replay(events, definition, execution_status), execution_arn, state_machine_arn, None
    )


# ---------------------------------------------------------------------------------------------
# executions


@dataclass
class NormalizedExecution:
    execution: dict  # one EXECUTIONS row (+domain, date)
    state_runs: list[dict]  # STATE_RUNS rows (+domain, date)
    events: list[dict]  # EVENTS rows (+domain, date)


def _payload(text: Any, details: Mapping | None) -> tuple[str | None, int | None, str | None]:
    """(sha256 hex, byte size, text) of a payload; all None when absent, not included or truncated."""
    if not isinstance(text, str) or (
        details and (details.get("included") is False or details.get("truncated"))
    ):
        return None, None, None
    raw = text.encode("utf-8")
    return hashlib.sha256(raw).hexdigest(), len(raw), text


def trace_root(trace_header: str | None) -> str | None:
    """The `Root=` value of an X-Ray trace header, e.g. `1-5759e988-bd862e3fe1be46a994272793`."""
    if not trace_header:
        return None
    for part in trace_header.split(";"):
        k, _, val = part.strip().partition("=")
        if k == "Root":
            return val or None
    return None


ROOT_COLUMNS = ("root_state", "root_error", "root_cause", "root_path")


def _last_unwell_top_visit(r: _Replay) -> _Visit | None:
    """The last top-level visit that did not end well (FAILED, TIMED_OUT or ABORTED), if any."""
    return next((v for v in reversed(r.visits) if v.scope.parent is None and v.status in UNSUCCESSFUL), None)


def _failure(execution: Mapping, status: str | None, r: _Replay) -> tuple[str | None, str | None, str | None]:
    """(error, cause, failed state) of an execution: from its record, else from its history."""
    error, cause = execution.get("error"), execution.get("cause")
    if error is None and cause is None and status in UNSUCCESSFUL and r.terminal:
        d = r.terminal.get(_detail_key(r.terminal["type"])) or {}
        error, cause = d.get("error"), d.get("cause")
    if status == "TIMED_OUT" and error is None:
        error = "States.Timeout"
    failed_state = None
    if status not in ("SUCCEEDED", "RUNNING", None):
        v = _last_unwell_top_visit(r)
        failed_state = v.name if v is not None else None
    return error, cause, failed_state


def _root_visit(r: _Replay, status: str | None) -> _Visit | None:
    """The state whose failure ended the execution (see `root_failure`)."""
    if status in ("SUCCEEDED", "RUNNING", None):
        return None
    v = r.end_visit
    if v is None:  # no terminal event (a truncated history)
        v = _last_unwell_top_visit(r)
    for _ in range(len(r.visits) + 1):  # each step moves to an earlier or a deeper visit
        if v is None:
            return None
        if v.type == "Fail":
            caught = v.prev
            while caught is not None and caught.status != "CAUGHT":
                caught = caught.prev
            if caught is None:
                return v  # reached without a caught failure (e.g. a Choice): the Fail state is the root
            v = caught
        elif v.type in ("Map", "Parallel") and v.failed_child is not None:
            v = v.failed_child
        else:
            return v
    return v


def root_failure(
    r: _Replay, status: str | None, error: str | None, cause: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """(root_state, root_error, root_cause, root_path) of a finished, unsuccessful execution.

    The root is the first state whose failure (after its retries, caught or not) led to the end: from
    the state the terminal event followed, a Fail state leads back to the latest CAUGHT state before
    it in its scope, and a failed Map or Parallel state into the iteration or branch that failed it,
    to any depth. `root_path` names the enclosing states outermost first, `Map[iteration]` joined by
    `/` (null at top level). Without a state (no history, or none failed), the execution's own error.
    """
    if status in ("SUCCEEDED", "RUNNING", None):
        return None, None, None, None
    v = _root_visit(r, status)
    if v is None:
        return None, error, cause, None
    parts = []
    scope = v.scope
    while scope.parent is not None:
        parts.append(
            f"{scope.parent.name}[{scope.iteration}]" if scope.iteration is not None else scope.parent.name
        )
        scope = scope.parent.scope
    if v.error is not None:
        error, cause = v.error, v.cause
    return v.name, error, cause, "/".join(reversed(parts)) or None


def normalize_execution(
    execution: Mapping,
    events: Sequence[Mapping],
    *,
    state_machine: Mapping,
    include_payloads: bool = False,
    history_complete: bool = True,
    history_error: str | None = None,
    collected_at: datetime,
    definition: Mapping | str | None = None,
    history_source: str = "api",
) -> NormalizedExecution:
    """One execution and its history → an EXECUTIONS row, STATE_RUNS rows and EVENTS rows.

    `execution` is a DescribeExecution response or a ListExecutions item; what the latter lacks
    (error, cause, stop time, input/output when the history carries them) is taken from the
    history. `definition` defaults to `state_machine["definition"]` (JSON text) when present.
    `history_source` marks every row with where the history came from (`api`, or `logs` for
    events rebuilt from CloudWatch Logs records).
    """
    for rec, what, keys in (
        (execution, "execution record", ("executionArn", "startDate")),
        (state_machine, "state_machine", ("domain",)),
    ):
        missing = [k for k in keys if rec.get(k) is None]
        if missing:
            raise ValueError(f"{what} lacks {', '.join(missing)}: {dict(rec)!r:.300}")
    arn = execution["executionArn"]
    sm_arn = state_machine.get("state_machine_arn") or execution.get("stateMachineArn")
    status = execution.get("status")
    start = execution["startDate"]
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise ValueError(f"{arn}: startDate must be a timezone-aware datetime, got {start!r}")
    tail = {"domain": state_machine["domain"], "date": utc_date(start), "history_source": history_source}
    events = _ascending(events)
    if definition is None:
        definition = state_machine.get("definition")

    r = _replay(events, definition, status)
    runs = _state_run_rows(r, arn, sm_arn, tail)

    stop = execution.get("stopDate")
    if stop is None and status != "RUNNING" and r.last_end is not None:
        stop = r.last_end["timestamp"]
    error, cause, failed_state = _failure(execution, status, r)

    started = r.started or {}
    if "input" in execution or "inputDetails" in execution:
        in_hash, in_bytes, in_text = _payload(execution.get("input"), execution.get("inputDetails"))
    else:
        in_hash, in_bytes, in_text = _payload(started.get("input"), started.get("inputDetails"))
    if "output" in execution or "outputDetails" in execution:
        out_hash, out_bytes, out_text = _payload(execution.get("output"), execution.get("outputDetails"))
    elif r.succeeded is not None and status == "SUCCEEDED":
        out_hash, out_bytes, out_text = _payload(r.succeeded.get("output"), r.succeeded.get("outputDetails"))
    else:
        out_hash = out_bytes = out_text = None

    redrive_count = execution.get("redriveCount")
    row = {
        "execution_arn": arn,
        "state_machine_arn": sm_arn,
        "state_machine_name": state_machine.get("name"),
        "account_id": state_machine.get("account_id"),
        "region": state_machine.get("region"),
        "name": execution.get("name"),
        "status": status,
        "start_time": start,
        "stop_time": stop,
        "duration_ms": (stop - start) // _MS if stop is not None else None,
        "error": error,
        "cause": cause,
        "failed_state": failed_state,
        **dict(zip(ROOT_COLUMNS, root_failure(r, status, error, cause), strict=True)),
        "redrive_count": redrive_count if redrive_count is not None else r.redrives,
        "redrive_status": execution.get("redriveStatus"),
        "redrive_status_reason": execution.get("redriveStatusReason"),
        "redrive_date": execution.get("redriveDate"),
        "state_machine_version_arn": execution.get("stateMachineVersionArn")
        or started.get("stateMachineVersionArn"),
        "state_machine_alias_arn": execution.get("stateMachineAliasArn")
        or started.get("stateMachineAliasArn"),
        "trace_id": trace_root(execution.get("traceHeader")),
        "input_sha256": in_hash,
        "input_bytes": in_bytes,
        "output_sha256": out_hash,
        "output_bytes": out_bytes,
        "input": in_text if include_payloads else None,
        "output": out_text if include_payloads else None,
        "event_count": len(events),
        "history_complete": history_complete,
        "history_error": history_error,
        "collected_at": collected_at,
        **tail,
    }
    return NormalizedExecution(row, runs, _event_rows(events, arn, include_payloads, tail))


def history_from_rows(events: pa.Table) -> dict[str, list[dict]]:
    """Stored `events` rows → execution ARN → its history events (ascending ids), shaped as
    GetExecutionHistory returns them (details as stored: payloads stripped unless opted in)."""
    by_arn: dict[str, list[dict]] = {}
    keys = details_keys()
    for e in events.sort_by([("execution_arn", "ascending"), ("event_id", "ascending")]).to_pylist():
        ev = {
            "id": e["event_id"],
            "previousEventId": e["previous_event_id"],
            "timestamp": e["timestamp"],
            "type": e["type"],
        }
        key = keys.get(e["type"])
        if key and e["details_json"]:
            ev[key] = json.loads(e["details_json"])
        by_arn.setdefault(e["execution_arn"], []).append(ev)
    return by_arn


def with_root_failures(
    executions: pa.Table, events: pa.Table, definitions: Mapping[str, str | None]
) -> pa.Table:
    """`executions` rows with their root failure replayed from stored `events` rows (a lake written
    before the collector computed it). Rows that did not end unsuccessfully keep nulls; an execution
    without stored events gets its own error."""
    status = executions.column("status").to_pylist()
    todo = [i for i, s in enumerate(status) if s not in ("SUCCEEDED", "RUNNING", None)]
    cols: dict[str, list] = {c: [None] * len(executions) for c in ROOT_COLUMNS}
    if todo:
        arns = executions.column("execution_arn").take(todo)
        by_arn = history_from_rows(events.filter(pc.is_in(events.column("execution_arn"), value_set=arns)))
        rows = executions.select(["execution_arn", "state_machine_arn", "error", "cause"]).to_pylist()
        for i in todo:
            row = rows[i]
            r = _replay(
                by_arn.get(row["execution_arn"], []), definitions.get(row["state_machine_arn"]), status[i]
            )
            for c, v in zip(
                ROOT_COLUMNS, root_failure(r, status[i], row["error"], row["cause"]), strict=True
            ):
                cols[c][i] = v
    for c, values in cols.items():
        executions = executions.set_column(
            executions.schema.get_field_index(c), c, pa.array(values, pa.string())
        )
    return executions
