"""Hand-written lake content for the dashboard tests: a hostile execution (markup in its name and cause)."""

from __future__ import annotations

import json
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
