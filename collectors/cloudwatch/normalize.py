"""GetMetricData results → `metrics` lake rows. Pure, no I/O: the collector and the simulator both
write through here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from collectors.cloudwatch.queries import MetricQuery
from lake.layout import utc_date


def metric_rows(
    queries: Sequence[MetricQuery], results: Sequence[Mapping[str, Any]], *, account_id: str, region: str
) -> list[dict[str, Any]]:
    """Rows of the `metrics` table from GetMetricData results.

    `queries` are the `MetricQuery`s asked for; `results` are `MetricDataResults` items (`Id`, `Label`,
    `Timestamps`, `Values`, `StatusCode`), from every page of every call: an `Id` may come back on
    several pages, a datapoint seen twice is kept once (the last). Each result's `Id` must be one of
    the queries' ids (else ValueError). Timestamps are datetimes (boto3's) or ISO-8601 strings.
    Each row carries every `metrics` column plus `domain` and `date` (the partition, `Lake.write_partitioned`).
    A series with no datapoints gives no rows; what that means (0 for a count, unknown for a gauge) is
    the query's `kind`. The status codes are the caller's to report (`PartialData` means ask again).
    """
    by_id = {q.id: q for q in queries}
    out: dict[tuple[str, datetime], dict[str, Any]] = {}
    days: dict[date, str] = {}  # partition date of each UTC day met (formatting it is most of a row's cost)
    for res in results:
        q = by_id.get(res["Id"])
        if q is None:
            raise ValueError(f"GetMetricData result {res['Id']!r} answers no query asked for")
        stamps, values = res.get("Timestamps") or [], res.get("Values") or []
        if len(stamps) != len(values):
            raise ValueError(f"GetMetricData result {q.id!r}: {len(stamps)} timestamps, {len(values)} values")
        dims = q.dimensions_json
        for ts, v in zip(stamps, values, strict=True):
            t = _utc_ms(ts)
            out[(q.id, t)] = {
                "account_id": account_id,
                "region": region,
                "namespace": q.namespace,
                "metric_name": q.metric_name,
                "stat": q.stat,
                "period_s": q.period_s,
                "timestamp": t,
                "value": float(v),
                "unit": q.unit,
                "dimensions": dims,
                "state_machine_arn": q.state_machine_arn,
                "function_name": q.function_name,
                "domain": q.domain,
                "date": days.get(t.date()) or days.setdefault(t.date(), utc_date(t)),
            }
    return sorted(
        out.values(),
        key=lambda r: (r["timestamp"], r["namespace"], r["metric_name"], r["dimensions"], r["stat"]),
    )


def _utc_ms(ts: datetime | str) -> datetime:
    if isinstance(ts, datetime) and ts.tzinfo is UTC and not ts.microsecond % 1000:
        return ts  # already what a row holds
    t = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    t = t.astimezone(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)
