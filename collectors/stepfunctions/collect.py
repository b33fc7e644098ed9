"""The histories source: executions → histories → the lake, incrementally, per tagged state machine.

Per state machine: list executions newest first down to the cursor minus a look-back, compare them
with what the lake holds, fetch the histories of the new and changed ones concurrently (paced by
the rate limiter), write them in batches (events and state runs first, executions last: an
executions row is the commit marker of its history) and only then move the machine's cursor.
Executions already terminal with a complete history are never fetched again, so re-running a
window costs list calls only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from collectors.aws import Target
from collectors.source import CollectOptions, Context, Progress, reads_logs
from collectors.stepfunctions import fetch as sf
from collectors.stepfunctions.normalize import NormalizedExecution, normalize_execution
from lake.layout import table_file
from lake.status import RUNNING

SOURCE = "histories"
DEFAULT_WINDOW = timedelta(days=7)
# A redrive keeps the execution's start date; AWS allows one within 14 days of its end.
REDRIVE_HORIZON = timedelta(days=14)
INDEX_COLUMNS = [
    "execution_arn",
    "state_machine_arn",
    "status",
    "history_complete",
    "history_error",
    "redrive_count",
    "redrive_date",
]
Known = dict[str, dict[str, Any]]  # execution ARN → the INDEX_COLUMNS of its lake row
Todo = dict[str, tuple[Mapping[str, Any], dict[str, Any] | None]]  # execution ARN → (listed, described)


# -- decisions (pure) ------------------------------------------------------------------------
def needs_fetch(known: Mapping[str, Any] | None, item: Mapping[str, Any]) -> bool:
    """Whether a listed execution must be (re-)fetched given its lake row (None = not there)."""
    if known is None or item.get("status") == RUNNING or known["status"] != item.get("status"):
        return True
    if _redrive_changed(known, item):
        return True
    if not known["history_complete"]:
        return not str(known.get("history_error") or "").startswith(sf.EXPIRED_CODE)
    return False


def _redrive_changed(known: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    count = item.get("redriveCount")
    if count is not None and count != (known.get("redrive_count") or 0):
        return True
    date = item.get("redriveDate")
    return date is not None and (
        known.get("redrive_date") is None or sf.utc(date) != sf.utc(known["redrive_date"])
    )


def lower_bound(opts: CollectOptions, watermark: datetime | None, now: datetime) -> datetime:
    """Oldest start time to list: --since, else the cursor minus the look-back, else 7 days."""
    if opts.since is not None:
        return opts.since
    if watermark is not None:
        return sf.utc(watermark) - opts.lookback
    return now - DEFAULT_WINDOW


# -- lake reads ------------------------------------------------------------------------------
def lake_index(ctx: Context, domains: Iterable[str], columns: list[str] = INDEX_COLUMNS) -> dict[str, Known]:
    """state machine ARN → execution ARN → the few executions columns the decisions need (`columns`,
    which must include the two ARNs), and the (domain, date) partition the row is in as `partition`."""
    lake, wanted = ctx.lake, set(domains)
    out: dict[str, Known] = {}
    for key in lake.partitions("executions"):
        if key[0] not in wanted:
            continue
        path = lake.path(table_file("executions", key))
        for r in pq.read_table(path, columns=columns, filesystem=lake.fs).to_pylist():
            r["partition"] = key
            out.setdefault(r["state_machine_arn"], {})[r["execution_arn"]] = r
    return out


# -- the source ------------------------------------------------------------------------------
def collect(ctx: Context, t: Target, machines: list[dict[str, Any]]) -> None:
    """Collect the executions and histories of every machine of one target; a machine's API error is
    recorded and the others go on. Machines whose histories come from their logs are the logs source's."""
    machines = [m for m in machines if not reads_logs(m, ctx.opts)]
    index = lake_index(ctx, {m["domain"] for m in machines})
    for sm in machines:
        arn = sm["state_machine_arn"]
        cursor = ctx.cursors.get(SOURCE, t.account_id, t.region, arn)
        try:
            _collect_machine(ctx, t, sm, index.get(arn, {}), cursor)
        except ClientError as e:
            msg = f"{arn}: {sf.error_code(e)}: {e}"
            ctx.error(msg)
            old = cursor or {}
            # The old position stays: the next run lists the same window again.
            _put_cursor(
                ctx,
                t,
                sm,
                old.get("watermark"),
                old.get("last_collected_at"),
                (old.get("open_items") or 0, old.get("incomplete_items") or 0),
                error=msg,
            )
        ctx.progress.add("machines")


def _collect_machine(
    ctx: Context, t: Target, sm: dict[str, Any], known: Known, cursor: dict[str, Any] | None
) -> None:
    now = ctx.now()
    old_wm = cursor["watermark"] if cursor else None
    since = lower_bound(ctx.opts, old_wm, now)
    todo, newest = _listed_todo(
        ctx, t, sm["state_machine_arn"], since, known, sf.utc(old_wm) if old_wm else None
    )
    written = _fetch_and_write(ctx, t, sm, todo, known)
    after = {**known, **{r["execution_arn"]: r for r in written}}
    _put_cursor(ctx, t, sm, newest, now, _open_and_incomplete(after.values()))


