"""The metrics source: AWS/States and AWS/Lambda datapoints → the `metrics` table, incrementally.

Per target and namespace: the window runs from the cursor minus the look-back (else `--since`,
else 7 days) to the current minute. It is split by the data's age, the period CloudWatch still
keeps for it (`segments`), and by UTC day, each part asked for in GetMetricData calls of ≤ 500
queries, and each part's rows replace whatever the lake held for those series in that time (so a
re-collected window never doubles a datapoint, not even at another period). The parts of one day,
of both namespaces, are written together: each day partition is rewritten once per run. The
namespace's cursor moves to the end of the window only when every series came back whole;
otherwise the same window is asked again next run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from botocore.exceptions import ClientError

from collectors.aws import Target
from collectors.cloudwatch import fetch as cwf
from collectors.cloudwatch.calls import Calls, called, integration_of
from collectors.cloudwatch.normalize import metric_table
from collectors.cloudwatch.queries import (
    API_NAME,
    INTEGRATION_ARN,
    NAMESPACES,
    STATES,
    Listed,
    MetricQuery,
    plan,
)
from collectors.ratelimit import TokenBucket
from collectors.source import Context, Progress
from collectors.stepfunctions.collect import lower_bound
from collectors.stepfunctions.fetch import error_code
from lake.layout import NO_DOMAIN, utc_date

SOURCE = "metrics"
# CloudWatch keeps 60 s datapoints 15 days, 300 s ones 63 days, 3600 s ones 455 days, and wants a
# period of that size for a start time of that age. The margin keeps a call that starts near an edge
# from crossing it while it is on the way.
RETENTION = ((timedelta(days=15), 60), (timedelta(days=63), 300), (timedelta(days=455), 3600))
EDGE_MARGIN = timedelta(hours=1)
COMPLETE = "Complete"
MONTH = timedelta(days=30)
# Datapoints per second GetMetricData allows (per account and Region) for a start older than 3 hours
# (180,000 within 3 hours): paced at the run's margin, counted as CloudWatch counts them.
DATAPOINTS_PER_SECOND = 180_000


def segments(start: datetime, end: datetime, now: datetime) -> list[tuple[datetime, datetime, int]]:
    """[start, end) split into (start, end, period_s) parts by age: 60 s while younger than 15 days,
    300 s until 63 days, 3600 s until 455 days; nothing older. Each part is aligned to its period."""
    out: list[tuple[datetime, datetime, int]] = []
    hi = end
    for (age, period), coarser in zip(RETENTION, (*(p for _, p in RETENTION[1:]), 3600), strict=True):
        lo = _ceil(now - age + EDGE_MARGIN, coarser)  # the oldest start this period is safe for
        a, b = _floor(max(start, lo), period), min(hi, _ceil(end, period))
        if a < b:
            out.append((a, b, period))
        hi = min(hi, lo)
        if start >= lo:
            break
    return out[::-1]


def _days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at UTC midnights (which every period divides)."""
    out, a = [], start
    while a < end:
        b = min(end, _floor(a, 86400) + timedelta(days=1))
        out.append((a, b))
        a = b
    return out


def _floor(t: datetime, s: int) -> datetime:
    e = int(t.timestamp())
    return datetime.fromtimestamp(e - e % s, UTC)


def _ceil(t: datetime, s: int) -> datetime:
    f = _floor(t, s)
    return f if f == t else f + timedelta(seconds=s)


def listed_series(cw: Any, calls: Calls) -> Listed:
    """APIName values, and the integrations the machines use, as ListMetrics has them."""
    api = cwf.list_dimension_values(cw, STATES, API_NAME)
    used = {_base(r) for r in calls.integrations}
    found = cwf.list_dimension_values(cw, STATES, INTEGRATION_ARN)
    return Listed(frozenset(api), frozenset(p for p in found if _base(integration_of(p[1])) in used))


def _base(resource: str) -> str:
    # lambda:invoke.waitForTaskToken and lambda:invoke share the integration's metrics
    for suffix in (".waitForTaskToken", ".sync:2", ".sync"):
        if resource.endswith(suffix):
            return resource[: -len(suffix)]
    return resource


