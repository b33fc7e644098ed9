"""CloudWatch fetch: GetMetricData in calls of at most 500 queries, ListMetrics for dimension values.

Clients are arguments (nothing is created at import time); both APIs are read through the SDK
paginators, which follow `NextToken`, including the one a `PartialData` result comes with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from collectors.cloudwatch.queries import MetricQuery

if TYPE_CHECKING:  # boto3-stubs' service packages: needed by mypy only
    from mypy_boto3_cloudwatch import CloudWatchClient

MAX_QUERIES = 500  # per GetMetricData call, fixed by the API
MAX_DATAPOINTS = 100_800  # per GetMetricData call (page), by default


@dataclass
class MetricData:
    """Every page of one GetMetricData request: the results, and what CloudWatch said about them."""

    results: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # top-level and per-result Messages, as "Code: Value"
    pages: int = 0
    queries_sent: int = 0  # queries x pages: what CloudWatch bills as metrics requested


def batches(queries: Sequence[MetricQuery], size: int = MAX_QUERIES) -> Iterator[Sequence[MetricQuery]]:
    """The queries in calls of at most `size`."""
    for i in range(0, len(queries), size):
        yield queries[i : i + size]


def estimated_datapoints(queries: Sequence[MetricQuery], start: datetime, end: datetime) -> int:
    """Datapoints CloudWatch counts against its per-second quota for one request: range / period each."""
    seconds = (end - start).total_seconds()
    return sum(max(1, int(seconds // q.period_s)) for q in queries)


def get_metric_data(
    cw: CloudWatchClient,
    queries: Sequence[MetricQuery],
    start: datetime,
    end: datetime,
    *,
    on_page: Callable[[int], None] | None = None,
) -> MetricData:
    """One GetMetricData request (≤ 500 queries) over [start, end), all pages."""
    if not 0 < len(queries) <= MAX_QUERIES:
        raise ValueError(f"GetMetricData takes 1 to {MAX_QUERIES} queries, not {len(queries)}")
    out = MetricData()
    pages = cw.get_paginator("get_metric_data").paginate(
        MetricDataQueries=[q.api() for q in queries],  # type: ignore[misc]
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
    )
    for page in pages:
        out.pages += 1
        out.queries_sent += len(queries)
        out.messages += [f"{m.get('Code')}: {m.get('Value')}" for m in page.get("Messages") or []]
        for r in page.get("MetricDataResults") or []:
            out.results.append(dict(r))
            out.messages += [
                f"{r.get('Id')}: {m.get('Code')}: {m.get('Value')}" for m in r.get("Messages") or []
            ]
        if on_page:
            on_page(sum(len(r.get("Values") or []) for r in page.get("MetricDataResults") or []))
    return out


def list_dimension_values(cw: CloudWatchClient, namespace: str, dimension: str) -> set[tuple[str, str]]:
    """(metric name, value) of every metric of `namespace` whose only dimension is `dimension`."""
    out: set[tuple[str, str]] = set()
    pages = cw.get_paginator("list_metrics").paginate(Namespace=namespace, Dimensions=[{"Name": dimension}])
    for page in pages:
        for m in page.get("Metrics") or []:
            dims = m.get("Dimensions") or []
            if len(dims) == 1 and dims[0].get("Name") == dimension and "MetricName" in m:
                out.add((m["MetricName"], dims[0]["Value"]))
    return out
