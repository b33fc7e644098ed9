"""One execution's path through an ASL definition, as GetExecutionHistory events (pure).

The walker honours Choice, Retry (per retrier counters, back-off), Catch, inline Map, distributed
Map (a map run), Parallel, Wait, Pass, Succeed and Fail, plus aborts, execution timeouts and one
redrive. Times are not drawn here: every event carries a *slot*, the law of the gap since the
previous event, so the same path can be replayed for many executions with numpy-drawn times.
Branches and iterations are laid out one after another (the history of MaxConcurrency 1).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from collectors.simulate.model import ERRORS, Behaviour, MachineSpec

# Slot kinds: the gap before an event. "l": log-normal (median ms, sigma, cap ms); "c": constant
# ms; "abs": the event happens at start + a ms (execution timeout), or right after the previous one.
Slot = tuple[str, float, float, float]
OVERHEAD: Slot = ("l", 25.0, 0.5, 0.0)
TICK: Slot = ("l", 8.0, 0.4, 0.0)
MAX_STEPS = 400  # guards loops in a definition (e.g. a Catch that leads back to the same state)
EXEC_NAME = "{exec_name}"  # placeholder replaced by each execution's name (map run ARNs)


@dataclass
class Event:
    """An event before times are known: type, detail field and value, causal previous event."""

    type: str
    field: str | None
    details: dict[str, Any] | None
    prev: int  # id of the previous event in the same branch (0 for ExecutionStarted)
    slot: Slot


@dataclass
class Path:
    """The result of a walk: its key (every random decision), events and terminal status."""

    key: tuple
    events: list[Event]
    status: str
    error: str | None = None
    cause: str | None = None
    failed_state: str | None = None
    redriven: bool = False
    facts: dict[str, Any] = field(default_factory=dict)


class _Stop(Exception):
    """Abort or execution timeout: unwinds the walk."""

    def __init__(self, status: str, error: str, cause: str):
        self.status, self.error, self.cause = status, error, cause


def _matches(error: str, equals: list[str]) -> bool:
    for e in equals:
        if e == error or (e == "States.ALL" and error != "States.Runtime"):
            return True
        if e == "States.TaskFailed" and error not in (
            "States.Timeout",
            "States.Runtime",
            "States.HeartbeatTimeout",
        ):
            return True
    return False


def _resource_parts(resource: str) -> tuple[str, str]:
    """resourceType and resource as the history names them (lambda / invoke, sqs / sendMessage...)."""
    if resource.startswith("arn:aws:states:::"):
        rest = resource[len("arn:aws:states:::") :]
        if rest.startswith("aws-sdk:"):
            rest = rest[len("aws-sdk:") :]
        svc, _, action = rest.partition(":")
        return svc, action
    if ":function:" in resource:
        return "lambda", "invoke"
    return "activity", resource


class Walker:
    """Walks one machine under given state behaviours with a seeded `random.Random`."""

    def __init__(
        self,
        spec: MachineSpec,
        behaviours: dict[str, Behaviour],
        *,
        version_arn: str | None,
        alias_arn: str | None,
        region: str,
        redrive_behaviours: dict[str, Behaviour] | None = None,
    ):
        self.spec = spec
        self.beh = self.base_beh = behaviours
        self.redrive_beh = redrive_behaviours or behaviours
        self._details_cache: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.version_arn = version_arn
        self.alias_arn = alias_arn
        self.region = region
        self.timeout_ms = float(spec.definition.get("TimeoutSeconds") or 0) * 1000

    # -- public ------------------------------------------------------------------------------
    def walk(
        self,
        rng: random.Random | None,
        *,
        record: bool = True,
        script: tuple | None = None,
        allow_redrive: bool = True,
    ) -> Path:
        """One random path through the machine.

        `record=False` only collects the key (every decision), which is enough to count paths;
        `script` replays a key's decisions to get that path's events.
        """
        self.rng = rng
        self.key: list[int] = []  # bools (draw) and ints (pick, between)
        self.events: list[Event] = []
        self.last, self.steps = 0, 0
        self.record, self.n = record, 0
        self.script = iter(script) if script is not None else None
        self.beh = self.base_beh
        self.top_state: str | None = None
        started: dict[str, Any] = {"roleArn": self.spec.role_arn()}
        if self.version_arn:
            started["stateMachineVersionArn"] = self.version_arn
        if self.alias_arn:
            started["stateMachineAliasArn"] = self.alias_arn
        self.emit("ExecutionStarted", "executionStartedEventDetails", started, ("c", 0.0, 0.0, 0.0))
        path = self._run(self.spec.definition["StartAt"])
        if (
            allow_redrive
            and path.status == "FAILED"
            and path.failed_state
            and self.spec.redrive
            and self.spec.definition["States"][path.failed_state]["Type"] != "Fail"
            and self.draw(self.spec.redrive)
        ):
            self.emit(
                "ExecutionRedriven",
                "executionRedrivenEventDetails",
                {"redriveCount": 1},
                ("l", 2 * 3600e3, 0.8, 12 * 3600e3),
            )
            self.beh = self.redrive_beh  # a redrive runs later, after the incident
            second = self._run(path.failed_state)
            second.redriven = True
            second.facts["first_failure"] = (path.error, path.failed_state)
            path = second
        path.key = tuple(self.key)
        path.events = self.events
        return path

    def _run(self, start: str) -> Path:
        try:
            out = self.scope(self.spec.definition, start, top=True)
        except _Stop as stop:
            ev = {
                "ABORTED": ("ExecutionAborted", "executionAbortedEventDetails"),
                "TIMED_OUT": ("ExecutionTimedOut", "executionTimedOutEventDetails"),
            }[stop.status]
            slot = ("abs", self.timeout_ms, 0.0, 0.0) if stop.status == "TIMED_OUT" else ("l", 60e3, 1.0, 0.0)
            self.emit(ev[0], ev[1], {"error": stop.error, "cause": stop.cause}, slot)
            return Path((), [], stop.status, stop.error, stop.cause, self.top_state)
        if out is None:
            self.emit(
                "ExecutionSucceeded",
                "executionSucceededEventDetails",
                {"outputDetails": {"truncated": False}},
                OVERHEAD,
            )
            return Path((), [], "SUCCEEDED")
        error, cause = out
        self.emit(
            "ExecutionFailed", "executionFailedEventDetails", {"error": error, "cause": cause}, OVERHEAD
        )
        return Path((), [], "FAILED", error, cause, self.top_state)

    # -- random decisions (each recorded in the key) -----------------------------------------
    def draw(self, p: float) -> bool:
        if self.script is not None:
            hit = next(self.script)
        else:
            assert self.rng is not None, "a walk without a script draws from its rng"
            hit = p > 0 and self.rng.random() < p
        self.key.append(hit)
        return hit

    def pick(self, weights: tuple[float, ...] | list[float]) -> int:
        if self.script is not None:
            i = next(self.script)
        elif len(weights) == 1:
            i = 0
        else:
            assert self.rng is not None, "a walk without a script draws from its rng"
            r = self.rng.random() * sum(weights)
            i = len(weights) - 1
            acc = 0.0
            for j, w in enumerate(weights):
                acc += w
                if r < acc:
                    i = j
                    break
        self.key.append(i)
        return i

    def between(self, lo: int, hi: int) -> int:
        if self.script is not None:
            n = next(self.script)
        else:
            assert self.rng is not None, "a walk without a script draws from its rng"
            n = self.rng.randint(lo, hi)
        self.key.append(n)
        return n

    # -- events ------------------------------------------------------------------------------
    def emit(
        self, typ: str, fld: str | None, details: dict[str, Any] | None, slot: Slot, prev: int | None = None
    ) -> int:
        if self.record:
            self.events.append(Event(typ, fld, details, self.last if prev is None else prev, slot))
        self.n += 1
        self.last = self.n
        return self.n

    def entered(self, typ: str, name: str) -> None:
        self.emit(f"{typ}StateEntered", "stateEnteredEventDetails", {"name": name}, OVERHEAD)

    def exited(self, typ: str, name: str) -> None:
        self.emit(f"{typ}StateExited", "stateExitedEventDetails", {"name": name}, TICK)

    # -- scopes and states -------------------------------------------------------------------
    def scope(self, scope: dict[str, Any], start: str, *, top: bool = False) -> tuple[str, str] | None:
        """Run a scope from `start`; None when it ends well, else (error, cause)."""
        name: str | None = start
        states = scope["States"]
        while name is not None:
            self.steps += 1
            if self.steps > MAX_STEPS:
                return "States.Runtime", "The execution exceeded the simulator's step limit"
            if top:
                self.top_state = name
            body = states[name]
            result = getattr(self, "s_" + body["Type"].lower())(name, body)
            if isinstance(result, tuple):
                return result
            name = result
        return None

    def _next(self, body: dict[str, Any]) -> str | None:
        return None if body.get("End") else body.get("Next")

    def s_pass(self, name: str, body: dict[str, Any]) -> str | None:
        self.entered("Pass", name)
        self.exited("Pass", name)
        return self._next(body)

    def s_wait(self, name: str, body: dict[str, Any]) -> str | None:
        self.entered("Wait", name)
        b = self.beh.get(name)
        if b is not None and b.sigma > 0:
            self.emit(
                "WaitStateExited", "stateExitedEventDetails", {"name": name}, ("l", b.p50_ms, b.sigma, 0.0)
            )
        else:
            self.emit(
                "WaitStateExited",
                "stateExitedEventDetails",
                {"name": name},
                ("c", float(body.get("Seconds", 1)) * 1000, 0.0, 0.0),
            )
        return self._next(body)

    def s_succeed(self, name: str, body: dict[str, Any]) -> str | None:
        self.entered("Succeed", name)
        self.exited("Succeed", name)
        return None

    def s_fail(self, name: str, body: dict[str, Any]) -> tuple[str, str]:
        self.entered("Fail", name)
        return body.get("Error", "States.Fail"), body.get("Cause", "")

    def s_choice(self, name: str, body: dict[str, Any]) -> str | None:
        self.entered("Choice", name)
        rules = body["Choices"]
        weights = self.spec.choices.get(name) or tuple(
            [1.0] * len(rules) + ([1.0] if "Default" in body else [])
        )
        i = self.pick(weights)
        self.exited("Choice", name)
        return rules[i]["Next"] if i < len(rules) else body["Default"]

    def caught(self, body: dict[str, Any], error: str) -> str | None:
        for c in body.get("Catch") or ():
            if _matches(error, c["ErrorEquals"]):
                return c["Next"]
        return None

    def s_task(self, name: str, body: dict[str, Any]) -> str | tuple[str, str] | None:
        self.entered("Task", name)
        b = self.beh.get(name) or Behaviour(200.0, 0.4)
        timeout_s = body.get("TimeoutSeconds")
        heartbeat_s = body.get("HeartbeatSeconds")
        sched, rr = self._task_details(name, body)
        res = rr["resource"]
        cap = float(timeout_s) * 1000 * 0.98 if timeout_s else 0.0
        retriers = body.get("Retry") or []
        used = [0] * len(retriers)
        gap: Slot = OVERHEAD
        while True:
            self.emit("TaskScheduled", "taskScheduledEventDetails", dict(sched), gap)
            self.emit("TaskStarted", "taskStartedEventDetails", dict(rr), OVERHEAD)
            if res.endswith(".sync") or ".sync:" in res:
                self.emit("TaskSubmitted", "taskSubmittedEventDetails", dict(rr), ("l", 180.0, 0.4, 0.0))
            if self.draw(self.spec.aborts.get(name, 0.0)):
                raise _Stop("ABORTED", *self.spec.abort_reason)
            if self.draw(self.spec.stalls.get(name, 0.0)):
                raise _Stop("TIMED_OUT", "States.Timeout", "The execution timed out.")
            outcome = self.pick(
                (
                    max(0.0, 1 - b.fail - b.timeout - b.heartbeat),
                    b.fail,
                    b.timeout if timeout_s else 0.0,
                    b.heartbeat if heartbeat_s else 0.0,
                )
            )
            if outcome == 0:
                self.emit(
                    "TaskSucceeded", "taskSucceededEventDetails", dict(rr), ("l", b.p50_ms, b.sigma, cap)
                )
                self.exited("Task", name)
                return self._next(body)
            if outcome == 1:
                errs = b.errors or (("States.TaskFailed", 1.0),)
                error = errs[self.pick([w for _, w in errs])][0]
                cause = ERRORS.get(error, ("",))[0]
                self.emit(
                    "TaskFailed",
                    "taskFailedEventDetails",
                    {**rr, "error": error, "cause": cause},
                    ("l", b.p50_ms * 0.6, b.sigma, cap),
                )
            else:
                error = "States.Timeout" if outcome == 2 else "States.HeartbeatTimeout"
                cause = ERRORS[error][0]
                limit = timeout_s if outcome == 2 else heartbeat_s
                assert limit is not None  # that outcome has weight 0 without its limit
                secs = float(limit)
                self.emit(
                    "TaskTimedOut",
                    "taskTimedOutEventDetails",
                    {**rr, "error": error, "cause": cause},
                    ("c", secs * 1000, 0.0, 0.0),
                )
            retry = self._retry_gap(retriers, used, error)
            if retry is not None:
                gap = retry
                continue
            nxt = self.caught(body, error)
            if nxt is not None:
                self.exited("Task", name)
                return nxt
            return error, cause

    def _task_details(self, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """TaskScheduled details and the resource pair (cached: they never change for a state)."""
        hit = self._details_cache.get(name)
        if hit is None:
            rtype, res = _resource_parts(body["Resource"])
            sched: dict[str, Any] = {
                "resourceType": rtype,
                "resource": res,
                "region": self.region,
                "parameters": _parameters_shape(body.get("Parameters")),
            }
            if body.get("TimeoutSeconds"):
                sched["timeoutInSeconds"] = body["TimeoutSeconds"]
            if body.get("HeartbeatSeconds"):
                sched["heartbeatInSeconds"] = body["HeartbeatSeconds"]
            hit = self._details_cache[name] = (sched, {"resourceType": rtype, "resource": res})
        return hit

    def _retry_gap(self, retriers: list[dict[str, Any]], used: list[int], error: str) -> Slot | None:
        for i, r in enumerate(retriers):
            if _matches(error, r["ErrorEquals"]):
                if used[i] >= r.get("MaxAttempts", 3):
                    return None
                delay = r.get("IntervalSeconds", 1) * r.get("BackoffRate", 2.0) ** used[i]
                if r.get("MaxDelaySeconds"):
                    delay = min(delay, r["MaxDelaySeconds"])
                used[i] += 1
                jitter = 0.5 if r.get("JitterStrategy") == "FULL" else 0.05
                return ("l", delay * 1000 * (0.5 if jitter == 0.5 else 1.0), jitter, delay * 1000)
        return None

    def s_map(self, name: str, body: dict[str, Any]) -> str | tuple[str, str] | None:
        self.entered("Map", name)
        proc: dict[str, Any] = body.get("ItemProcessor") or body["Iterator"]
        mode = ((proc.get("ProcessorConfig") or {}).get("Mode") or "INLINE").upper()
        failure: tuple[str, str] | None = None
        if mode == "DISTRIBUTED":
            self.emit("MapStateStarted", "mapStateStartedEventDetails", {"length": 0}, TICK)
            arn = (
                f"arn:aws:states:{self.region}:{self.spec.arn().split(':')[4]}:mapRun:"
                f"{self.spec.name}/{name}:{EXEC_NAME}"
            )
            self.emit(
                "MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": arn}, ("l", 400.0, 0.3, 0.0)
            )
            p50, p_fail = self.spec.map_runs.get(name, (60e3, 0.0))
            if self.draw(p_fail):
                failure = (
                    "States.ExceedToleratedFailureThreshold",
                    ERRORS["States.ExceedToleratedFailureThreshold"][0],
                )
                self.emit(
                    "MapRunFailed",
                    "mapRunFailedEventDetails",
                    {"error": failure[0], "cause": failure[1]},
                    ("l", p50 * 0.7, 0.4, 0.0),
                )
            else:
                self.emit("MapRunSucceeded", None, None, ("l", p50, 0.4, 0.0))
        else:
            lo, hi = self.spec.map_items.get(name, (1, 3))
            n = self.between(lo, hi)
            started = self.emit("MapStateStarted", "mapStateStartedEventDetails", {"length": n}, TICK)
            for i in range(n):
                self.emit(
                    "MapIterationStarted",
                    "mapIterationStartedEventDetails",
                    {"name": name, "index": i},
                    TICK,
                    prev=started,
                )
                failure = self.scope(proc, proc["StartAt"])
                kind = "Failed" if failure else "Succeeded"
                self.emit(
                    f"MapIteration{kind}", f"mapIteration{kind}EventDetails", {"name": name, "index": i}, TICK
                )
                if failure:
                    break
        return self._close(name, body, "Map", failure)

    def s_parallel(self, name: str, body: dict[str, Any]) -> str | tuple[str, str] | None:
        self.entered("Parallel", name)
        started = self.emit("ParallelStateStarted", None, None, TICK)
        failure: tuple[str, str] | None = None
        for branch in body["Branches"]:
            self.last = started
            failure = self.scope(branch, branch["StartAt"])
            if failure:
                break
        return self._close(name, body, "Parallel", failure)

    def _close(
        self, name: str, body: dict[str, Any], typ: str, failure: tuple[str, str] | None
    ) -> str | tuple[str, str] | None:
        if failure is None:
            self.emit(f"{typ}StateSucceeded", None, None, TICK)
            self.exited(typ, name)
            return self._next(body)
        self.emit(f"{typ}StateFailed", None, None, TICK)  # these events carry no details
        nxt = self.caught(body, failure[0])
        if nxt is not None:
            self.exited(typ, name)
            return nxt
        return failure


def _parameters_shape(params: Any) -> str:
    """TaskScheduled `parameters` without payload values: the static part of the state's Parameters."""

    def keep(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: keep(x) for k, x in v.items() if not k.endswith(".$")}
        return v

    return json.dumps(keep(params or {}), separators=(",", ":"), sort_keys=True)
