"""Hand-written lake content for the dashboard tests: a hostile execution (markup in its name and cause),
failures written as the collector writes them, and a collection ledger."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from lake.layout import utc_date
from lake.store import Lake

ACCOUNT, REGION = "123456789012", "us-east-1"
XSS_NAME = "<script>alert(1)</script>"
XSS_CAUSE = "<img src=x onerror=alert(1)> boom"
XSS_ERROR = "Hostile.<b>Error</b>"
XSS_DOMAIN = "security-tests"
XSS_MACHINE = "hostile-<i>flow</i>"
XSS_STATE = "Do <u>it</u>"

DEFINITION = {
    "Comment": "a flow whose names contain markup",
    "StartAt": XSS_STATE,
    "States": {
        XSS_STATE: {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Next": "Done",
            "Catch": [{"ErrorEquals": ["Other"], "Next": "Done"}],
        },
        "Done": {"Type": "Succeed"},
    },
}


def machine_arn(name: str = XSS_MACHINE) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def execution_arn(name: str = XSS_NAME, machine: str = XSS_MACHINE) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{name}"


def write_hostile_execution(lake_uri: str, start: datetime) -> str:
    """Write one state machine and one failed execution whose texts are markup; returns its ARN."""
    lake = Lake(lake_uri)
    sm, ex = machine_arn(), execution_arn()
    stop = start + timedelta(seconds=3)
    lake.write(
        "state_machines",
        [
            {
                "state_machine_arn": sm,
                "account_id": ACCOUNT,
                "region": REGION,
                "name": XSS_MACHINE,
                "type": "STANDARD",
                "domain": XSS_DOMAIN,
                "tags_json": json.dumps({"domain": XSS_DOMAIN}),
                "definition": json.dumps(DEFINITION),
                "status": "ACTIVE",
                "creation_date": start - timedelta(days=30),
                "logging_level": "ALL",
                "log_group_arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vendedlogs/x:*",
                "tracing_enabled": True,
                "collected_at": stop,
            }
        ],
    )
    part = {"domain": XSS_DOMAIN, "date": utc_date(start)}
    lake.write(
        "events",
        [
            {
                "execution_arn": ex,
                "event_id": 1,
                "previous_event_id": 0,
                "timestamp": start,
                "type": "ExecutionStarted",
                "details_json": "{}",
            },
            {
                "execution_arn": ex,
                "event_id": 2,
                "previous_event_id": 1,
                "timestamp": start,
                "type": "TaskStateEntered",
                "state_name": XSS_STATE,
                "details_json": json.dumps({"name": XSS_STATE}),
            },
            {
                "execution_arn": ex,
                "event_id": 3,
                "previous_event_id": 2,
                "timestamp": stop,
                "type": "ExecutionFailed",
                "details_json": json.dumps({"error": XSS_ERROR, "cause": XSS_CAUSE}),
            },
        ],
        **part,
    )
    lake.write(
        "state_runs",
        [
            {
                "execution_arn": ex,
                "entered_event_id": 2,
                "exited_event_id": None,
                "state_machine_arn": sm,
                "state_name": XSS_STATE,
                "state_type": "Task",
                "entered_time": start,
                "exited_time": stop,
                "duration_ms": 3000,
                "attempts": 1,
                "status": "FAILED",
                "error": XSS_ERROR,
                "cause": XSS_CAUSE,
                "resource": "arn:aws:states:::lambda:invoke",
            }
        ],
        **part,
    )
    lake.write(
        "executions",
        [
            {
                "execution_arn": ex,
                "state_machine_arn": sm,
                "state_machine_name": XSS_MACHINE,
                "account_id": ACCOUNT,
                "region": REGION,
                "name": XSS_NAME,
                "status": "FAILED",
                "start_time": start,
                "stop_time": stop,
                "duration_ms": 3000,
                "error": XSS_ERROR,
                "cause": XSS_CAUSE,
                "failed_state": XSS_STATE,
                "redrive_count": 0,
                "redrive_status": "REDRIVABLE",
                "trace_id": "Root=1-5f84c7a1-3f8b2c1d4e5f6a7b8c9d0e1f",
                "event_count": 3,
                "history_complete": True,
                "collected_at": stop,
            }
        ],
        **part,
    )
    return ex


def write_failures(
    lake_uri: str, machine: str, domain: str, starts: Sequence[datetime], error: str, committed_at: datetime
) -> list[str]:
    """Failed executions of a demo state machine written as a collector run writes them: the executions
    partition (its derived tables with it), then the machine's cursor, the commit marker the dashboard
    watches. Returns their ARNs."""
    lake = Lake(lake_uri)
    arns = []
    for i, start in enumerate(starts):
        arn = execution_arn(f"injected-{i}-{start:%H%M%S}", machine)
        stop = start + timedelta(seconds=2)
        lake.write(
            "executions",
            [
                {
                    "execution_arn": arn,
                    "state_machine_arn": machine_arn(machine),
                    "state_machine_name": machine,
                    "account_id": ACCOUNT,
                    "region": REGION,
                    "name": f"injected-{i}",
                    "status": "FAILED",
                    "start_time": start,
                    "stop_time": stop,
                    "duration_ms": 2000,
                    "error": error,
                    "cause": "injected by the test",
                    "failed_state": "Injected",
                    "root_state": "Injected",
                    "root_error": error,
                    "root_cause": "injected by the test",
                    "redrive_count": 0,
                    "event_count": 3,
                    "history_complete": True,
                    "collected_at": committed_at,
                }
            ],
            domain=domain,
            date=utc_date(start),
        )
        arns.append(arn)
    cursor = next(r for r in lake.read("cursors").to_pylist() if r["key"] == machine_arn(machine))
    lake.write("cursors", [{**cursor, "last_collected_at": committed_at}])
    return arns


def write_runs(lake_uri: str, runs: Sequence[tuple[datetime, datetime, int]]) -> None:
    """Rows of the collection ledger: (started_at, finished_at, errors recorded) each, from AWS."""
    Lake(lake_uri).write(
        "collection_runs",
        [
            {
                "run_id": f"run-{start:%Y%m%dT%H%M%S}",
                "started_at": start,
                "finished_at": finished,
                "source": "aws",
                "summary_json": json.dumps({"errors": [f"error {i}" for i in range(errors)]}),
            }
            for start, finished, errors in runs
        ],
    )