# -- the source ------------------------------------------------------------------------------
def collect(ctx: Context, t: Target, machines: list[dict[str, Any]]) -> None:
    """Collect both namespaces of one target; an API error is recorded and the cursor stays. A target
    with no tagged machine has nothing of the flows to measure, not even its account-level series."""
    if not machines:
        return
    cw = t.client("cloudwatch")
    calls = called(machines, t.region, t.account_id)
    ctx.progress.add("functions", len(calls.functions))
    for u in calls.unresolved:
        ctx.progress.add("unresolved_functions")
        ctx.log.warning("metrics: %s/%s: function not resolved: %s", t.account_id, t.region, u)
    try:
        listed = listed_series(cw, calls)
        ctx.progress.add("list_metrics_calls", 2)
    except ClientError as e:
        ctx.error(f"{t.account_id}/{t.region}: ListMetrics: {error_code(e)}: {e}")
        listed = Listed()
    pacer = TokenBucket(DATAPOINTS_PER_SECOND * 0.8, DATAPOINTS_PER_SECOND * 0.8)
    queries = {
        ns: functools.partial(plan, ns, machines=machines, functions=calls.functions, listed=listed)
        for ns in NAMESPACES
    }
    for ns in NAMESPACES:
        ctx.progress.add("metric_series", len(queries[ns](60)))
    _collect_namespaces(ctx, cw, t, queries, pacer)
    _figures(ctx)


@dataclass(frozen=True)
class _Part:
    """One aligned part of a namespace's window, at one period and within one UTC day, as fetched."""

    namespace: str
    queries: list[MetricQuery]
    start: datetime
    end: datetime
    rows: pa.Table  # normalize.metric_table
    bad: list[str]  # the series that did not come back whole (their last page's status)


def _collect_namespaces(
    ctx: Context,
    cw: Any,
    t: Target,
    queries: Mapping[str, Callable[[int], list[MetricQuery]]],
    pacer: TokenBucket,
) -> None:
    """Every part of each namespace's window, a UTC day at a time with the namespaces side by side, so a
    day's partitions are rewritten once (a 30-day first run: once each, not once per namespace and
    period); then each namespace's cursor: the newest datapoint written, moved only when every series
    came back whole (else the next run asks for the same window again). An API error ends its
    namespace's collection for the run."""
    now = ctx.now()
    cursors = {ns: ctx.cursors.get(SOURCE, t.account_id, t.region, ns) or {} for ns in queries}
    newest: dict[str, datetime | None] = {ns: c.get("watermark") for ns, c in cursors.items()}
    problems: dict[str, list[str]] = {ns: [] for ns in queries}
    days: dict[datetime, list[tuple[str, datetime, datetime, int]]] = {}
    for ns, cursor in cursors.items():
        for a, b, period in segments(
            lower_bound(ctx.opts, cursor.get("watermark"), now), _floor(now, 60), now
        ):
            for day_a, day_b in _days(a, b):
                days.setdefault(_floor(day_a, 86400), []).append((ns, day_a, day_b, period))
    stopped: set[str] = set()  # namespaces that met an API error: the rest waits for the next run
    for day in sorted(days):
        parts = []
        for ns, a, b, period in days[day]:
            if ns in stopped:
                continue
            try:
                parts.append(_fetch(ctx, cw, t, ns, queries[ns](period), a, b, pacer))
            except ClientError as e:
                problems[ns].append(f"GetMetricData: {error_code(e)}: {e}")
                stopped.add(ns)
        _replace(ctx, t, parts)
        for p in parts:
            problems[p.namespace] += p.bad
            got = pc.max(p.rows.column("timestamp")).as_py() if len(p.rows) else None
            newest[p.namespace] = max((x for x in (newest[p.namespace], got) if x is not None), default=None)
    for ns, cursor in cursors.items():
        _put_cursor(ctx, t, ns, cursor, problems[ns], newest[ns], now)


def _put_cursor(
    ctx: Context,
    t: Target,
    ns: str,
    cursor: Mapping[str, Any],
    problems: list[str],
    newest: datetime | None,
    now: datetime,
) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        ctx.error(f"{t.account_id}/{t.region} {ns}: {problems[0]}{more}")
    error = problems[0] if problems else None
    moved = {"watermark": newest, "last_collected_at": now}
    ctx.put_cursor(SOURCE, t, ns, cursor, error, moved, incomplete_items=len(problems))


def _fetch(
    ctx: Context,
    cw: Any,
    t: Target,
    namespace: str,
    queries: list[MetricQuery],
    start: datetime,
    end: datetime,
    pacer: TokenBucket,
) -> _Part:
    """Fetch one aligned part at one period: its rows and the series that did not come back whole."""
    status: dict[str, str] = {}
    tables: list[pa.Table] = []
    for batch in cwf.batches(queries):
        wait = pacer.reserve(min(cwf.estimated_datapoints(batch, start, end), pacer.capacity))
        if wait > 0:
            ctx.sleep(wait)
        data = cwf.get_metric_data(cw, batch, start, end, on_page=lambda n: ctx.progress.add("datapoints", n))
        ctx.progress.add("metric_calls", data.pages)
        ctx.progress.add("metric_queries", data.queries_sent)
        for m in data.messages:
            ctx.progress.add("metric_messages")
            ctx.log.warning("metrics: %s/%s: CloudWatch says %s", t.account_id, t.region, m)
        status.update((r["Id"], r.get("StatusCode") or COMPLETE) for r in data.results)
        tables.append(metric_table(batch, data.results, account_id=t.account_id, region=t.region))
    by_id = {q.id: q for q in queries}
    bad = [
        f"{by_id[i].metric_name} {by_id[i].stat} {by_id[i].dimensions_json}: {code}"
        for i, code in status.items()
        if code != COMPLETE
    ]
    rows = (
        pa.concat_tables(tables) if tables else metric_table([], [], account_id=t.account_id, region=t.region)
    )
    return _Part(namespace, queries, start, end, rows, bad)


