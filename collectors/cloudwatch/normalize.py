"""GetMetricData results → `metrics` lake rows, as Arrow columns. Pure, no I/O: the collector and the
simulator both write through here.

The columns are built whole, never a dict per datapoint: a query's fields (namespace, metric,
dimensions, ...) are made once per query and repeated by index, the values and times converted in
one call each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.cloudwatch.queries import MetricQuery
from lake.schema import METRICS, TS
from lake.store import dedupe_last

# What a query gives every row of its datapoints (the rest: account, Region, time and value).
QUERY_FIELDS = (
    "namespace",
    "metric_name",
    "stat",
    "period_s",
    "unit",
    "dimensions",
    "state_machine_arn",
    "function_name",
    "domain",
)
COLUMNS = [*METRICS.names, "domain", "date"]


def metric_table(
    queries: Sequence[MetricQuery], results: Sequence[Mapping[str, Any]], *, account_id: str, region: str
) -> pa.Table:
    """The `metrics` rows of GetMetricData results: every `metrics` column plus `domain` and `date` (the
    partition, for `Lake.write_partitioned`), sorted by time, then series.

    `queries` are the `MetricQuery`s asked for; `results` are `MetricDataResults` items (`Id`, `Label`,
    `Timestamps`, `Values`, `StatusCode`), from every page of every call: an `Id` may come back on
    several pages, a datapoint seen twice is kept once (the last). Each result's `Id` must be one of
    the queries' ids (else ValueError). Timestamps are datetimes (boto3's, any time zone; naive = UTC),
    ISO-8601 strings or a numpy datetime64 array (UTC: the simulator's, with its values as an array),
    kept to the millisecond. A series with no datapoints gives no rows; what that means (0 for a count,
    unknown for a gauge) is the query's `kind`. The status codes are the caller's to report
    (`PartialData` means ask again).
    """
    by_id = {q.id: i for i, q in enumerate(queries)}
    which: list[np.ndarray] = []
    stamps: list[pa.Array] = []
    values: list[pa.Array] = []
    for res in results:
        i = by_id.get(res["Id"])
        if i is None:
            raise ValueError(f"GetMetricData result {res['Id']!r} answers no query asked for")
        ts, vs = _given(res.get("Timestamps")), _given(res.get("Values"))
        if len(ts) != len(vs):
            raise ValueError(f"GetMetricData result {res['Id']!r}: {len(ts)} timestamps, {len(vs)} values")
        which.append(np.full(len(ts), i, np.int32))
        stamps.append(_times(ts))
        values.append(pa.array(vs, pa.float64()))
    points = pa.table(
        {
            "query": np.concatenate(which) if which else np.zeros(0, np.int32),
            "timestamp": pa.concat_arrays(stamps) if stamps else pa.array([], TS),
            "value": pa.concat_arrays(values) if values else pa.array([], pa.float64()),
        }
    )
    points = dedupe_last(points, ["query", "timestamp"])
    # the order of the dict rows this replaces: time, then namespace, metric, dimensions, statistic
    order = sorted(range(len(queries)), key=lambda j: _series_order(queries[j]))
    rank = np.empty(len(queries), np.int32)
    rank[order] = np.arange(len(queries), dtype=np.int32)
    points = points.append_column("rank", pa.array(rank).take(points.column("query")))
    points = points.sort_by([("timestamp", "ascending"), ("rank", "ascending")])
    query = points.column("query")
    per_query = {name: pa.array([_field(q, name) for q in queries], _type(name)) for name in QUERY_FIELDS}
    n = len(points)
    cols = {
        "account_id": pa.repeat(pa.scalar(account_id, pa.string()), n),
        "region": pa.repeat(pa.scalar(region, pa.string()), n),
        "timestamp": points.column("timestamp"),
        "value": points.column("value"),
        **{name: per_query[name].take(query) for name in QUERY_FIELDS},
        "date": pc.cast(pc.cast(points.column("timestamp"), pa.date32()), pa.string()),
    }
    return pa.table({name: cols[name] for name in COLUMNS})


def _series_order(q: MetricQuery) -> tuple[str, str, str, str]:
    return (q.namespace, q.metric_name, q.dimensions_json, q.stat)


def _field(q: MetricQuery, name: str) -> Any:
    return q.dimensions_json if name == "dimensions" else getattr(q, name)


def _type(name: str) -> pa.DataType:
    return pa.string() if name == "domain" else METRICS.field(name).type


def _given(v: Any) -> Any:
    return [] if v is None else v


def _times(ts: Any) -> pa.Array:
    """A result's timestamps to the millisecond: through microseconds, so a datetime's offset is applied
    exactly before the cut; a numpy datetime64 array (the simulator's) is UTC already."""
    if isinstance(ts, np.ndarray):
        return pa.array(ts.astype("datetime64[ms]")).cast(TS)
    if any(isinstance(t, str) for t in ts):
        ts = [_datetime(t) for t in ts]
    return pa.array(ts, pa.timestamp("us", tz="UTC")).cast(TS, safe=False)


def _datetime(ts: datetime | str) -> datetime:
    t = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
