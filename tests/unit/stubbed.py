"""Stubbed AWS clients for the Stubber tests: one client factory, and a target whose discovery by tag
finds the one state machine `SM` (tagged domain=claims)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import boto3
from botocore.stub import Stubber

from collectors.aws import Target
from collectors.ratelimit import RateLimiter

ACCT, REGION = "123456789012", "us-east-1"
SM = f"arn:aws:states:{REGION}:{ACCT}:stateMachine:claims"
SFN, TAGGING = "stepfunctions", "resourcegroupstaggingapi"


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")


def description(definition: str, created: datetime, **more: Any) -> dict[str, Any]:
    """A DescribeStateMachine response for `SM` (Standard), with `more` members."""
    return {
        "stateMachineArn": SM,
        "name": "claims",
        "definition": definition,
        "roleArn": "arn:aws:iam::1:role/r",
        "type": "STANDARD",
        "creationDate": created,
        **more,
    }


def target(*services: str) -> tuple[Target, dict[str, Stubber]]:
    """A target over Step Functions, tagging and `services` clients, rate-limited as the collector's
    are, and a Stubber (not activated) per service."""
    clients = {s: client(s) for s in (SFN, TAGGING, *services)}
    limiter = RateLimiter()
    for c in clients.values():
        limiter.attach(c, ACCT, REGION)
    t = Target(ACCT, REGION, None, limiter, _clients=clients)  # type: ignore[arg-type]
    return t, {s: Stubber(c) for s, c in clients.items()}


def add_discovery(s_sfn: Stubber, s_tag: Stubber, machine: Mapping[str, Any]) -> None:
    """Queue the discovery calls that find the one machine `machine` (a DescribeStateMachine response)."""
    s_tag.add_response(
        "get_resources",
        {"ResourceTagMappingList": [{"ResourceARN": SM, "Tags": [{"Key": "domain", "Value": "claims"}]}]},
        {"ResourceTypeFilters": ["states:stateMachine"], "TagFilters": [{"Key": "domain"}]},
    )
    s_sfn.add_response("describe_state_machine", dict(machine))


def discovered(machine: Mapping[str, Any], service: str) -> tuple[Target, Stubber]:
    """A target whose discovery finds the one machine `machine` describes, and the Stubber (not
    activated) of its `service` client."""
    t, stubs = target(service)
    add_discovery(stubs[SFN], stubs[TAGGING], machine)
    stubs[SFN].activate()
    stubs[TAGGING].activate()
    return t, stubs[service]