def _replace(ctx: Context, t: Target, parts: Sequence[_Part]) -> None:
    """Write one day's parts so their rows replace every old datapoint of the series each asked for in
    its window, whatever its period: each partition of the day is written once."""
    parts = [p for p in parts if p.queries]
    if not parts:
        return
    keys = [
        (p, pa.array(sorted({"\x1f".join((q.metric_name, q.stat, q.dimensions_json)) for q in p.queries})))
        for p in parts
    ]

    def window(old: pa.Table) -> Any:
        ts = old.column("timestamp")
        key = pc.binary_join_element_wise(
            old.column("metric_name"), old.column("stat"), old.column("dimensions"), "\x1f"
        )
        ours = pc.and_(
            pc.equal(old.column("account_id"), t.account_id), pc.equal(old.column("region"), t.region)
        )
        asked = pa.repeat(pa.scalar(False), len(old))
        for p, series in keys:
            inside = pc.and_(
                pc.greater_equal(ts, pa.scalar(p.start, ts.type)), pc.less(ts, pa.scalar(p.end, ts.type))
            )
            mine = pc.and_(pc.equal(old.column("namespace"), p.namespace), pc.is_in(key, value_set=series))
            asked = pc.or_(asked, pc.and_(inside, mine))
        return pc.and_(ours, asked)

    rows = pa.concat_tables([p.rows for p in parts])
    if len(rows):
        ctx.lake.write_partitioned("metrics", rows, replace_where=window)
    written = {
        (g["domain"] or NO_DOMAIN, g["date"])
        for g in rows.group_by(["domain", "date"]).aggregate([]).to_pylist()
    }
    first = min(p.start for p in parts)
    last = max(p.end for p in parts) - timedelta(milliseconds=1)
    for domain, date in ctx.lake.partitions("metrics", utc_date(first), utc_date(last)):
        if (domain, date) not in written:  # old datapoints of the window where none came back now
            ctx.lake.write("metrics", [], domain=domain, date=date, replace_where=window)


# -- what a run shows and records of this source ------------------------------------------------
def _figures(ctx: Context) -> None:
    """The monthly cost of running this collection every `--schedule`: each run asks for its series
    (and makes its ListMetrics requests) again, at `--metric-price` per 1,000."""
    p, o = ctx.progress, ctx.opts
    runs = MONTH / o.schedule
    per_run = p.get("metric_series") + p.get("list_metrics_calls")
    ctx.figures["schedule_s"] = o.schedule.total_seconds()
    ctx.figures["metric_price"] = o.metric_price
    ctx.figures["metric_cost_month_usd"] = round(per_run * runs * o.metric_price / 1000, 2)
    ctx.figures["metric_cost_run_usd"] = round(
        (p.get("metric_queries") + p.get("list_metrics_calls")) * o.metric_price / 1000, 4
    )


def progress(p: Progress) -> str:
    return f"metrics {p.get('metric_queries')} queries, {p.get('datapoints')} datapoints"


def summary(c: Mapping[str, Any]) -> list[str]:
    lines = [
        f"metrics: {c.get('metric_queries', 0)} queries in {c.get('metric_calls', 0)} GetMetricData calls, "
        f"{c.get('datapoints', 0)} datapoints (about ${c.get('metric_cost_run_usd', 0):.4f}); "
        f"{c.get('functions', 0)} Lambda functions",
        f"  collected every {_human(c.get('schedule_s', 300))}: {c.get('metric_series', 0)} series a run, "
        f"about ${c.get('metric_cost_month_usd', 0):,.2f} a month at ${c.get('metric_price', 0.01)} per 1,000 metrics",
    ]
    if c.get("unresolved_functions"):
        lines.append(
            f"  {c['unresolved_functions']} function reference(s) resolved only at run time: not collected (see the log)"
        )
    if c.get("metric_messages"):
        lines.append(f"  {c['metric_messages']} message(s) from CloudWatch (see the log)")
    return lines


def _human(seconds: float) -> str:
    for unit, n in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= n and seconds % n == 0:
            return f"{int(seconds // n)} {unit}"
    return f"{seconds:g} s"