def _listed_todo(
    ctx: Context, t: Target, arn: str, since: datetime, known: Known, newest: datetime | None
) -> tuple[Todo, datetime | None]:
    """The executions to fetch, and the newest start time listed (or the old one)."""
    todo: Todo = {}
    listed: set[str] = set()
    for item in sf.list_executions(t.sfn, arn, since):
        ex = item["executionArn"]
        listed.add(ex)
        ctx.progress.add("listed")
        start = sf.utc(item["startDate"])
        newest = start if newest is None or start > newest else newest
        if needs_fetch(known.get(ex), item):
            todo[ex] = (item, None)
        else:
            ctx.progress.add("skipped")
    # Redrives keep the original start date, so they can hide below the window.
    for item in sf.list_executions(t.sfn, arn, since - REDRIVE_HORIZON, redriven=True):
        ex = item["executionArn"]
        if ex in known and ex not in todo and _redrive_changed(known[ex], item):
            todo[ex] = (item, None)
    # Executions the lake still has as RUNNING but that fell out of the listed window.
    for ex, k in known.items():
        if k["status"] == RUNNING and ex not in listed and ex not in todo:
            desc = sf.describe_execution(t.sfn, ex)
            if desc is not None:
                todo[ex] = (desc, desc)
    return todo, newest


def _fetch_and_write(
    ctx: Context, t: Target, sm: dict[str, Any], todo: Todo, known: Known
) -> list[dict[str, Any]]:
    """Fetch, normalise and write; returns the executions rows written."""
    batch: list[NormalizedExecution] = []
    written: list[dict[str, Any]] = []
    items = iter(sorted(todo.items()))
    workers = max(1, ctx.opts.concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="history") as pool:
        futures: set[Future[NormalizedExecution]] = set()
        try:
            while True:
                while len(futures) < workers * 4:
                    nxt = next(items, None)
                    if nxt is None:
                        break
                    arn, (item, desc) = nxt
                    futures.add(pool.submit(_fetch_one, ctx, t, sm, item, desc, arn in known))
                if not futures:
                    break
                done, futures = wait(futures, return_when=FIRST_COMPLETED)
                batch += [f.result() for f in sorted(done, key=id)]
                if len(batch) >= ctx.opts.batch_size:
                    written += write_batch(ctx, batch)
                    batch = []
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    if batch:
        written += write_batch(ctx, batch)
    return written


def _fetch_one(
    ctx: Context,
    t: Target,
    sm: dict[str, Any],
    item: Mapping[str, Any],
    desc: dict[str, Any] | None,
    update: bool,
) -> NormalizedExecution:
    p = ctx.progress

    def on_page(n: int) -> None:
        p.add("pages")
        p.add("events", n)

    fetched = sf.fetch_execution(
        t.sfn,
        item,
        include_payloads=ctx.opts.include_payloads,
        described=desc,
        on_page=on_page,
        sleep=ctx.sleep,
    )
    if fetched.retries:
        p.add("collector_retries", fetched.retries)
    if not fetched.history_complete:
        p.add("expired")
    p.add("updated" if update else "new")
    return normalize_execution(
        fetched.execution,
        fetched.events,
        state_machine=sm,
        include_payloads=ctx.opts.include_payloads,
        history_complete=fetched.history_complete,
        history_error=fetched.history_error,
        collected_at=ctx.now(),
    )


def write_batch(ctx: Context, batch: list[NormalizedExecution]) -> list[dict[str, Any]]:
    """Write normalised executions; returns their executions rows."""
    # Order matters: an executions row is the commit marker of its events and state runs.
    batch = sorted(batch, key=lambda n: n.execution["execution_arn"])
    ctx.lake.write_partitioned("events", [e for n in batch for e in n.events], replace_executions=True)
    ctx.lake.write_partitioned(
        "state_runs", [r for n in batch for r in n.state_runs], replace_executions=True
    )
    ctx.lake.write_partitioned("executions", [n.execution for n in batch])
    return [n.execution for n in batch]


def _put_cursor(
    ctx: Context,
    t: Target,
    sm: dict[str, Any],
    watermark: datetime | None,
    finished: datetime | None,
    counts: tuple[int, int],
    *,
    error: str | None = None,
) -> None:
    """The machine's cursor; called only after its executions are written."""
    ctx.cursors.put(
        SOURCE,
        t.account_id,
        t.region,
        sm["state_machine_arn"],
        domain=sm["domain"],
        watermark=watermark,
        last_collected_at=finished,
        open_items=counts[0],
        incomplete_items=counts[1],
        last_error=error,
    )


def _open_and_incomplete(rows: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    rows = list(rows)
    return sum(r["status"] == RUNNING for r in rows), sum(not r["history_complete"] for r in rows)


# -- what a run shows of this source -----------------------------------------------------------
def progress(p: Progress) -> str:
    return (
        f"executions {p.get('listed')} listed, {p.get('new') + p.get('updated')} fetched  "
        f"pages {p.get('pages')}"
    )


def summary(c: Mapping[str, int]) -> list[str]:
    return [
        f"histories: {c.get('listed', 0)} executions listed ({c.get('new', 0)} new, "
        f"{c.get('updated', 0)} updated, {c.get('skipped', 0)} unchanged)",
        f"  history pages {c.get('pages', 0)}, events {c.get('events', 0)}, "
        f"expired histories {c.get('expired', 0)}",
    ]
