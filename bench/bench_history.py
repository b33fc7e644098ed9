"""Throughput of history normalization (events/s), next to a naive per-event deepcopy + dumps.

Run: .venv/bin/python bench/bench_history.py   (prints figures; not a test)
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from collectors.stepfunctions.normalize import event_rows, normalize_execution, state_runs_from_events

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:orders:e1"
SM = {
    "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
    "name": "orders",
    "domain": "payments",
    "account_id": "123456789012",
    "region": "us-east-1",
}
PAYLOAD = json.dumps({"orderId": "o-123", "items": [{"sku": "A1", "qty": 2}], "customer": {"id": "c-9"}})


class _Builder:
    def __init__(self, with_data: bool):
        self.events: list[dict] = []
        self.data = with_data

    def add(self, type_: str, prev: int | None, key: str | None = None, **details) -> int:
        eid = len(self.events) + 1
        ev = {
            "timestamp": T0 + timedelta(milliseconds=10 * eid),
            "type": type_,
            "id": eid,
            "previousEventId": eid - 1 if prev is None else prev,
        }
        if key:
            if not self.data:
                details = {k: v for k, v in details.items() if k not in ("input", "output", "parameters")}
            ev[key] = details
        self.events.append(ev)
        return eid

    def state(self, typ: str, name: str, prev: int | None, task: bool = False) -> int:
        e = self.add(
            f"{typ}StateEntered",
            prev,
            "stateEnteredEventDetails",
            name=name,
            input=PAYLOAD,
            inputDetails={"truncated": False},
        )
        if task:
            self.add(
                "TaskScheduled",
                e,
                "taskScheduledEventDetails",
                resourceType="lambda",
                resource="invoke",
                region="us-east-1",
                parameters=PAYLOAD,
                timeoutInSeconds=60,
            )
            self.add("TaskStarted", None, "taskStartedEventDetails", resourceType="lambda", resource="invoke")
            self.add(
                "TaskSucceeded",
                None,
                "taskSucceededEventDetails",
                resourceType="lambda",
                resource="invoke",
                output=PAYLOAD,
                outputDetails={"truncated": False},
            )
        return self.add(
            f"{typ}StateExited",
            None,
            "stateExitedEventDetails",
            name=name,
            output=PAYLOAD,
            outputDetails={"truncated": False},
        )


def realistic(with_data: bool) -> list[dict]:
    """~20 events: 3 Lambda tasks, a Choice, a Pass (a typical exception-triage flow)."""
    b = _Builder(with_data)
    b.add(
        "ExecutionStarted",
        0,
        "executionStartedEventDetails",
        input=PAYLOAD,
        inputDetails={"truncated": False},
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    x = b.state("Task", "Triage", 0, task=True)
    x = b.state("Choice", "Route", x)
    x = b.state("Task", "Resolve", x, task=True)
    x = b.state("Task", "Notify", x, task=True)
    x = b.state("Pass", "Done", x)
    b.add(
        "ExecutionSucceeded",
        x,
        "executionSucceededEventDetails",
        output=PAYLOAD,
        outputDetails={"truncated": False},
    )
    return b.events


def big_map(with_data: bool, target: int = 25_000) -> list[dict]:
    """A Map whose iterations run one Pass state each, up to `target` events (the history cap)."""
    b = _Builder(with_data)
    b.add(
        "ExecutionStarted",
        0,
        "executionStartedEventDetails",
        input=PAYLOAD,
        inputDetails={"truncated": False},
    )
    b.add(
        "MapStateEntered",
        0,
        "stateEnteredEventDetails",
        name="Items",
        input=PAYLOAD,
        inputDetails={"truncated": False},
    )
    n = (target - 6) // 4
    started = b.add("MapStateStarted", None, "mapStateStartedEventDetails", length=n)
    last = started
    for i in range(n):
        it = b.add("MapIterationStarted", started, "mapIterationStartedEventDetails", name="Items", index=i)
        x = b.state("Pass", "Price", it)
        last = b.add("MapIterationSucceeded", x, "mapIterationSucceededEventDetails", name="Items", index=i)
    ok = b.add("MapStateSucceeded", last)
    x = b.add(
        "MapStateExited",
        ok,
        "stateExitedEventDetails",
        name="Items",
        output="[]",
        outputDetails={"truncated": False},
    )
    b.add(
        "ExecutionSucceeded",
        x,
        "executionSucceededEventDetails",
        output="[]",
        outputDetails={"truncated": False},
    )
    return b.events


def naive_event_rows(events: list[dict]) -> list[dict]:
    """The obvious way: deepcopy each event, pop payload keys, dumps with default settings."""
    rows = []
    for ev in events:
        ev = copy.deepcopy(ev)
        details = next((v for k, v in ev.items() if k.endswith("EventDetails")), None)
        if details is not None:
            for k in ("input", "output", "parameters"):
                details.pop(k, None)
        rows.append(
            {
                "execution_arn": ARN,
                "event_id": ev["id"],
                "type": ev["type"],
                "details_json": json.dumps(details, default=str) if details is not None else None,
            }
        )
    return rows


def rate(fn: Callable[[], object], events_per_call: int, min_seconds: float = 0.5) -> float:
    """Events per CPU second of `fn`, repeated until `min_seconds` of CPU (best of 3 rounds).

    CPU time, not wall time: the figures stay meaningful on a machine shared with other jobs.
    """
    best = 0.0
    for _ in range(3):
        calls, t0 = 0, time.process_time()
        while True:
            fn()
            calls += 1
            dt = time.process_time() - t0
            if dt >= min_seconds:
                break
        best = max(best, calls * events_per_call / dt)
    return best


def describe(events: list[dict]) -> dict:
    return {
        "executionArn": ARN,
        "name": "e1",
        "status": "SUCCEEDED",
        "startDate": T0,
        "stopDate": events[-1]["timestamp"],
        "input": PAYLOAD,
        "inputDetails": {"included": True},
        "output": PAYLOAD,
        "outputDetails": {"included": True},
        "redriveCount": 0,
    }


def _steps(events: list[dict], now: datetime) -> dict[str, Callable[[], object]]:
    ex = describe(events)
    return {
        "normalize_execution": lambda: normalize_execution(ex, events, state_machine=SM, collected_at=now),
        "state_runs_from_events": lambda: state_runs_from_events(
            events, execution_arn=ARN, state_machine_arn=SM["state_machine_arn"]
        ),
        "event_rows": lambda: event_rows(events, execution_arn=ARN),
        "naive event rows (ref)": lambda: naive_event_rows(events),
    }


def main() -> None:
    now = datetime.now(UTC)
    print(f"load average {os.getloadavg()[0]:.1f}; rates are per CPU second of one core")
    print(f"{'history':<32}{'step':<26}{'events/s':>12}{'µs/event':>10}")
    for label, events in (
        ("20-event, with data", realistic(True)),
        ("20-event, no data", realistic(False)),
        ("25k-event Map, with data", big_map(True)),
        ("25k-event Map, no data", big_map(False)),
    ):
        n = len(events)
        steps = _steps(events, now)
        for step, fn in steps.items():
            r = rate(fn, n)
            print(f"{label + f' ({n})':<32}{step:<26}{r:>12,.0f}{1e6 / r:>10.2f}")
    events = realistic(False)
    ex = describe(events)
    per_exec = rate(lambda: normalize_execution(ex, events, state_machine=SM, collected_at=now), 1)
    print(
        f"\n100,000 executions x {len(events)} events through normalize_execution: "
        f"{100_000 / per_exec:.1f} CPU s ({per_exec:,.0f} executions/s)"
    )


if __name__ == "__main__":
    main()
