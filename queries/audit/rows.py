"""The audit rows of a domain's period, read straight from its executions files: what the export writes.

Each executions file holds one UTC day of one domain, sorted by (start_time, execution_arn) (the
writer's order, lake/tables.py), so the period's days read in date order are already in the audit
order: nothing is sorted (a file that is not in that order, not written by the lake's writer, is sorted
on its own). Reading the 1.3M rows of a 30-day export of the bench lake's busiest domain takes ~1.7
CPU-s this way, ~4.6 through DuckDB (its query read, sorted and handed over every row). Only the audit
columns are read, row groups outside the period are skipped by their start_time statistics, and the
columns that repeat (machines, statuses, errors) stay dictionary-encoded: the CSV renders their cells
once per distinct value.

`sla_met` is computed here as queries/sql/audit_rows.sql computes it (SQL's three-valued logic
included): `Queries.audit_rows`, the page's preview, runs that query, and the tests hold the two equal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lake.layout import table_file
from lake.schema import EXECUTIONS
from lake.store import Lake
from queries.export import COLUMNS

# Read as dictionaries: few distinct values per file.
REPEATED = (
    "account_id",
    "region",
    "state_machine_arn",
    "state_machine_name",
    "state_machine_version_arn",
    "state_machine_alias_arn",
    "status",
    "error",
    "cause",
    "failed_state",
)
TERMINAL = pa.array(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
# Days read ahead of the one being consumed, on a thread of their own.
READ_AHEAD = 1


def _type(name: str) -> pa.DataType:
    if name == "domain":
        return pa.dictionary(pa.int32(), pa.string())
    if name == "sla_met":
        return pa.bool_()
    t = EXECUTIONS.field(name).type
    return pa.dictionary(pa.int32(), t) if name in REPEATED else t


# The batches' columns: the CSV's, in its order.
SCHEMA = pa.schema([(c, _type(c)) for _, c in COLUMNS])
_FROM_FILE = [c for c in SCHEMA.names if c not in ("domain", "sla_met")]


@dataclass(frozen=True)
class SlaRule:
    """What sla_met needs: latency thresholds (ms) per state machine ARN and the default (None: no
    threshold), and the maintenance windows (domain, machine ARN or name, start, end; None = any)."""

    thresholds: dict[str, int | None] = field(default_factory=dict)
    default_ms: int | None = None
    windows: Sequence[tuple[str | None, str | None, datetime, datetime]] = ()


def _micros(ts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A timestamp column as int64 microseconds since the epoch (floored; nulls as 0)."""
    if ts.type.unit == "ns":
        ts = pc.floor_temporal(ts, unit="microsecond")
    return np.asarray(ts.cast(pa.timestamp("us", tz=ts.type.tz)).cast(pa.int64()).fill_null(0))


def _us(t: datetime) -> int:
    return int(pa.scalar(t, pa.timestamp("us", tz="UTC")).cast(pa.int64()).as_py())


Column: TypeAlias = pa.Array | pa.ChunkedArray


def _by_value(col: Column, fn: Callable[[pa.Array], pa.Array]) -> pa.ChunkedArray:
    """`fn` over a column, computed once per distinct value of a dictionary column."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    if not chunks:
        kind = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        return pa.chunked_array([fn(pa.array([], kind))])
    return pa.chunked_array(
        [pc.take(fn(c.dictionary), c.indices) if pa.types.is_dictionary(c.type) else fn(c) for c in chunks]
    )


def _named(cols: dict[str, Column], machine: str) -> np.ndarray:
    """Rows of the machine called `machine` (by ARN or name); a row of no ARN and no name counts."""

    def equal(v: pa.Array) -> pa.Array:
        return pc.equal(v, machine)

    named = pc.or_kleene(
        _by_value(cols["state_machine_arn"], equal), _by_value(cols["state_machine_name"], equal)
    )
    return np.asarray(pc.fill_null(named, True))


def _excluded(cols: dict[str, Column], domain: str, us: np.ndarray, rule: SlaRule) -> pa.Array:
    """Rows inside a maintenance window (queries/sql/base.sql `excluded`)."""
    out = np.zeros(len(us), bool)
    for dom, machine, start, end in rule.windows:
        if dom is not None and dom != domain:
            continue
        inside = (us >= _us(start)) & (us < _us(end))
        if machine is not None and inside.any():
            inside &= _named(cols, machine)
        out |= inside
    return pa.array(out)


def _terminal(status: pa.Array) -> pa.Array:
    return pc.if_else(pc.is_valid(status), pc.is_in(status, value_set=TERMINAL), pa.scalar(None, pa.bool_()))


def sla_met(cols: dict[str, Column], domain: str, us: np.ndarray, rule: SlaRule) -> pa.ChunkedArray:
    """Succeeded within the machine's latency threshold; null while not terminal or when excluded."""
    keys = pa.array(list(rule.thresholds), pa.string())
    ms = pa.array(list(rule.thresholds.values()), pa.int64())
    own = _by_value(cols["state_machine_arn"], lambda v: pc.take(ms, pc.index_in(v, value_set=keys)))
    threshold = pc.coalesce(own, pa.scalar(rule.default_ms, pa.int64()))
    within = pc.coalesce(pc.less_equal(cols["duration_ms"], threshold), True)
    met = pc.and_kleene(_by_value(cols["status"], lambda v: pc.equal(v, "SUCCEEDED")), within)
    unfinished = pc.invert(_by_value(cols["status"], _terminal))
    unjudged = pc.fill_null(pc.or_kleene(unfinished, _excluded(cols, domain, us, rule)), False)
    return pc.if_else(unjudged, pa.scalar(None, pa.bool_()), met)


