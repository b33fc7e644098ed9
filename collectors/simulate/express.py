"""The simulated EXPRESS machines: a card authorisation (payments) and a guardrail check (ai-inference).

Express workflows have no history API: their executions exist only as the records Step Functions
writes to CloudWatch Logs. The simulator writes those records (`log_messages`, AWS's format: string
ids, counts and flags, flattened details, no payloads unless the machine includes execution data) and
reads them back through the collector's own path (`collectors.logs`: mapping, then the history
normaliser), so a demo's Express rows are what a collection of the same logs would give.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.logs.collect import normalize_records
from collectors.logs.mapping import by_execution, parse
from collectors.simulate.definitions import (
    LAMBDA_ERRORS,
    MODEL_ERRORS,
    MODEL_RETRY,
    catch_all,
    choice,
    fail,
    lam,
    machine,
    task,
)
from collectors.simulate.model import Behaviour, MachineSpec
from collectors.stepfunctions.normalize import NormalizedExecution, normalize_execution

EXPRESS = "EXPRESS"
PAYLOADS = ("input", "output")  # what a log leaves out without execution data
PAYLOAD_COLUMNS = ("input_sha256", "input_bytes", "output_sha256", "output_bytes")
REDRIVE_COLUMNS = ("redrive_status", "redrive_status_reason")
B = Behaviour


def machines() -> list[MachineSpec]:
    """The two EXPRESS machines of the demo, both logging ALL."""
    auth = machine(
        "Card authorisation: velocity, fraud score, issuer (synchronous, under a second)",
        "CheckVelocity",
        {
            "CheckVelocity": task(
                "arn:aws:states:::dynamodb:getItem",
                {"TableName": "card-velocity", "Key": {"pan_hash": {"S.$": "$.panHash"}}},
                "ScoreFraud",
                retry=[
                    {
                        "ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"],
                        "IntervalSeconds": 0,
                        "MaxAttempts": 2,
                    }
                ],
            ),
            "ScoreFraud": lam("payments-fraud-score", "Decide", catch=catch_all("ScoreUnavailable")),
            "Decide": choice("$.score", [("NumericGreaterThan", 0.92, "Decline")], "Authorise"),
            "Authorise": lam("payments-issuer-authorise", None, timeout=5),
            "Decline": {"Type": "Pass", "Result": {"approved": False}, "End": True},
            "ScoreUnavailable": fail(
                "FraudScoreUnavailable", "No fraud score: the authorisation is declined"
            ),
        },
        timeout=30,
    )
    guard = machine(
        "Guardrail check of a prompt before any model sees it",
        "ApplyGuardrail",
        {
            "ApplyGuardrail": task(
                "arn:aws:states:::aws-sdk:bedrockruntime:applyGuardrail",
                {"GuardrailIdentifier": "pii-and-topics", "GuardrailVersion": "3", "Source": "INPUT"},
                "Verdict",
                retry=MODEL_RETRY,
            ),
            "Verdict": choice("$.action", [("StringEquals", "GUARDRAIL_INTERVENED", "Blocked")], "Allowed"),
            "Blocked": {"Type": "Pass", "Result": {"blocked": True}, "End": True},
            "Allowed": {"Type": "Succeed"},
        },
        timeout=60,
    )
    return [
        MachineSpec(
            "payments-card-authorisation",
            "payments",
            "payments-platform",
            "Authorise card payments in real time (EXPRESS)",
            auth,
            states={
                "CheckVelocity": B(9, 0.3, 0.002, (("DynamoDB.ProvisionedThroughputExceededException", 1),)),
                "ScoreFraud": B(42, 0.4, 0.003, LAMBDA_ERRORS),
                "Authorise": B(180, 0.5, 0.002, LAMBDA_ERRORS),
            },
            choices={"Decide": (0.03, 0.97)},
            type=EXPRESS,
        ),
        MachineSpec(
            "ai-inference-guardrail-check",
            "ai-inference",
            "ml-platform",
            "Screen prompts with a Bedrock guardrail (EXPRESS)",
            guard,
            states={"ApplyGuardrail": B(230, 0.4, 0.002, MODEL_ERRORS)},
            choices={"Verdict": (0.06, 0.94)},
            type=EXPRESS,
            include_execution_data=True,
        ),
    ]


# -- the records -------------------------------------------------------------------------------
def _logged(value: Any) -> Any:
    """A details value as a log writes it: scalars as strings, structures flattened alike."""
    if isinstance(value, Mapping):
        return {k: _logged(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def log_messages(
    arn: str,
    events: Sequence[Mapping[str, Any]],
    *,
    include_data: bool,
    desc: Mapping[str, Any] | None = None,
) -> list[str]:
    """The CloudWatch Logs messages Step Functions writes at level ALL for these history events; with
    execution data, the execution's input and output (from `desc`, a DescribeExecution) in its start
    and success records."""
    out, redrives = [], 0
    payloads = {"ExecutionStarted": "input", "ExecutionSucceeded": "output"}
    for ev in events:
        if ev["type"] == "ExecutionRedriven":
            redrives += 1
        details: dict[str, Any] = {}
        for k, v in ev.items():
            if k.endswith("EventDetails") and isinstance(v, Mapping):
                details = {
                    n: _logged(x)
                    for n, x in v.items()
                    if include_data or (n not in PAYLOADS and n.removesuffix("Details") not in PAYLOADS)
                }
        field = payloads.get(ev["type"])
        if include_data and field and desc is not None and isinstance(desc.get(field), str):
            details[field] = desc[field]
            details[f"{field}Details"] = {"truncated": "false"}
        out.append(
            json.dumps(
                {
                    "id": str(ev["id"]),
                    "type": ev["type"],
                    "details": details,
                    "previous_event_id": str(ev.get("previousEventId") or 0),
                    "event_timestamp": str(int(ev["timestamp"].timestamp() * 1000)),
                    "execution_arn": arn,
                    "redrive_count": str(redrives),
                },
                separators=(",", ":"),
            )
        )
    return out


def normalize_as_collected(
    spec: MachineSpec,
    desc: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    *,
    state_machine: dict[str, Any],
    collected_at: datetime,
) -> NormalizedExecution:
    """What a collection makes of one execution: from its history (STANDARD), or from the log records
    it wrote (EXPRESS), read back through the logs source's mapping and the same normaliser."""
    if spec.type != EXPRESS:
        return normalize_execution(desc, events, state_machine=state_machine, collected_at=collected_at)
    messages = log_messages(desc["executionArn"], events, include_data=spec.include_execution_data, desc=desc)
    ((arn, records),) = by_execution(parse(m) for m in messages).items()
    return normalize_records(state_machine, arn, records, collected_at=collected_at)


def as_logged(ex: pa.Table, specs: Sequence[MachineSpec], machine_of_row: np.ndarray) -> pa.Table:
    """Replicated executions rows as the logs give them: an EXPRESS execution has no redrive status (no
    DescribeExecution answers for it), and no input/output hashes when its logs carry no execution data."""

    def nulls(columns: tuple[str, ...], which: np.ndarray, t: pa.Table) -> pa.Table:
        if not which.any():
            return t
        mask = pa.array(which)
        for c in columns:
            i = t.schema.get_field_index(c)
            t = t.set_column(
                i, t.schema.field(i), pc.if_else(mask, pa.nulls(len(t), t.schema.field(i).type), t.column(i))
            )
        return t

    if not len(machine_of_row):
        return ex
    express = np.array([s.type == EXPRESS for s in specs], bool)[machine_of_row]
    no_data = np.array([s.type == EXPRESS and not s.include_execution_data for s in specs], bool)[
        machine_of_row
    ]
    return nulls(PAYLOAD_COLUMNS, no_data, nulls(REDRIVE_COLUMNS, express, ex))
