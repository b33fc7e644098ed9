"""The logs source: Step Functions records in CloudWatch Logs → executions, state_runs and events.

For every machine whose histories come from its log group (EXPRESS ones, STANDARD ones under
`--history-source logs`; see `collectors.source.reads_logs`): read the group with FilterLogEvents from
the oldest position of its streams minus the look-back, group the records by execution, and push each
execution through the same normalizer as the history API's (`normalize_execution`, rows marked
`history_source = logs`).

Late records are merged, never duplicated: an execution the lake already holds that is not finished
and whole gets its stored events back under the new records (by event id) before it is normalised
again, and replaces its old rows; one that is finished and whole is left alone unless records with
higher ids arrive (a redrive). Cursors: one per machine (the newest record written, what is still
open), one per log stream (the newest record read from it), each written after the rows they cover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from botocore.exceptions import ClientError

from collectors.aws import Target
from collectors.cursors import CursorKey
from collectors.logs import fetch as lf
from collectors.logs.mapping import BadRecord, Record, by_execution, completeness, execution_record, parse
from collectors.source import CollectOptions, Context, Progress, reads_logs
from collectors.stepfunctions.collect import INDEX_COLUMNS, Known, lake_index, write_batch
from collectors.stepfunctions.fetch import error_code
from collectors.stepfunctions.normalize import NormalizedExecution, history_from_rows, normalize_execution
from lake.status import RUNNING

SOURCE = "logs"
DEFAULT_WINDOW = timedelta(days=7)
# A stream that delivered within this long of the group's newest record still holds the window open
# at its own position (its records may lag the others'); older ones have ended.
STREAM_RECENT = timedelta(days=1)
PAYLOAD_COLUMNS = ("input_sha256", "input_bytes", "output_sha256", "output_bytes")
COLUMNS = [*INDEX_COLUMNS, "event_count", *PAYLOAD_COLUMNS]
STREAM_SEP = "|"


# -- decisions (pure) ------------------------------------------------------------------------
def window_start(
    opts: CollectOptions, watermark: datetime | None, streams: Iterable[datetime | None], now: datetime
) -> datetime:
    """Oldest record time to read: --since; else the group's newest record, or an older position of a
    stream still delivering, minus the look-back; else 7 days."""
    if opts.since is not None:
        return opts.since
    if watermark is None:
        return now - DEFAULT_WINDOW
    recent = [w for w in streams if w is not None and w >= watermark - STREAM_RECENT]
    return min([watermark, *recent]) - opts.lookback


def is_settled(known: Mapping[str, Any] | None, records: list[Record]) -> bool:
    """An execution the lake holds finished and whole, to which these records add no event."""
    return (
        known is not None
        and known["status"] != RUNNING
        and bool(known["history_complete"])
        and max(r.event["id"] for r in records) <= (known.get("event_count") or 0)
    )


def machine_of(execution_arn: str) -> str | None:
    """`arn:aws:states:<region>:<acct>:<execution|express>:<machine>:...` → the machine's ARN."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] not in ("execution", "express"):
        return None
    return ":".join([*parts[:5], "stateMachine", parts[6]])


# -- the source ------------------------------------------------------------------------------
def collect(ctx: Context, t: Target, machines: list[dict[str, Any]]) -> None:
    """Collect every machine of one target whose histories are in its logs; a machine's API error is
    recorded, its cursors stay, and the others go on."""
    mine = [m for m in machines if reads_logs(m, ctx.opts)]
    if not mine:
        return
    logs = t.client("logs")
    index = lake_index(ctx, {m["domain"] for m in mine}, COLUMNS)
    for sm in mine:
        arn = sm["state_machine_arn"]
        try:
            _collect_machine(ctx, t, logs, sm, index.get(arn, {}))
        except ClientError as e:
            msg = f"{arn}: {error_code(e)}: {e}"
            ctx.error(msg)
            old = ctx.cursors.get(SOURCE, t.account_id, t.region, arn) or {}
            _put_cursors(ctx, t, sm, {**old, "last_error": msg}, {})
        ctx.progress.add("log_machines")


