"""SLA counts from the runs of `sla_facts` files: exact percentiles without a quantile aggregate.

A facts file holds one run per state machine: its rows sorted by duration, with the run's counts in
the file footer (lake.derived.SLA_RUNS_KEY). For the days a report takes whole, the counts come from
the footers and the durations from one column read in file order; the rows read one by one (edge
days, see sla_rows) are counted in SQL, their durations sorted per key. The percentiles are then
selected from the sorted runs (`run_quantiles`): the order statistics and linear interpolation of
DuckDB's `quantile_cont`, without gathering millions of values into one aggregate.

Why the footer index: on a 10M-execution lake (2 cores, first call) the report by state machine took
297-329 ms counted row by row in SQL with `quantile_cont` over the same facts, and 215 ms from the
runs: about 100 ms (a third) saved on the slowest question of the SLA pages. The footers cost about
520 bytes per file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lake.derived import SLA_RUNS_COLUMNS, SLA_RUNS_KEY

QUANTILES = (0.50, 0.95, 0.99)


def run_quantiles(runs: Sequence[np.ndarray], qs: Sequence[float] = QUANTILES) -> list[float] | None:
    """The continuous p-quantiles of the values of `runs` (each sorted), as `quantile_cont`: for n
    values in order, the order statistics at floor and ceil of (n - 1)·p, interpolated linearly
    (rounded once). The runs are not merged: for each rank, the value of every run at its share of
    the rank bounds the order statistic from below and above, and only the values between the bounds
    are selected from. None without values."""
    runs = [r for r in runs if len(r)]
    n = sum(len(r) for r in runs)
    if n == 0:
        return None
    sizes = np.array([len(r) for r in runs], dtype=np.int64)
    out = []
    for q in qs:
        rank = (n - 1) * q
        k0, k1 = math.floor(rank), math.ceil(rank)
        # (0-based ranks) A run's value at ⌊k·len/n⌋ has at most that many of the run's values below
        # it, at most k over all runs, and at least that many plus one at or below it, more than k
        # over all runs: the smallest such value is at most the k-th, the largest at least the k-th.
        lo = min(int(r[i]) for r, i in zip(runs, (k0 * sizes) // n, strict=True))
        hi = max(int(r[i]) for r, i in zip(runs, (k1 * sizes) // n, strict=True))
        below, parts = 0, []
        for r in runs:
            a, b = int(r.searchsorted(lo, "left")), int(r.searchsorted(hi, "right"))
            below += a
            parts.append(r[a:b])
        between = np.concatenate(parts)
        between.partition(sorted({k0 - below, k1 - below}))
        v0, v1 = int(between[k0 - below]), int(between[k1 - below])
        out.append(float(v0) if v0 == v1 else float(v0 + (v1 - v0) * Fraction(rank - k0)))
    return out


@dataclass
class MachineCounts:
    """What one state machine's finished executions add up to: counts and its sorted duration runs."""

    domain: str | None
    arn: str
    name: str | None
    executions: int = 0
    succeeded: int = 0
    first: int = 0
    redriven: int = 0
    excluded: int = 0
    durations: list[np.ndarray] = field(default_factory=list)

    def add(self, counts: dict[str, int], run: np.ndarray) -> None:
        """Counts of executions (rows, succeeded, first_attempt_succeeded, redriven) and their sorted durations."""
        self.executions += counts["rows"]
        self.succeeded += counts["succeeded"]
        self.first += counts["first_attempt_succeeded"]
        self.redriven += counts["redriven"]
        self.durations.append(run)

    def within(self, threshold_ms: float | None) -> int | None:
        """Executions that finished within the threshold (one binary search per run)."""
        if threshold_ms is None:
            return None
        return sum(int(np.searchsorted(r, threshold_ms, side="right")) for r in self.durations)


