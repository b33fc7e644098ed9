"""X-Ray fetch: where the account sends its segments, trace summaries over a window, whole traces.

Clients are arguments (nothing is created at import time). GetTraceSummaries and BatchGetTraces are
read through the SDK paginators; ListRetrievedTraces has none in botocore, so its `NextToken` is
followed here, after polling until the retrieval is COMPLETE.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from collectors.stepfunctions.fetch import error_code

if TYPE_CHECKING:  # boto3-stubs' service packages: needed by mypy only
    from mypy_boto3_xray import XRayClient

XRAY, CLOUDWATCH_LOGS = "XRay", "CloudWatchLogs"  # GetTraceSegmentDestination's two answers
BATCH_IDS = 5  # trace ids per BatchGetTraces call, fixed by the API
RETRIEVAL_IDS = 100  # trace ids per StartTraceRetrieval call
SUMMARY_WINDOW = timedelta(hours=1)  # GetTraceSummaries windows: short, each paged
RETRIEVAL_DONE = "COMPLETE"
RETRIEVAL_FAILED = frozenset({"FAILED", "CANCELLED", "TIMEOUT"})
POLL_SECONDS = 2.0
POLL_LIMIT = timedelta(minutes=10)  # AWS times a retrieval out after 60 minutes; a run waits less


class RetrievalError(Exception):
    """A Transaction Search retrieval ended without its traces (FAILED, CANCELLED, TIMEOUT, or too slow)."""


@dataclass(frozen=True)
class Destination:
    """Where the account's segments go, and why the collector believes it."""

    name: str  # XRAY or CLOUDWATCH_LOGS
    status: str | None = None  # PENDING or ACTIVE (None when not answered)
    note: str | None = None  # why the answer was assumed


def segment_destination(xray: XRayClient) -> Destination:
    """GetTraceSegmentDestination; XRay (the default of every account) when the API does not answer
    (not offered in the Region, or an emulator): the note says why. Throttles and denials raise."""
    try:
        r = xray.get_trace_segment_destination()
    except ClientError as e:
        code = error_code(e)
        if code in ("404", "UnknownOperationException", "InvalidAction", "NotFoundException"):
            return Destination(XRAY, None, f"GetTraceSegmentDestination not answered ({code})")
        raise
    return Destination(r.get("Destination") or XRAY, r.get("Status"))


def windows(spans: Sequence[tuple[datetime, datetime]], size: timedelta = SUMMARY_WINDOW) -> list[tuple]:
    """The time spans merged where they overlap and cut into windows of at most `size`."""
    merged: list[list[datetime]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        while a < b:
            out.append((a, min(b, a + size)))
            a += size
    return out


def trace_summaries(xray: XRayClient, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Every trace summary of traces that started in [start, end), all pages."""
    pages = xray.get_paginator("get_trace_summaries").paginate(
        StartTime=start, EndTime=end, TimeRangeType="TraceId"
    )
    for page in pages:
        yield from (dict(s) for s in page.get("TraceSummaries") or [])


@dataclass
class Fetched:
    """Traces as BatchGetTraces shapes them (`Id`, `Segments[].Document`), and the ids not returned."""

    traces: list[dict[str, Any]] = field(default_factory=list)
    unprocessed: list[str] = field(default_factory=list)
    calls: int = 0


def batch_get_traces(xray: XRayClient, ids: Sequence[str]) -> Fetched:
    """BatchGetTraces for up to 5 ids, all pages; ids X-Ray does not have come back as unprocessed."""
    if not 0 < len(ids) <= BATCH_IDS:
        raise ValueError(f"BatchGetTraces takes 1 to {BATCH_IDS} trace ids, not {len(ids)}")
    out = Fetched()
    for page in xray.get_paginator("batch_get_traces").paginate(TraceIds=list(ids)):
        out.calls += 1
        out.traces += [dict(t) for t in page.get("Traces") or []]
        out.unprocessed += list(page.get("UnprocessedTraceIds") or [])
    found = {t.get("Id") for t in out.traces}
    out.unprocessed = [i for i in dict.fromkeys(out.unprocessed) if i not in found]
    return out


def retrieve_traces(
    xray: XRayClient,
    ids: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Fetched:
    """Transaction Search: StartTraceRetrieval for up to 100 ids over [start, end], then
    ListRetrievedTraces (XRAY format: segment documents) once the retrieval is COMPLETE. Ids not in
    the result are unprocessed. RetrievalError when the retrieval fails or outlasts POLL_LIMIT."""
    if not 0 < len(ids) <= RETRIEVAL_IDS:
        raise ValueError(f"StartTraceRetrieval takes 1 to {RETRIEVAL_IDS} trace ids, not {len(ids)}")
    token = xray.start_trace_retrieval(TraceIds=list(ids), StartTime=start, EndTime=end)["RetrievalToken"]
    out = Fetched(calls=1)
    deadline = clock() + POLL_LIMIT.total_seconds()
    kwargs: dict[str, Any] = {"RetrievalToken": token, "TraceFormat": "XRAY"}
    while True:
        page = xray.list_retrieved_traces(**kwargs)
        out.calls += 1
        status = page.get("RetrievalStatus")
        if status in RETRIEVAL_FAILED:
            raise RetrievalError(f"trace retrieval {status}")
        if status != RETRIEVAL_DONE:  # SCHEDULED or RUNNING: the page is empty, ask again
            if clock() > deadline:
                raise RetrievalError(f"trace retrieval still {status} after {POLL_LIMIT}")
            sleep(POLL_SECONDS)
            continue
        out.traces += [
            {"Id": t.get("Id"), "Segments": t.get("Spans") or []} for t in page.get("Traces") or []
        ]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    found = {t["Id"] for t in out.traces}
    out.unprocessed = [i for i in ids if i not in found]
    return out