def _in_order(us: np.ndarray, arns: pa.ChunkedArray) -> bool:
    """Whether rows are in (start_time, execution_arn) order."""
    step = np.diff(us)
    if (step < 0).any():
        return False
    ties = pa.array(np.flatnonzero(step == 0))
    if not len(ties):
        return True
    return bool(pc.all(pc.less_equal(arns.take(ties), arns.take(pc.add(ties, 1)))).as_py())


def _row_groups(f: pq.ParquetFile, start: datetime, end: datetime) -> list[int]:
    """The row groups whose start_time statistics overlap [start, end) (all of them without statistics)."""
    i = f.metadata.schema.names.index("start_time")
    out = []
    for g in range(f.metadata.num_row_groups):
        stats = f.metadata.row_group(g).column(i).statistics
        if stats is None or not stats.has_min_max or (stats.max >= start and stats.min < end):
            out.append(g)
    return out


def read_day(lake: Lake, domain: str, date: str, start: datetime, end: datetime, rule: SlaRule) -> pa.Table:
    """The audit rows of one executions file started in [start, end), in audit order (SCHEMA); a column
    the file lacks is null."""
    path = lake.path(table_file("executions", (domain, date)))
    meta = pq.read_metadata(path, filesystem=lake.fs)
    names = set(meta.schema.names)
    f = pq.ParquetFile(
        path, filesystem=lake.fs, metadata=meta, read_dictionary=[c for c in REPEATED if c in names]
    )
    wanted = [*_FROM_FILE, "state_machine_name"] if rule.windows else _FROM_FILE
    have = [c for c in wanted if c in names]
    t = f.read_row_groups(_row_groups(f, start, end), columns=have, use_threads=False)
    us = _micros(t.column("start_time"))
    keep = (us >= _us(start)) & (us < _us(end)) & np.asarray(t.column("start_time").is_valid())
    if not keep.all():
        t, us = t.filter(pa.array(keep)), us[keep]
    if not _in_order(us, t.column("execution_arn")):  # not as the lake's writer leaves a file: sort it
        order = pc.sort_indices(t, [("start_time", "ascending"), ("execution_arn", "ascending")])
        t, us = t.take(order), us[np.asarray(order)]
    n = len(t)
    cols = {c: t.column(c).cast(_type(c)) if c in have else pa.nulls(n, _type(c)) for c in wanted}
    cols["domain"] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([domain]))
    cols["sla_met"] = sla_met(cols, domain, us, rule)
    return pa.table([cols[c] for c in SCHEMA.names], schema=SCHEMA)


def _key(t: pa.Table, i: int) -> tuple[object, object]:
    return t.column("start_time")[i].as_py(), t.column("execution_arn")[i].as_py()


def audit_batches(
    lake: Lake, domain: str, start: datetime, end: datetime, rule: SlaRule, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """The audit rows of executions of `domain` started in [start, end) (UTC), day by day in batches of
    at most `batch_rows` rows; memory holds the day being consumed and the READ_AHEAD days being read."""
    last = (end - timedelta(microseconds=1)).date().isoformat()
    days = [d for dom, d in lake.partitions("executions", start.date().isoformat(), last) if dom == domain]
    todo = iter(days)
    before: tuple[object, object] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="audit-read") as pool:
        reads = deque(
            (d, pool.submit(read_day, lake, domain, d, start, end, rule)) for d in islice(todo, READ_AHEAD)
        )
        while reads:
            d, read = reads.popleft()
            reads.extend(
                (x, pool.submit(read_day, lake, domain, x, start, end, rule)) for x in islice(todo, 1)
            )
            t = read.result()
            if not len(t):
                continue
            if before is not None and _key(t, 0) <= before:
                raise ValueError(
                    f"{lake.path(table_file('executions', (domain, d)))}: holds executions started before "
                    "the previous day's last one (its date is not their UTC start date)"
                )
            before = _key(t, -1)
            yield from t.to_batches(batch_rows)