def figures(keys: list[MachineCounts], threshold_ms: float | None) -> dict[str, Any]:
    """The report counts of one key (a machine, or a domain's machines together): volumes, rates and the
    exact p50/p95/p99 over all their durations. `within_threshold` is filled in by the caller."""
    n = sum(k.executions for k in keys)
    succeeded = sum(k.succeeded for k in keys)
    first = sum(k.first for k in keys)
    qs = run_quantiles([r for k in keys for r in k.durations])
    within = keys[0].within(threshold_ms) if len(keys) == 1 else None
    return {
        "executions": n,
        "succeeded": succeeded,
        "failed": n - succeeded,
        "first_attempt_succeeded": first,
        "redriven": sum(k.redriven for k in keys),
        "success_rate": succeeded / n if n else None,
        "first_attempt_success_rate": first / n if n else None,
        "p50_ms": qs[0] if qs else None,
        "p95_ms": qs[1] if qs else None,
        "p99_ms": qs[2] if qs else None,
        "within_threshold": within,
        "within_threshold_share": within / n if within is not None and n else None,
        "excluded": sum(k.excluded for k in keys),
    }


def read_whole_days(con: Any, files: list[str]) -> tuple[list[list[dict[str, Any]]], np.ndarray] | None:
    """The runs of each facts file (SLA_RUNS_COLUMNS, in row order) and the duration column of them
    all, in file and row order (missing durations as 0, at the end of their run). None when a file
    has no runs in its footer or the column does not line up with them (row counts, missing values,
    order): the files are then not what the writer made, and must be rewritten."""
    if not files:
        return [], np.zeros(0, dtype=np.int64)
    # The footers first: a damaged file is found before a column is scanned.
    found = dict(
        con.execute(
            "SELECT file_name, value FROM parquet_kv_metadata($files::VARCHAR[]) WHERE key = $key",
            {"files": files, "key": SLA_RUNS_KEY},
        ).fetchall()
    )
    runs = []
    for f in files:
        meta = json.loads(found[f]) if f in found else {}
        if tuple(meta.get("columns", ())) != SLA_RUNS_COLUMNS:
            return None
        runs.append([dict(zip(SLA_RUNS_COLUMNS, r, strict=True)) for r in meta["runs"]])
    col = (
        con.sql("SELECT duration_ms FROM read_parquet($files::VARCHAR[])", params={"files": files})
        .to_arrow_table()
        .column(0)
    )
    flat = [r for file_runs in runs for r in file_runs]
    rows = np.array([r["rows"] for r in flat], dtype=np.int64)
    valued = np.array([r["durations"] for r in flat], dtype=np.int64)
    if len(col) != rows.sum() or col.null_count != (rows - valued).sum():
        return None
    d = pc.fill_null(col, 0).to_numpy() if col.null_count else col.to_numpy()
    # Values may only fall where a run starts or its missing values do.
    starts = np.cumsum(rows) - rows
    falls = np.flatnonzero(d[1:] < d[:-1]) + 1
    if not np.isin(falls, np.concatenate([starts, starts + valued])).all():
        return None
    if col.null_count:
        tails = [np.arange(s + v, s + n) for s, v, n in zip(starts, valued, rows, strict=True)]
        if not np.array_equal(np.flatnonzero(pc.is_null(col).to_numpy()), np.concatenate(tails)):
            return None
    return runs, d


def machine_counts(
    domains: list[str], runs: list[list[dict[str, Any]]], durations: np.ndarray, edge: pa.Table
) -> dict[str, MachineCounts]:
    """Per state machine, the counts of the runs of whole days (`domains`, `runs` and `durations` per
    file) and of the rows read one by one (`edge`: the sla_edge_rows query)."""
    keys: dict[str, MachineCounts] = {}
    at = 0
    for dom, file_runs in zip(domains, runs, strict=True):
        for r in file_runs:
            arn = r["state_machine_arn"]
            k = keys.get(arn) or keys.setdefault(arn, MachineCounts(dom, arn, r["state_machine_name"]))
            k.add(r, durations[at : at + r["durations"]])
            at += r["rows"]
    d = edge.column("durations").combine_chunks()
    values, offsets = d.values.to_numpy(), d.offsets.to_numpy()
    for i, r in enumerate(edge.drop_columns(["durations"]).to_pylist()):
        arn = r["state_machine_arn"]
        k = keys.get(arn) or keys.setdefault(arn, MachineCounts(r["domain"], arn, r["state_machine_name"]))
        k.add({**r, "rows": r["executions"]}, values[offsets[i] : offsets[i + 1]])
        k.excluded += r["excluded"]
    return keys
