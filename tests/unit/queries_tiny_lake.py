"""A tiny hand-made lake for the query tests; every expected figure in the tests is worked out from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lake.store import Lake

ACCT = "111122223333"
SM = "arn:aws:states:us-east-1:111122223333:stateMachine:"
EX = "arn:aws:states:us-east-1:111122223333:execution:"
PAY_A, PAY_B, CARE_A = SM + "pay-a", SM + "pay-b", SM + "care-a"


def t(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _ex(machine: str, name: str, start: datetime, status: str, duration_ms: int | None, **kw) -> dict:
    domain = "care" if machine == CARE_A else "pay"
    mname = machine.rsplit(":", 1)[1]
    return {
        "execution_arn": f"{EX}{mname}:{name}",
        "state_machine_arn": machine,
        "state_machine_name": mname,
        "account_id": ACCT,
        "region": "us-east-1",
        "name": name,
        "status": status,
        "start_time": start,
        "stop_time": start + timedelta(milliseconds=duration_ms) if duration_ms is not None else None,
        "duration_ms": duration_ms,
        "redrive_count": 0,
        "event_count": 5,
        "history_complete": True,
        "input_sha256": "a" * 64,
        "domain": domain,
        "error": None,
        "cause": None,
        "failed_state": None,
        "redrive_status": None,
        # the root failure: the terminal one unless said otherwise
        "root_state": kw.get("failed_state"),
        "root_error": kw.get("error"),
        "root_cause": kw.get("cause"),
        **kw,
    }


def executions() -> list[dict]:
    rows = []
    # pay-a: 10 executions on 1 Jan from 10:00, i-th lasts i seconds; #2 succeeded after a redrive,
    # #9 failed in Charge, #10 timed out in Wait.
    for i in range(1, 11):
        kw: dict = {}
        status = "SUCCEEDED"
        if i == 2:
            kw["redrive_count"] = 1
        if i == 9:
            status = "FAILED"
            kw.update(
                error="States.TaskFailed",
                failed_state="Charge",
                cause="Order 123 failed at 2025-01-01T10:08:00Z",
            )
        if i == 10:
            status = "TIMED_OUT"
            kw.update(error="States.Timeout", failed_state="Wait")
        rows.append(_ex(PAY_A, f"a{i}", t(1, 10, i - 1), status, i * 1000, **kw))
    # pay-b on 2 Jan: two successes, a failure in Charge, one still running.
    rows.append(_ex(PAY_B, "b1", t(2, 3, 0), "SUCCEEDED", 500))
    rows.append(_ex(PAY_B, "b2", t(2, 3, 5), "SUCCEEDED", 1500))
    rows.append(
        _ex(
            PAY_B,
            "b3",
            t(2, 3, 16),
            "FAILED",
            2500,
            error="States.TaskFailed",
            failed_state="Charge",
            cause="Order 456 failed at 2025-01-02T03:16:02Z",
            redrive_status="REDRIVABLE",
        )
    )
    rows.append(_ex(PAY_B, "b4", t(2, 3, 17), "RUNNING", None))
    # care-a: a failure before the period (same signature as one inside), three successes and a failure
    # on 2 Jan, one execution after the period.
    rows.append(
        _ex(
            CARE_A,
            "c0",
            t(31, 12, month=12, year=2024),
            "FAILED",
            50,
            error="Care.Escalated",
            failed_state="Escalated",  # a Catch on Route led to this Fail state: Route is the root
            cause="escalated to a person",
            root_state="Route",
            root_error="Care.Error",
            root_cause="ticket 77 stuck",
        )
    )
    for i, d in enumerate((100, 200, 300), start=1):
        rows.append(_ex(CARE_A, f"c{i}", t(2, 12, i), "SUCCEEDED", d))
    rows.append(
        _ex(
            CARE_A,
            "c4",
            t(2, 12, 30),
            "FAILED",
            400,
            error="Care.Escalated",
            failed_state="Escalated",  # a Catch on Route led to this Fail state: Route is the root
            cause="escalated to a person",
            root_state="Route",
            root_error="Care.Error",
            root_cause="ticket 88 stuck",
        )
    )
    rows.append(_ex(CARE_A, "c5", t(3, 9), "SUCCEEDED", 100))
    return rows


def state_runs() -> list[dict]:
    def run(
        ex: str,
        eid: int,
        name: str,
        typ: str,
        start: datetime,
        ms: int,
        status: str = "SUCCEEDED",
        attempts: int | None = None,
        nxt: str | None = None,
    ) -> dict:
        return {
            "execution_arn": f"{EX}pay-a:{ex}",
            "entered_event_id": eid,
            "exited_event_id": eid + 1,
            "state_machine_arn": PAY_A,
            "state_name": name,
            "state_type": typ,
            "entered_time": start,
            "exited_time": start + timedelta(milliseconds=ms),
            "duration_ms": ms,
            "attempts": attempts,
            "status": status,
            "next_state": nxt,
            "domain": "pay",
            "date": start.strftime("%Y-%m-%d"),
        }

    a1, a2, a9 = t(1, 10, 0), t(1, 10, 1), t(1, 10, 8)
    return [
        run("a1", 2, "Validate", "Task", a1, 1000, attempts=1, nxt="Charge"),
        run("a1", 5, "Charge", "Task", a1 + timedelta(seconds=1), 2000, attempts=1, nxt="Done"),
        run("a1", 8, "Done", "Succeed", a1 + timedelta(seconds=3), 0),
        run("a2", 2, "Validate", "Task", a2, 3000, attempts=1, nxt="Charge"),
        run("a2", 5, "Charge", "Task", a2 + timedelta(seconds=3), 4000, attempts=3, nxt="Done"),
        run("a2", 12, "Done", "Succeed", a2 + timedelta(seconds=7), 0),
        run("a9", 2, "Validate", "Task", a9, 500, attempts=1, nxt="Charge"),
        run("a9", 5, "Charge", "Task", a9 + timedelta(milliseconds=500), 1500, "FAILED", attempts=2),
    ]


def events() -> list[dict]:
    a1 = t(1, 10, 0)
    arn = f"{EX}pay-a:a1"
    return [
        {
            "execution_arn": arn,
            "event_id": i,
            "previous_event_id": i - 1 if i > 1 else 0,
            "timestamp": a1 + timedelta(seconds=i),
            "type": typ,
            "details_json": "{}",
            "domain": "pay",
            "date": "2025-01-01",
        }
        for i, typ in ((3, "TaskStateEntered"), (1, "ExecutionStarted"), (2, "PassStateEntered"))
    ]


def build(path: str, *, with_events: bool = True) -> Lake:
    """Write the tiny lake at `path`."""
    lake = Lake(path)
    lake.write_meta(source="demo")
    lake.write(
        "state_machines",
        [
            {
                "state_machine_arn": arn,
                "name": arn.rsplit(":", 1)[1],
                "domain": dom,
                "type": "STANDARD",
                "account_id": ACCT,
                "region": "us-east-1",
                "definition": "{}",
            }
            for arn, dom in ((PAY_A, "pay"), (PAY_B, "pay"), (CARE_A, "care"))
        ],
    )
    lake.write_partitioned("executions", executions(), date_column="start_time")
    lake.write_partitioned("state_runs", state_runs())
    if with_events:
        lake.write_partitioned("events", events())
    return lake
