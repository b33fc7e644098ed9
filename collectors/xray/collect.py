"""The traces source: the X-Ray traces of the tagged machines' executions → `traces`, `trace_segments`,
and `trace_lookups` for the executions whose trace is not (yet) there.

Per target: ask GetTraceSegmentDestination where segments go. Then, from the executions the lake
holds since the cursor (minus the look-back and RETRY_WINDOW), take those that should have a trace:
a trace id from their DescribeExecution trace header, or a machine with tracing on. Their traces are
found by id, and, for executions without an id, by GetTraceSummaries over short windows around their
run (linked by the Step Functions segment that names the execution). Whole traces come from
BatchGetTraces, 5 ids a call (`XRay`), or from a Transaction Search retrieval (`CloudWatchLogs`: the
trace APIs there see only the indexed share). An execution whose trace is not found is PENDING while
it ended less than RETRY_WINDOW ago, then NOT_SAMPLED; EXPIRED, without a call, when it ended longer
ago than X-Ray keeps traces (30 days). Neither is looked for again. A trace with a segment still in
progress is fetched again next run.

Write order: segments, then traces (the commit marker of their segments), then lookups, then the
cursor: a run killed at any point re-reads the same executions and ends in the same lake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from collectors.aws import Target
from collectors.source import Context, Progress
from collectors.stepfunctions.collect import lower_bound
from collectors.stepfunctions.fetch import error_code, utc
from collectors.xray import fetch as xf
from collectors.xray.normalize import Execution, link, machine_of, parse_trace, trace_ids, trace_rows
from lake.layout import table_file, utc_date
from lake.status import RUNNING

SOURCE = "traces"
CURSOR_KEY = "traces"
RETENTION = timedelta(days=30)  # X-Ray keeps traces this long
# X-Ray makes a trace searchable seconds to minutes after it ends: looked for this long, then given up.
RETRY_WINDOW = timedelta(hours=1)
PAD = timedelta(minutes=1)  # around an execution's run, for the summaries' windows
PENDING, NOT_SAMPLED, EXPIRED = "PENDING", "NOT_SAMPLED", "EXPIRED"
FINAL = frozenset({NOT_SAMPLED, EXPIRED})
EXECUTION_COLUMNS = ["execution_arn", "state_machine_arn", "status", "start_time", "stop_time", "trace_id"]


@dataclass
class Wanted:
    """The executions of one target that should have a trace and have none (complete) in the lake."""

    todo: dict[str, dict[str, Any]] = field(default_factory=dict)  # ARN → its executions columns + domain
    lookups: dict[str, dict[str, Any]] = field(default_factory=dict)  # ARN → its trace_lookups row
    traced: set[str] = field(default_factory=set)  # trace ids the lake has whole
    newest: datetime | None = None  # the latest end among the machines' finished executions read


# -- lake reads ------------------------------------------------------------------------------
def _read(
    ctx: Context, table: str, domains: set[str], first: str, columns: list[str]
) -> list[dict[str, Any]]:
    lake = ctx.lake
    out: list[dict[str, Any]] = []
    for dom, day in lake.partitions(table, first):
        if dom in domains:
            path = lake.path(table_file(table, (dom, day)))
            rows = pq.read_table(path, columns=columns, filesystem=lake.fs).to_pylist()
            out += [{**r, "domain": dom, "date": day} for r in rows]
    return out


def wanted(ctx: Context, machines: list[dict[str, Any]], since: datetime) -> Wanted:
    """What to look for among the executions started since `since` (pure decisions over lake reads)."""
    by_arn = {m["state_machine_arn"]: m for m in machines}
    domains = {m["domain"] for m in machines}
    first = utc_date(since)
    out = Wanted()
    done: set[str] = set()
    for r in _read(ctx, "traces", domains, first, ["trace_id", "execution_arn", "duration_ms"]):
        if r["duration_ms"] is not None:
            done.add(r["execution_arn"])
            out.traced.add(r["trace_id"])
    cols = ["execution_arn", "state_machine_arn", "trace_id", "status", "attempts", "first_looked_at"]
    for r in _read(ctx, "trace_lookups", domains, first, cols):
        out.lookups[r["execution_arn"]] = r
    for r in _read(ctx, "executions", domains, first, EXECUTION_COLUMNS):
        sm = by_arn.get(r["state_machine_arn"])
        if sm is None or r["status"] == RUNNING:
            continue
        out.newest = max(_ended(r), out.newest or _ended(r))
        if r["execution_arn"] in done:
            continue
        if not (r["trace_id"] or sm.get("tracing_enabled")):
            continue  # tracing off and no trace header: there is no trace to look for
        if (out.lookups.get(r["execution_arn"]) or {}).get("status") in FINAL:
            continue
        out.todo[r["execution_arn"]] = r
    return out


# -- the source ------------------------------------------------------------------------------
def collect(ctx: Context, t: Target, machines: list[dict[str, Any]]) -> None:
    """Collect the traces of one target's executions; an API error is recorded and the cursor stays."""
    if not machines:
        return
    cursor = ctx.cursors.get(SOURCE, t.account_id, t.region, CURSOR_KEY) or {}
    now = ctx.now()
    since = lower_bound(ctx.opts, cursor.get("watermark"), now) - RETRY_WINDOW
    xray = t.client("xray")
    error = None
    counts = (0, 0)
    newest = cursor.get("watermark")
    try:
        dest = xf.segment_destination(xray)
        ctx.progress.add("transaction_search_targets" if dest.name == xf.CLOUDWATCH_LOGS else "xray_targets")
        if dest.note:
            ctx.progress.add("destination_assumed")
            ctx.log.warning("traces: %s/%s: %s: using the X-Ray APIs", t.account_id, t.region, dest.note)
        want = wanted(ctx, machines, since)
        counts = _collect_target(ctx, t, xray, dest, machines, want, now)
        marks = [utc(newest) if newest is not None else None, want.newest]
        newest = max((m for m in marks if m is not None), default=None)
    except (ClientError, xf.RetrievalError) as e:
        code = error_code(e) if isinstance(e, ClientError) else "RetrievalError"
        error = f"{t.account_id}/{t.region} traces: {code}: {e}"
        ctx.error(error)
    moved = {
        "watermark": newest,
        "last_collected_at": now,
        "open_items": counts[0],
        "incomplete_items": counts[1],
    }
    ctx.put_cursor(SOURCE, t, CURSOR_KEY, cursor, error, moved)


