"""Links to an execution in the AWS console, its logs and trace, and the redrive command."""

from __future__ import annotations

import shlex
import urllib.parse

from queries.statuses import UNSUCCESSFUL

REDRIVABLE_STATUSES = frozenset(UNSUCCESSFUL)  # what AWS lets a redrive restart


def region_of(arn: str) -> str:
    """The Region field of an ARN (`arn:aws:states:<region>:...`), or us-east-1 if malformed."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[3] else "us-east-1"


def _console(region: str, service: str, fragment: str) -> str:
    q = urllib.parse.quote
    return f"https://{q(region)}.console.aws.amazon.com/{service}/home?region={q(region)}#{fragment}"


def execution_console_url(execution_arn: str) -> str:
    """The execution's details page in the Step Functions console."""
    arn = urllib.parse.quote(execution_arn, safe=":")
    return _console(region_of(execution_arn), "states", f"/v2/executions/details/{arn}")


def xray_trace_url(trace_id: str | None, region: str) -> str | None:
    """The X-Ray trace in the CloudWatch console; accepts `Root=1-...;Parent=...` headers too."""
    if not trace_id:
        return None
    root = trace_id
    for part in trace_id.split(";"):
        if part.startswith("Root="):
            root = part[len("Root=") :]
    return _console(region, "cloudwatch", f"xray:traces/{urllib.parse.quote(root, safe='')}")


def log_group_url(log_group_arn: str | None, region: str) -> str | None:
    """The CloudWatch Logs group a state machine logs to (console escapes % as $25)."""
    if not log_group_arn or ":log-group:" not in log_group_arn:
        return None
    name = log_group_arn.split(":log-group:", 1)[1]
    name = name[:-2] if name.endswith(":*") else name
    encoded = urllib.parse.quote(name, safe="").replace("%", "$25")
    return _console(region, "cloudwatch", f"logsV2:log-groups/log-group/{encoded}")


def can_redrive(status: str | None, redrive_status: str | None) -> bool:
    """True when AWS would accept a redrive: a failed run AWS marked REDRIVABLE (or unknown)."""
    if status not in REDRIVABLE_STATUSES:
        return False
    return redrive_status in (None, "", "REDRIVABLE", "REDRIVABLE_BY_MAP_RUN")


def redrive_command(execution_arn: str) -> str:
    """The AWS CLI command that redrives the execution, shell-quoted."""
    return (
        f"aws stepfunctions redrive-execution --execution-arn {shlex.quote(execution_arn)}"
        f" --region {shlex.quote(region_of(execution_arn))}"
    )
