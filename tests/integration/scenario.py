"""A small account on the moto server: tagged flows in two domains, one untagged, real executions."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/stepscope-test"
# A DynamoDB task on a table that does not exist fails with DynamoDB.ResourceNotFoundException:
# the way to make Retry, Catch and task failures happen for real on moto.
MISSING_TABLE_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::dynamodb:getItem",
    "Parameters": {"TableName": "no-such-table", "Key": {"id": {"S": "1"}}},
}

FLOWS: dict[str, dict[str, Any]] = {
    "pay-ok": {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "Next": "Done"},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    },
    "pay-fail": {
        "StartAt": "Validate",
        "States": {
            "Validate": {"Type": "Pass", "Next": "Reject"},
            "Reject": {"Type": "Fail", "Error": "Payment.Rejected", "Cause": "card declined"},
        },
    },
    "pay-retry": {
        "StartAt": "Lookup",
        "States": {
            "Lookup": {
                **MISSING_TABLE_TASK,
                "Retry": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 1,
                        "BackoffRate": 1.0,
                    }
                ],
                "End": True,
            }
        },
    },
    "pay-catch-fail": {  # a Catch routes to a Fail state: the root failure is the caught task's
        "StartAt": "Lookup",
        "States": {
            "Lookup": {
                **MISSING_TABLE_TASK,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "LookupFailed"}],
                "End": True,
            },
            "LookupFailed": {"Type": "Fail", "Error": "Payment.LookupFailed", "Cause": "no account"},
        },
    },
    "inf-catch": {
        "StartAt": "Ground",
        "States": {
            "Ground": {
                **MISSING_TABLE_TASK,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Fallback"}],
                "Next": "Done",
            },
            "Fallback": {"Type": "Pass", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    },
    "inf-timeout": {
        "StartAt": "Slow",
        "TimeoutSeconds": 1,
        "States": {"Slow": {"Type": "Wait", "Seconds": 3, "End": True}},
    },
    "inf-abort": {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3, "End": True}}},
    "inf-map": {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Score", "States": {"Score": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    },
    "inf-parallel": {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Model", "States": {"Model": {"Type": "Pass", "End": True}}},
                    {
                        "StartAt": "Rules",
                        "States": {
                            "Rules": {"Type": "Pass", "Next": "RulesDone"},
                            "RulesDone": {"Type": "Succeed"},
                        },
                    },
                ],
                "Next": "Post",
            },
            "Post": {"Type": "Pass", "End": True},
        },
    },
    "untagged": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
    "other-key": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
}
DOMAIN = {
    "pay-ok": "payments",
    "pay-fail": "payments",
    "pay-retry": "payments",
    "pay-catch-fail": "payments",
    "inf-catch": "inference",
    "inf-timeout": "inference",
    "inf-abort": "inference",
    "inf-map": "inference",
    "inf-parallel": "inference",
}
INPUTS = {"pay-ok": [{"amount": 500}, {"amount": 5}, {"amount": 50}], "inf-map": [{"items": [1, 2, 3]}]}
EXPECTED_STATUS = {
    "pay-ok": "SUCCEEDED",
    "pay-fail": "FAILED",
    "pay-retry": "FAILED",
    "pay-catch-fail": "FAILED",
    "inf-catch": "SUCCEEDED",
    "inf-timeout": "TIMED_OUT",
    "inf-abort": "ABORTED",
    "inf-map": "SUCCEEDED",
    "inf-parallel": "SUCCEEDED",
    "untagged": "SUCCEEDED",
    "other-key": "SUCCEEDED",
}


@dataclass
class Account:
    machines: dict[str, str] = field(default_factory=dict)  # name -> ARN
    executions: dict[str, list[str]] = field(default_factory=dict)  # name -> execution ARNs

    @property
    def tagged_executions(self) -> set[str]:
        return {e for n, es in self.executions.items() if n in DOMAIN for e in es}


def build(sfn: Any, *, runs_per_flow: int = 2) -> Account:
    """Create the flows, start their executions, wait until all are terminal."""
    acct = Account()
    for name, definition in FLOWS.items():
        tags = [{"key": "domain", "value": DOMAIN[name]}] if name in DOMAIN else []
        if name == "other-key":
            tags = [{"key": "team", "value": "platform"}]
        acct.machines[name] = sfn.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE, tags=tags
        )["stateMachineArn"]
    for name, arn in acct.machines.items():
        inputs = INPUTS.get(name, [{"n": i} for i in range(runs_per_flow)])
        acct.executions[name] = [
            sfn.start_execution(stateMachineArn=arn, name=f"{name}-{i}", input=json.dumps(inp))[
                "executionArn"
            ]
            for i, inp in enumerate(inputs)
        ]
    for arn in acct.executions["inf-abort"]:
        sfn.stop_execution(executionArn=arn, error="Operator.Stop", cause="stopped by the test")
    wait_terminal(sfn, [e for es in acct.executions.values() for e in es])
    return acct


def wait_terminal(sfn: Any, arns: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    pending = set(arns)
    while pending:
        pending = {a for a in pending if sfn.describe_execution(executionArn=a)["status"] == "RUNNING"}
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"still running after {timeout}s: {sorted(pending)}")
        if pending:
            time.sleep(0.2)