def _collect_target(
    ctx: Context,
    t: Target,
    xray: Any,
    dest: xf.Destination,
    machines: list[dict[str, Any]],
    want: Wanted,
    now: datetime,
) -> tuple[int, int]:
    """Find, fetch, link and write; returns (pending, given up) among the executions looked at."""
    expired = {a for a, r in want.todo.items() if _ended(r) < now - RETENTION}
    look = {a: r for a, r in want.todo.items() if a not in expired}
    domains = {m["state_machine_arn"]: m["domain"] for m in machines}
    ids = trace_ids(r["trace_id"] for r in look.values())
    spans = [(utc(r["start_time"]) - PAD, _ended(r) + PAD) for r in look.values() if not r["trace_id"]]
    ids = trace_ids([*ids, *_summary_ids(ctx, xray, spans, domains)])
    ids = [i for i in ids if i not in want.traced]
    fetched = _fetch(ctx, xray, dest, ids, look)
    by_trace = {r["trace_id"]: _execution(r) for r in look.values() if r["trace_id"]}
    by_arn = {a: _execution(r) for a, r in look.items()}
    traces, segments, found = [], [], set()
    for raw in fetched.traces:
        parsed = parse_trace(raw)
        ctx.progress.add("trace_documents_skipped", parsed.skipped_documents)
        ex = link(parsed, by_trace, by_arn, domains)
        if ex is None or not parsed.segments:
            ctx.progress.add("traces_unlinked")
            continue
        trace, rows = trace_rows(parsed, ex)
        traces.append(trace)
        segments += rows
        found.add(ex.execution_arn)
    _write(ctx, traces, segments)
    ctx.progress.add("traces", len(traces))
    ctx.progress.add("trace_segments", len(segments))
    return _write_lookups(ctx, want, expired, found, now)


def _ended(r: Mapping[str, Any]) -> datetime:
    return utc(r["stop_time"] or r["start_time"])


def _execution(r: Mapping[str, Any]) -> Execution:
    return Execution(r["execution_arn"], r["state_machine_arn"], r["domain"], utc(r["start_time"]))


def _summary_ids(
    ctx: Context, xray: Any, spans: list[tuple[datetime, datetime]], domains: Mapping[str, str | None]
) -> list[str]:
    """Ids of the traces that started around the runs of executions without a trace id: those whose
    summary names one of the tagged machines (or names no resource at all, so must be read to know)."""
    out: list[str] = []
    for a, b in xf.windows(spans):
        for s in xf.trace_summaries(xray, a, b):
            ctx.progress.add("trace_summaries")
            arns = [r.get("ARN") or "" for r in s.get("ResourceARNs") or []]
            if not arns or any(a in domains or machine_of(a) in domains for a in arns):
                out.append(s["Id"])
    return out


