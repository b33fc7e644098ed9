"""Step Functions fetch: discovery by tag, state machines, executions, histories.

Every function takes its boto3 clients as arguments (nothing is created at import time) and uses
the SDK paginators. Deciding *what* to fetch against the lake lives in `collectors.stepfunctions.collect`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, EndpointConnectionError

from collectors.ratelimit import is_throttle

if TYPE_CHECKING:  # boto3-stubs' service packages: needed by mypy only
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_resourcegroupstaggingapi.type_defs import TagFilterTypeDef
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import ExecutionListItemTypeDef, HistoryEventTypeDef

PAGE_SIZE = 1000
EXPIRED_CODE = "ExecutionDoesNotExist"
# Codes that mean "this caller may not use the tagging API here": discovery falls back.
TAGGING_UNAVAILABLE = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidAction",
        "UnknownOperationException",
        "OptInRequired",
        "InternalServiceException",
    }
)


@dataclass(frozen=True)
class Machine:
    """A discovered state machine and its tags."""

    arn: str
    tags: dict[str, str]


@dataclass
class FetchedExecution:
    """What the API returned for one execution: the describe record and its whole history."""

    execution: dict[str, Any]
    events: list[HistoryEventTypeDef]
    pages: int
    history_complete: bool
    history_error: str | None
    retries: int = 0


def error_code(e: ClientError) -> str:
    return e.response.get("Error", {}).get("Code", "")


def utc(ts: datetime) -> datetime:
    """API timestamps (tz-aware, sometimes local) in UTC."""
    return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)


# -- discovery -------------------------------------------------------------------------------
def discover(
    sfn: SFNClient, tagging: ResourceGroupsTaggingAPIClient, tag_key: str, domains: list[str] | None = None
) -> tuple[list[Machine], str]:
    """State machines carrying `tag_key` (with one of `domains` if given), and how they were found."""
    try:
        return discover_by_tagging_api(tagging, tag_key, domains), "tagging"
    except EndpointConnectionError:
        reason = "tagging endpoint unreachable"
    except ClientError as e:
        if error_code(e) not in TAGGING_UNAVAILABLE:
            raise
        reason = f"tagging: {error_code(e)}"
    return discover_by_listing(sfn, tag_key, domains), f"list ({reason})"


def discover_by_tagging_api(
    tagging: ResourceGroupsTaggingAPIClient, tag_key: str, domains: list[str] | None
) -> list[Machine]:
    """Resource Groups Tagging API GetResources over `states:stateMachine`."""
    tag_filter: TagFilterTypeDef = {"Key": tag_key}
    if domains:
        tag_filter["Values"] = list(domains)
    out = []
    pages = tagging.get_paginator("get_resources").paginate(
        ResourceTypeFilters=["states:stateMachine"], TagFilters=[tag_filter]
    )
    for page in pages:
        for r in page.get("ResourceTagMappingList", []):
            tags = {t["Key"]: t["Value"] for t in r.get("Tags", [])}
            if _wanted(tags, tag_key, domains):
                out.append(Machine(r["ResourceARN"], tags))
    return sorted(out, key=lambda m: m.arn)


def discover_by_listing(sfn: SFNClient, tag_key: str, domains: list[str] | None) -> list[Machine]:
    """ListStateMachines + ListTagsForResource each (when the tagging API is not available)."""
    out = []
    for page in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
        for sm in page.get("stateMachines", []):
            tags = {
                t["key"]: t["value"]
                for t in sfn.list_tags_for_resource(resourceArn=sm["stateMachineArn"])["tags"]
            }
            if _wanted(tags, tag_key, domains):
                out.append(Machine(sm["stateMachineArn"], tags))
    return sorted(out, key=lambda m: m.arn)


def _wanted(tags: dict[str, str], tag_key: str, domains: list[str] | None) -> bool:
    return tag_key in tags and (not domains or tags[tag_key] in domains)


# -- state machines --------------------------------------------------------------------------
def describe_state_machine(sfn: SFNClient, arn: str) -> dict[str, Any] | None:
    """DescribeStateMachine, or None when the machine was deleted since discovery."""
    try:
        d = sfn.describe_state_machine(stateMachineArn=arn)
    except ClientError as e:
        if error_code(e) == "StateMachineDoesNotExist":
            return None
        raise
    return {k: v for k, v in d.items() if k != "ResponseMetadata"}


def state_machine_row(
    desc: dict[str, Any], machine: Machine, tag_key: str, account_id: str, region: str, collected_at: datetime
) -> dict[str, Any]:
    """A `state_machines` row from DescribeStateMachine and the machine's tags."""
    logging_cfg = desc.get("loggingConfiguration") or {}
    dests = logging_cfg.get("destinations") or []
    log_group = (dests[0].get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") if dests else None
    created = desc.get("creationDate")
    return {
        "state_machine_arn": machine.arn,
        "account_id": account_id,
        "region": region,
        "name": desc.get("name"),
        "type": desc.get("type"),
        "domain": machine.tags.get(tag_key),
        "tags_json": json.dumps(machine.tags, sort_keys=True),
        "definition": desc.get("definition"),
        "revision_id": desc.get("revisionId"),
        "status": desc.get("status"),
        "role_arn": desc.get("roleArn"),
        "creation_date": utc(created) if created else None,
        "description": desc.get("description"),
        "logging_level": logging_cfg.get("level"),
        "log_group_arn": log_group,
        "tracing_enabled": bool((desc.get("tracingConfiguration") or {}).get("enabled", False)),
        "include_execution_data": logging_cfg.get("includeExecutionData"),
        "collected_at": collected_at,
    }


# -- executions ------------------------------------------------------------------------------
def list_executions(
    sfn: SFNClient, state_machine_arn: str, since: datetime, *, redriven: bool = False
) -> Iterator[ExecutionListItemTypeDef]:
    """ListExecutions newest first, stopping at the first execution started before `since`."""
    kwargs: dict[str, Any] = {
        "stateMachineArn": state_machine_arn,
        "PaginationConfig": {"PageSize": PAGE_SIZE},
    }
    if redriven:
        kwargs["redriveFilter"] = "REDRIVEN"
    for page in sfn.get_paginator("list_executions").paginate(**kwargs):
        for item in page.get("executions", []):
            if utc(item["startDate"]) < since:
                return  # newest first: everything after this is older still
            yield item


def describe_execution(sfn: SFNClient, arn: str) -> dict[str, Any] | None:
    """DescribeExecution, or None when the execution has expired (ExecutionDoesNotExist)."""
    try:
        d = sfn.describe_execution(executionArn=arn)
    except ClientError as e:
        if error_code(e) == EXPIRED_CODE:
            return None
        raise
    return {k: v for k, v in d.items() if k != "ResponseMetadata"}


def get_history(
    sfn: SFNClient, arn: str, *, include_payloads: bool = False, on_page: Callable[[int], None] | None = None
) -> tuple[list[HistoryEventTypeDef], int]:
    """Every event of an execution (pages of 1000) and the number of pages read."""
    events: list[HistoryEventTypeDef] = []
    pages = 0
    paginator = sfn.get_paginator("get_execution_history")
    for page in paginator.paginate(
        executionArn=arn, includeExecutionData=include_payloads, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        events.extend(page.get("events", []))
        pages += 1
        if on_page:
            on_page(len(page.get("events", [])))
    return events, pages


def fetch_execution(
    sfn: SFNClient,
    item: Mapping[str, Any],
    *,
    include_payloads: bool = False,
    described: dict[str, Any] | None = None,
    on_page: Callable[[int], None] | None = None,
    throttle_retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchedExecution:
    """DescribeExecution + the whole history of one execution.

    An expired execution (ExecutionDoesNotExist) is returned with `history_complete=False`
    and the error recorded. A throttle that outlives botocore's retries restarts this
    execution's fetch from scratch after a pause, so no page is kept twice.
    """
    retries = 0
    while True:
        try:
            desc = described or describe_execution(sfn, item["executionArn"])
            execution = desc if desc is not None else dict(item)
            try:
                events, pages = get_history(
                    sfn, item["executionArn"], include_payloads=include_payloads, on_page=on_page
                )
            except ClientError as e:
                if error_code(e) != EXPIRED_CODE:
                    raise
                msg = e.response.get("Error", {}).get("Message") or "history expired"
                return FetchedExecution(execution, [], 1, False, f"{EXPIRED_CODE}: {msg}", retries)
            return FetchedExecution(execution, events, pages, True, None, retries)
        except ClientError as e:
            if not is_throttle(error_code(e)) or retries >= throttle_retries:
                raise
            retries += 1
            described = None
            sleep(min(20.0, random.uniform(0.5, 1.0) * 2**retries))