def _collect_machine(ctx: Context, t: Target, logs: Any, sm: dict[str, Any], known: Known) -> None:
    arn, group_arn, level = sm["state_machine_arn"], sm.get("log_group_arn"), sm.get("logging_level")
    cursor = ctx.cursors.get(SOURCE, t.account_id, t.region, arn) or {}
    if not group_arn or level in (None, "OFF"):
        ctx.progress.add("log_unlogged")
        ctx.log.warning("logs: %s logs nothing (level %s): no executions to read", arn, level or "OFF")
        _put_cursors(ctx, t, sm, {**cursor, "last_error": f"logging {level or 'OFF'}: nothing to read"}, {})
        return
    now = ctx.now()
    streams = ctx.cursors.of(SOURCE, t.account_id, t.region, group_arn + STREAM_SEP)
    start = window_start(
        ctx.opts, cursor.get("watermark"), (s.get("watermark") for s in streams.values()), now
    )
    records, positions = _read(ctx, logs, group_arn, arn, start, now)
    groups = by_execution(records)
    todo = {x: recs for x, recs in groups.items() if not is_settled(known.get(x), recs)}
    ctx.progress.add("log_unchanged", len(groups) - len(todo))
    stored = _stored_events(ctx, [known[x] for x in todo if x in known])
    batch, moved = [], defaultdict(list)
    written: list[dict[str, Any]] = []
    for x, recs in todo.items():
        norm = _normalize(ctx, sm, x, recs, stored.get(x, []), known.get(x))
        old = known.get(x)
        ctx.progress.add("log_updated" if old else "log_new")
        if old and old["partition"] != (sm["domain"], norm.execution["date"]):
            moved[old["partition"]].append(x)  # an earlier start came to light: another day
        batch.append(norm)
        if len(batch) >= ctx.opts.batch_size:
            written += write_batch(ctx, batch)
            batch = []
    if batch:
        written += write_batch(ctx, batch)
    _drop_moved(ctx, moved)
    after = {**known, **{r["execution_arn"]: r for r in written}}
    newest = max((r.event["timestamp"] for r in records), default=None)
    wm = max((w for w in (cursor.get("watermark"), newest) if w is not None), default=None)
    machine = {
        "watermark": wm,
        "last_collected_at": now,
        "open_items": sum(r["status"] == RUNNING for r in after.values()),
        "incomplete_items": sum(not r["history_complete"] for r in after.values()),
        "last_error": None,
    }
    ctx.progress.add("log_running", sum(r["status"] == RUNNING for r in written))
    ctx.progress.add("log_partial", sum(not r["history_complete"] for r in written))
    marks = {k: s["watermark"] for k, s in streams.items()}
    for k, w in positions.items():
        marks[k] = max(w, marks[k]) if marks.get(k) is not None else w
    _put_cursors(ctx, t, sm, machine, marks)