def _fetch(
    ctx: Context, xray: Any, dest: xf.Destination, ids: list[str], look: Mapping[str, Mapping[str, Any]]
) -> xf.Fetched:
    """Whole traces: BatchGetTraces 5 ids a call, or Transaction Search retrievals of 100 over the runs'
    span. One call at a time: the client-side pacing, not the latency, is the limit."""
    out = xf.Fetched()
    if not ids:
        return out
    if dest.name == xf.CLOUDWATCH_LOGS:
        start = min(utc(r["start_time"]) for r in look.values()) - PAD
        end = max(_ended(r) for r in look.values()) + PAD
        parts = [
            xf.retrieve_traces(xray, ids[i : i + xf.RETRIEVAL_IDS], start, end, sleep=ctx.sleep)
            for i in range(0, len(ids), xf.RETRIEVAL_IDS)
        ]
    else:
        parts = [
            xf.batch_get_traces(xray, ids[i : i + xf.BATCH_IDS]) for i in range(0, len(ids), xf.BATCH_IDS)
        ]
    for p in parts:
        out.traces += p.traces
        out.unprocessed += p.unprocessed
        out.calls += p.calls
    return out


def _write(ctx: Context, traces: list[dict[str, Any]], segments: list[dict[str, Any]]) -> None:
    if not traces:
        return
    ids = pa.array(sorted({t["trace_id"] for t in traces}), pa.string())

    def same_traces(old: pa.Table) -> Any:  # a re-fetched trace replaces its old segments whole
        return pc.is_in(old.column("trace_id"), value_set=ids)

    ctx.lake.write_partitioned("trace_segments", segments, replace_where=same_traces)
    ctx.lake.write_partitioned("traces", traces)


def _write_lookups(
    ctx: Context, want: Wanted, expired: set[str], found: set[str], now: datetime
) -> tuple[int, int]:
    """The lookups of the executions looked at and not found; those found lose theirs."""
    rows, pending, final = [], 0, 0
    for arn, r in want.todo.items():
        if arn in found:
            continue
        old = want.lookups.get(arn) or {}
        if arn in expired:
            status = EXPIRED
        else:
            status = PENDING if _ended(r) >= now - RETRY_WINDOW else NOT_SAMPLED
        pending += status == PENDING
        final += status != PENDING
        ctx.progress.add(
            {PENDING: "traces_pending", NOT_SAMPLED: "traces_not_sampled"}.get(status, "traces_expired")
        )
        rows.append(
            {
                "execution_arn": arn,
                "state_machine_arn": r["state_machine_arn"],
                "trace_id": r["trace_id"],
                "status": status,
                "attempts": (old.get("attempts") or 0) + (status != EXPIRED),
                "first_looked_at": old.get("first_looked_at") or now,
                "last_looked_at": now,
                "domain": r["domain"],
                "date": r["date"],
            }
        )
    if rows:
        ctx.lake.write_partitioned("trace_lookups", rows)
    _drop_found_lookups(ctx, want, found)
    return pending, final


def _drop_found_lookups(ctx: Context, want: Wanted, found: set[str]) -> None:
    stale = [want.todo[a] for a in found if a in want.lookups]
    parts = {(r["domain"], r["date"]) for r in stale}
    arns = pa.array(sorted(r["execution_arn"] for r in stale), pa.string())
    for dom, day in sorted(parts):
        ctx.lake.write(
            "trace_lookups",
            [],
            domain=dom,
            date=day,
            replace_where=lambda old: pc.is_in(old.column("execution_arn"), value_set=arns),
        )


# -- what a run shows of this source -----------------------------------------------------------
def progress(p: Progress) -> str:
    return f"traces {p.get('traces')} ({p.get('trace_segments')} segments)"


def summary(c: Mapping[str, Any]) -> list[str]:
    paths = [
        name
        for key, name in (
            ("xray_targets", "X-Ray (GetTraceSummaries, BatchGetTraces)"),
            ("transaction_search_targets", "Transaction Search (StartTraceRetrieval, ListRetrievedTraces)"),
        )
        if c.get(key)
    ]
    lines = [
        f"traces: {c.get('traces', 0)} traces, {c.get('trace_segments', 0)} segments and subsegments, "
        f"read through {' and '.join(paths) or 'no trace API'}",
        f"  without a trace: {c.get('traces_pending', 0)} pending, {c.get('traces_not_sampled', 0)} not sampled, "
        f"{c.get('traces_expired', 0)} expired; {c.get('traces_unlinked', 0)} trace(s) of no tagged execution",
    ]
    if c.get("destination_assumed"):
        lines.append("  GetTraceSegmentDestination did not answer: the X-Ray APIs were used (see the log)")
    if c.get("trace_documents_skipped"):
        lines.append(f"  {c['trace_documents_skipped']} unreadable segment document(s) skipped")
    return lines
