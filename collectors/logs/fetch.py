"""CloudWatch Logs fetch: the log events of one log group in a time window (FilterLogEvents).

The client is an argument (nothing is created at import time); pages are read through the SDK
paginator (up to 10,000 events or 1 MB a page). Deciding the window against the cursors lives in
`collectors.logs.collect`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from collectors.logs.mapping import VALIDATION_STREAM

if TYPE_CHECKING:  # boto3-stubs' service packages: needed by mypy only
    from mypy_boto3_logs import CloudWatchLogsClient


@dataclass(frozen=True)
class LogEvent:
    """One log event: its stream, its time (epoch ms) and its message."""

    stream: str
    timestamp: int
    message: str


def log_group_name(arn: str) -> str:
    """The group name in a log group ARN (`arn:aws:logs:<region>:<acct>:log-group:<name>:*`)."""
    if ":log-group:" not in arn:
        raise ValueError(f"not a log group ARN: {arn!r}")
    name = arn.split(":log-group:", 1)[1]
    return name[: -len(":*")] if name.endswith(":*") else name


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def filter_log_events(
    logs: CloudWatchLogsClient,
    group: str,
    start: datetime,
    end: datetime,
    *,
    on_page: Callable[[int], None] | None = None,
) -> Iterator[LogEvent]:
    """Every event of `group` with a time in [start, end), all pages, but the stream AWS creates to
    validate delivery."""
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=_ms(start), endTime=_ms(end) - 1
    )
    for page in pages:
        events = page.get("events") or []
        if on_page:
            on_page(len(events))
        for e in events:
            stream = e.get("logStreamName") or ""
            if stream == VALIDATION_STREAM or "message" not in e:
                continue
            yield LogEvent(stream, int(e.get("timestamp") or 0), e["message"])