def _read(
    ctx: Context, logs: Any, group_arn: str, sm_arn: str, start: datetime, end: datetime
) -> tuple[list[Record], dict[str, datetime]]:
    """This machine's records in the window, and the newest record time read per stream cursor key."""
    p = ctx.progress
    group = lf.log_group_name(group_arn)
    out: list[Record] = []
    newest: dict[str, int] = {}

    def on_page(n: int) -> None:
        p.add("log_pages")
        p.add("log_events", n)

    for e in lf.filter_log_events(logs, group, start, end, on_page=on_page):
        try:
            r = parse(e.message, e.timestamp)
        except BadRecord as bad:
            p.add("log_bad_records")
            ctx.log.debug("logs: %s/%s: skipped: %s", group, e.stream, bad)
            continue
        if machine_of(r.execution_arn) != sm_arn:
            continue  # a group shared with other machines: theirs are read with them
        out.append(r)
        newest[e.stream] = max(newest.get(e.stream, 0), e.timestamp)
    p.add("log_records", len(out))
    return out, {f"{group_arn}{STREAM_SEP}{s}": _dt(ms) for s, ms in newest.items()}


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _stored_events(ctx: Context, known: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The stored history events of executions the lake holds, read once per partition."""
    by_part: dict[tuple[str, str], list[str]] = defaultdict(list)
    for k in known:
        by_part[k["partition"]].append(k["execution_arn"])
    out: dict[str, list[dict[str, Any]]] = {}
    for (domain, date), arns in sorted(by_part.items()):
        events = ctx.lake.read("events", domain, date)
        out.update(history_from_rows(events.filter(pc.is_in(events.column("execution_arn"), pa.array(arns)))))
    return out


def normalize_records(
    sm: Mapping[str, Any],
    arn: str,
    records: list[Record],
    *,
    stored: Sequence[Mapping[str, Any]] = (),
    include_payloads: bool = False,
    collected_at: datetime,
) -> NormalizedExecution:
    """One execution from its log records (and the events the lake already had of it, by id, the
    records winning), through the history normaliser; rows marked `history_source = logs`."""
    events = sorted(
        {**{e["id"]: e for e in stored}, **{r.event["id"]: r.event for r in records}}.values(), key=_id
    )
    whole, why = completeness(events, sm.get("logging_level"))
    return normalize_execution(
        execution_record(arn, sm["state_machine_arn"], events, max(r.redrive_count for r in records)),
        events,
        state_machine=sm,
        include_payloads=include_payloads,
        history_complete=whole,
        history_error=why,
        collected_at=collected_at,
        history_source=SOURCE,
    )


def _normalize(
    ctx: Context,
    sm: dict[str, Any],
    arn: str,
    records: list[Record],
    stored: list[dict[str, Any]],
    known: Mapping[str, Any] | None,
) -> NormalizedExecution:
    norm = normalize_records(
        sm, arn, records, stored=stored, include_payloads=ctx.opts.include_payloads, collected_at=ctx.now()
    )
    if known is not None:  # stored events carry no payloads: keep the hashes the first read computed
        row = norm.execution
        for c in PAYLOAD_COLUMNS:
            if row[c] is None and not (c.startswith("output") and row["status"] != "SUCCEEDED"):
                row[c] = known.get(c)
    return norm


def _id(e: Mapping[str, Any]) -> int:
    return int(e["id"])


def _drop_moved(ctx: Context, moved: Mapping[tuple[str, str], list[str]]) -> None:
    """Remove the old rows of executions now written in another partition (their executions row first:
    it is the commit marker of the others)."""
    for (domain, date), arns in sorted(moved.items()):
        gone = pa.array(arns, pa.string())

        def where(old: pa.Table, gone: pa.Array = gone) -> Any:
            return pc.is_in(old.column("execution_arn"), value_set=gone)

        for table in ("executions", "state_runs", "events"):
            ctx.lake.write(table, [], domain=domain, date=date, replace_where=where)


def _put_cursors(
    ctx: Context,
    t: Target,
    sm: dict[str, Any],
    machine: Mapping[str, Any],
    streams: Mapping[str, datetime | None],
) -> None:
    """The machine's cursor and its streams' (those that stopped delivering long ago are dropped), in
    one write, after the rows they cover."""
    key = (SOURCE, t.account_id, t.region)
    wm = machine.get("watermark")
    horizon = wm - DEFAULT_WINDOW if wm is not None else None
    rows = [
        {
            **dict(zip(("source", "account_id", "region"), key, strict=True)),
            "key": sm["state_machine_arn"],
            "domain": sm["domain"],
            **{
                c: machine.get(c)
                for c in ("watermark", "last_collected_at", "open_items", "incomplete_items", "last_error")
            },
        }
    ]
    drop: list[CursorKey] = []
    for k, w in sorted(streams.items()):
        if horizon is not None and w is not None and w < horizon:
            drop.append((*key, k))
        else:
            rows.append(
                {
                    "source": SOURCE,
                    "account_id": t.account_id,
                    "region": t.region,
                    "key": k,
                    "domain": sm["domain"],
                    "watermark": w,
                    "last_collected_at": machine.get("last_collected_at"),
                }
            )
    ctx.cursors.put_many(rows, drop=drop)


# -- what a run shows of this source -----------------------------------------------------------
def progress(p: Progress) -> str:
    return f"logs {p.get('log_records')} records, {p.get('log_new') + p.get('log_updated')} executions"


def summary(c: Mapping[str, Any]) -> list[str]:
    lines = [
        f"logs: {c.get('log_machines', 0)} machines, {c.get('log_records', 0)} records in "
        f"{c.get('log_pages', 0)} FilterLogEvents pages; executions {c.get('log_new', 0)} new, "
        f"{c.get('log_updated', 0)} updated, {c.get('log_unchanged', 0)} unchanged",
        f"  still running {c.get('log_running', 0)}, partial {c.get('log_partial', 0)}, "
        f"records skipped {c.get('log_bad_records', 0)}",
    ]
    if c.get("log_unlogged"):
        lines.append(
            f"  {c['log_unlogged']} machine(s) log nothing (level OFF or no log group): not collected"
        )
    return lines
