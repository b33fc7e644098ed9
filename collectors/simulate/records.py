"""Raw records shaped exactly like boto3 responses (pure): what the collector would have fetched."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from collectors.simulate.model import ACCOUNT_ID, DOMAIN_TAG, MachineSpec
from collectors.simulate.scenario import ms_to_dt
from collectors.simulate.walker import EXEC_NAME, Event, Path

REDRIVE_DAYS = 14


def tags(spec: MachineSpec) -> dict[str, str]:
    """The machine's tags (the domain tag is what Stepscope groups by)."""
    return {
        DOMAIN_TAG: spec.domain,
        "team": spec.team,
        "environment": "prod",
        "cost-center": f"cc-{abs(hash_text(spec.domain)) % 9000 + 1000}",
    }


def hash_text(text: str) -> int:
    """A stable (unsalted) small hash of a string."""
    h = 0
    for ch in text.encode():
        h = (h * 131 + ch) % 2_147_483_647
    return h


def list_tags_response(spec: MachineSpec) -> dict[str, Any]:
    """ListTagsForResource response."""
    return {"tags": [{"key": k, "value": v} for k, v in tags(spec).items()]}


def version_arn(spec: MachineSpec, version: int) -> str | None:
    """Version ARN that ran (versioned machines are started through their `prod` alias)."""
    return f"{spec.arn()}:{base_version(spec) + version - 1}" if spec.versioned else None


def alias_arn(spec: MachineSpec) -> str | None:
    return f"{spec.arn()}:prod" if spec.versioned else None


def base_version(spec: MachineSpec) -> int:
    return 3 + hash_text(spec.name) % 5


def describe_state_machine(spec: MachineSpec, created_ms: int) -> dict[str, Any]:
    """DescribeStateMachine response (the unqualified machine, its latest definition)."""
    level = "ALL" if spec.tracing or spec.type == "EXPRESS" else "ERROR"
    return {
        "stateMachineArn": spec.arn(),
        "name": spec.name,
        "status": "ACTIVE",
        "definition": json.dumps(spec.definition, indent=2),
        "roleArn": spec.role_arn(),
        "type": spec.type,
        "creationDate": ms_to_dt(created_ms),
        "loggingConfiguration": {
            "level": level,
            "includeExecutionData": spec.include_execution_data,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": spec.log_group_arn()}}],
        },
        "tracingConfiguration": {"enabled": spec.tracing},
        "revisionId": f"{hash_text(spec.name + 'rev'):08x}-{hash_text(spec.domain):04x}",
        "description": spec.description,
    }


def execution_arn(spec: MachineSpec, name: str) -> str:
    """Express executions are named by their machine, name and an execution id (here the name again)."""
    if spec.type == "EXPRESS":
        return f"arn:aws:states:{spec.region}:{ACCOUNT_ID}:express:{spec.name}:{name}:{name}"
    return f"arn:aws:states:{spec.region}:{ACCOUNT_ID}:execution:{spec.name}:{name}"


def render_events(events: Sequence[Event], ts_ms: Sequence[int], exec_name: str) -> list[dict[str, Any]]:
    """GetExecutionHistory events (ascending ids) with the given timestamps."""
    out = []
    for i, (ev, ts) in enumerate(zip(events, ts_ms, strict=True)):
        e: dict[str, Any] = {
            "timestamp": ms_to_dt(ts),
            "type": ev.type,
            "id": i + 1,
            "previousEventId": ev.prev,
        }
        if ev.field is not None:
            d = ev.details or {}
            if ev.type == "MapRunStarted":
                d = {"mapRunArn": d["mapRunArn"].replace(EXEC_NAME, exec_name)}
            e[ev.field] = dict(d)
        out.append(e)
    return out


def describe_execution(
    spec: MachineSpec,
    path: Path,
    *,
    name: str,
    start_ms: int,
    ts_ms: Sequence[int],
    version: int,
    trace_header: str | None,
    input_text: str,
    output_text: str | None,
    collected_ms: int,
    running: bool = False,
) -> dict[str, Any]:
    """DescribeExecution response of one execution (RUNNING when its history is cut at `collected_ms`)."""
    d: dict[str, Any] = {
        "executionArn": execution_arn(spec, name),
        "stateMachineArn": spec.arn(),
        "name": name,
        "status": "RUNNING" if running else path.status,
        "startDate": ms_to_dt(start_ms),
        "input": input_text,
        "inputDetails": {"included": True},
    }
    if trace_header:
        d["traceHeader"] = trace_header
    if spec.versioned:
        d["stateMachineVersionArn"] = version_arn(spec, version)
        d["stateMachineAliasArn"] = alias_arn(spec)
    redriven = [ts for ev, ts in zip(path.events, ts_ms, strict=True) if ev.type == "ExecutionRedriven"]
    d["redriveCount"] = len(redriven) if redriven and (not running or redriven[0] <= collected_ms) else 0
    if d["redriveCount"]:
        d["redriveDate"] = ms_to_dt(redriven[-1])
    if running:
        d["redriveStatus"] = "NOT_REDRIVABLE"
        d["redriveStatusReason"] = "Execution is RUNNING and cannot be redriven"
        return d
    stop = ts_ms[-1]
    d["stopDate"] = ms_to_dt(stop)
    if path.status == "SUCCEEDED":
        d["output"] = output_text
        d["outputDetails"] = {"included": True}
        d["redriveStatus"] = "NOT_REDRIVABLE"
        d["redriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    else:
        d["error"], d["cause"] = path.error, path.cause
        if collected_ms - stop > REDRIVE_DAYS * 86_400_000:
            d["redriveStatus"] = "NOT_REDRIVABLE"
            d["redriveStatusReason"] = "Execution can no longer be redriven: it stopped more than 14 days ago"
        else:
            d["redriveStatus"] = "REDRIVABLE"
    return d


def list_executions_item(described: dict[str, Any]) -> dict[str, Any]:
    """The ListExecutions item of an execution (a subset of DescribeExecution)."""
    keys = (
        "executionArn",
        "stateMachineArn",
        "name",
        "status",
        "startDate",
        "stopDate",
        "stateMachineVersionArn",
        "stateMachineAliasArn",
        "redriveCount",
        "redriveDate",
    )
    return {k: described[k] for k in keys if k in described}


def input_pool(spec: MachineSpec, n: int = 16) -> list[str]:
    """A few realistic execution inputs per machine (payload contents do not matter, sizes do)."""
    out = []
    for i in range(n):
        body = {
            "requestId": f"{spec.name[:3]}-{hash_text(spec.name + str(i)):010d}",
            "domain": spec.domain,
            "source": ["api", "eventbridge", "schedule", "s3"][i % 4],
            "priority": ["LOW", "MEDIUM", "HIGH"][i % 3],
            "items": list(range(i % 7)),
        }
        out.append(json.dumps(body, separators=(",", ":")))
    return out


def output_pool(spec: MachineSpec, n: int = 16) -> list[str]:
    return [
        json.dumps(
            {"status": "ok", "machine": spec.name, "score": round(0.5 + i / 40, 3), "notes": "x" * (i * 7)},
            separators=(",", ":"),
        )
        for i in range(n)
    ]


def ts_list(start: datetime, offsets_ms: Sequence[int]) -> list[int]:
    base = int(start.timestamp() * 1000)
    return [base + o for o in offsets_ms]
