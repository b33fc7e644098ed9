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
class _Key:
    domain: str | None
    arn: str | None
    name: str | None
    executions: int = 0
    succeeded: int = 0
    first: int = 0
    redriven: int = 0
    within: int = 0
    excluded: int = 0
    durations: list[np.ndarray] = field(default_factory=list)

    def add(self, counts: dict[str, int], run: np.ndarray, threshold: int | None) -> None:
        """Counts of executions (rows, succeeded, first_attempt_succeeded, redriven) and their
        sorted durations."""
        self.executions += counts["rows"]
        self.succeeded += counts["succeeded"]
        self.first += counts["first_attempt_succeeded"]
        self.redriven += counts["redriven"]
        if threshold is not None:
            self.within += int(np.searchsorted(run, threshold, side="right"))
        self.durations.append(run)


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


def counts(
    by_machine: bool,
    domains: list[str],
    runs: list[list[dict[str, Any]]],
    durations: np.ndarray,
    edge: pa.Table,
    thresholds: dict[str, int | None],
    default: int | None,
) -> list[dict[str, Any]]:
    """The report counts per key (as the sla_report query returns them), from the runs of whole days
    (`domains`, `runs` and `durations` per file) and the counts of the rows read one by one (`edge`:
    the sla_edge_rows query). `thresholds`: latency threshold in ms per key (None = none),
    `default` for the keys not listed."""
    keys: dict[str, _Key] = {}
    at = 0
    for dom, file_runs in zip(domains, runs, strict=True):
        for r in file_runs:
            key = r["state_machine_arn"] if by_machine else dom
            k = keys.get(key) or keys.setdefault(
                key,
                _Key(
                    dom,
                    r["state_machine_arn"] if by_machine else None,
                    r["state_machine_name"] if by_machine else None,
                ),
            )
            k.add(r, durations[at : at + r["durations"]], thresholds.get(key, default))
            at += r["rows"]
    _add_edge(keys, edge, thresholds, default)
    out = []
    for key in sorted(keys):
        k = keys[key]
        n = k.executions
        qs = run_quantiles(k.durations)
        out.append(
            {
                "key": key,
                "domain": k.domain,
                "state_machine_arn": k.arn,
                "state_machine_name": k.name,
                "executions": n,
                "succeeded": k.succeeded,
                "failed": n - k.succeeded,
                "first_attempt_succeeded": k.first,
                "redriven": k.redriven,
                "success_rate": k.succeeded / n if n else None,
                "first_attempt_success_rate": k.first / n if n else None,
                "p50_ms": qs[0] if qs else None,
                "p95_ms": qs[1] if qs else None,
                "p99_ms": qs[2] if qs else None,
                "within_threshold": k.within,
                "within_threshold_share": k.within / n if n else None,
                "excluded": k.excluded,
            }
        )
    return out


def _add_edge(
    keys: dict[str, _Key], edge: pa.Table, thresholds: dict[str, int | None], default: int | None
) -> None:
    durations = edge.column("durations").combine_chunks()
    values, offsets = durations.values.to_numpy(), durations.offsets.to_numpy()
    for i, r in enumerate(edge.drop_columns(["durations"]).to_pylist()):
        key = r["key"]
        k = keys.get(key) or keys.setdefault(
            key, _Key(r["domain"], r["state_machine_arn"], r["state_machine_name"])
        )
        k.add(
            {**r, "rows": r["executions"]}, values[offsets[i] : offsets[i + 1]], thresholds.get(key, default)
        )
        k.excluded += r["excluded"]
