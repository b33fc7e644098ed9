"""The SLA report counts the days it takes whole from the runs of sla_facts files (footer counts and
one sorted duration column) and selects percentiles from the sorted runs. Every figure must equal
the report counted row by row in SQL with quantile_cont; files whose runs are missing or do not
line up must be read row by row instead."""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sla_expected
from queries_tiny_lake import PAY_A, PAY_B, _ex, t

import queries
from collectors.simulate import build_demo
from lake.derived import SLA_RUNS_COLUMNS, SLA_RUNS_KEY
from lake.status import TERMINAL
from lake.store import Lake
from lake.upgrade import LakeFormatError
from queries import sla_config, sla_runs

END = datetime(2026, 3, 17, 9, 30, tzinfo=UTC)
CONFIG = sla_config.parse("""
defaults: {window: 7d, min_executions: 1, latency: {threshold_s: 30, objective: 90%}}
domains:
  payments:
    window: 28d
    exclusions: [{start: 2026-03-12T22:00:00Z, end: 2026-03-13T02:30:00Z, reason: upgrade}]
state_machines:
  payments-settlement-batch: {window: 7d, latency: {threshold_s: 1800, objective: 99%}}
""")
CASES = [
    ("domain", END - timedelta(days=20)),
    ("state_machine", END - timedelta(days=20)),
    ("domain", None),
    ("state_machine", None),
]


def test_run_quantiles_are_quantile_cont():
    """Random sorted runs (duplicates, single values, empty runs, wide and narrow ranges): the same
    percentiles as DuckDB's quantile_cont over all their values, to the last rounding step."""
    rng = np.random.default_rng(11)
    con = duckdb.connect()
    checked = 0
    for i in range(600):
        # Half of them many tiny runs, where the bounds are tightest.
        count, size = (int(rng.integers(1, 9)), 80) if i % 2 else (int(rng.integers(10, 60)), 4)
        runs = [
            np.sort(rng.integers(0, 10 ** int(rng.integers(1, 10)), int(rng.integers(0, size))))
            for _ in range(count)
        ]
        values = np.concatenate(runs)
        got = sla_runs.run_quantiles(runs)
        if not len(values):
            assert got is None
            continue
        want = con.execute(
            "SELECT quantile_cont(v, [0.5, 0.95, 0.99]) FROM (SELECT unnest($v::BIGINT[]) AS v)",
            {"v": values.tolist()},
        ).fetchone()[0]
        for g, w in zip(got, want, strict=True):
            assert math.isclose(g, w, rel_tol=1e-15, abs_tol=0), (g, w)
        checked += 1
    assert checked > 500
    assert sla_runs.run_quantiles([np.array([7])]) == [7.0, 7.0, 7.0]
    assert sla_runs.run_quantiles([np.array([], dtype=np.int64)]) is None


def test_facts_footer_lists_each_machines_run(tmp_path):
    """Rows of two machines written out of order, with a running execution, a redriven success and a
    finished execution without a duration: one run per machine in row order, counts as in the rows,
    and the missing duration at the end of its run."""
    lake = Lake(str(tmp_path))
    rows = [
        _ex(PAY_B, "b1", t(2, 3), "SUCCEEDED", 900),
        _ex(PAY_A, "a1", t(2, 4), "FAILED", 300),
        _ex(PAY_A, "a2", t(2, 5), "SUCCEEDED", None),
        _ex(PAY_B, "b2", t(2, 6), "SUCCEEDED", 100, redrive_count=2),
        _ex(PAY_A, "a3", t(2, 7), "RUNNING", None),
        _ex(PAY_A, "a4", t(2, 8), "SUCCEEDED", 200),
    ]
    lake.write("executions", rows, domain="pay", date="2025-01-02")
    f = pq.ParquetFile(tmp_path / "sla_facts" / "domain=pay" / "date=2025-01-02" / "part-0.parquet")
    meta = json.loads(f.metadata.metadata[SLA_RUNS_KEY])
    assert tuple(meta["columns"]) == SLA_RUNS_COLUMNS
    runs = [dict(zip(SLA_RUNS_COLUMNS, r, strict=True)) for r in meta["runs"]]
    df = pd.DataFrame([r for r in rows if r["status"] in TERMINAL])
    assert [r["state_machine_arn"] for r in runs] == sorted(df["state_machine_arn"].unique())
    for r in runs:
        mine = df[df["state_machine_arn"] == r["state_machine_arn"]]
        ok = mine["status"] == "SUCCEEDED"
        assert (r["rows"], r["durations"], r["succeeded"], r["first_attempt_succeeded"], r["redriven"]) == (
            len(mine),
            mine["duration_ms"].notna().sum(),
            ok.sum(),
            (ok & (mine["redrive_count"] == 0)).sum(),
            (mine["redrive_count"] > 0).sum(),
        )
        assert r["state_machine_name"] == mine["state_machine_name"].iloc[0]
    assert f.read().column("duration_ms").to_pylist() == [200, 300, None, 100, 900]
    assert f.metadata.num_rows == sum(r["rows"] for r in runs)


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("runs") / "lake")
    build_demo(path, days=25, executions=4000, seed=3, end=END, events="none")
    return path


def test_report_from_runs_counts_what_the_executions_table_holds(lake):
    """Whole days from the runs, edge days from SQL: every figure equals pandas over the executions rows."""
    q = queries.connect(lake)
    for by, start in CASES:
        got = q.sla_report(CONFIG, start, END, by=by)
        assert got["p99_ms"].notna().all()
        assert sla_expected.assert_report_matches(got, lake, CONFIG, END, by, start) > 100
    q.close()


def _facts_files(path: str) -> list[Path]:
    return sorted(Path(path, "sla_facts").rglob("part-0.parquet"))


def _rewrite(file: Path, table, runs: list | None) -> None:
    meta = None if runs is None else {SLA_RUNS_KEY: json.dumps({"columns": SLA_RUNS_COLUMNS, "runs": runs})}
    pq.write_table(table.replace_schema_metadata(meta), file)


def _refused(path: str) -> None:
    q = queries.connect(path)
    for by, start in CASES:
        with pytest.raises(LakeFormatError, match="do not match their footers.*stepscope rebuild-derived"):
            q.sla_report(CONFIG, start, END, by=by)
    q.close()


def test_facts_without_runs_are_refused(lake, tmp_path):
    """A facts file without its footer key is not what the writer makes: the report says to rewrite it
    (rather than count something else), and the rewrite mends it."""
    copy = str(tmp_path / "old")
    shutil.copytree(lake, copy)
    files = _facts_files(copy)
    for f in files[::4]:
        _rewrite(f, pq.read_table(f), None)
    q = queries.connect(copy)
    assert sla_runs.read_whole_days(q._con.cursor(), [str(f) for f in files]) is None
    assert sla_runs.read_whole_days(q._con.cursor(), [str(f) for f in files[1::4]]) is not None
    q.close()
    _refused(copy)
    Lake(copy).rebuild_derived()
    q = queries.connect(copy)
    got = q.sla_report(CONFIG, CASES[0][1], END, by=CASES[0][0])
    q.close()
    assert sla_expected.assert_report_matches(got, copy, CONFIG, END, CASES[0][0], CASES[0][1]) > 100


@pytest.mark.parametrize("damage", ["count", "missing", "order"])
def test_runs_that_do_not_line_up_are_refused(lake, tmp_path, damage):
    """Footer counts off by one, a missing duration the footer does not know of, rows out of order:
    the runs are not used, and the report says how to mend the lake."""
    copy = str(tmp_path / damage)
    shutil.copytree(lake, copy)
    # A day that every case takes whole (inside every window, not the last).
    day = (END - timedelta(days=3)).date().isoformat()
    f = next(f for f in _facts_files(copy) if f.parent.name == f"date={day}")
    table = pq.read_table(f)
    runs = json.loads(pq.read_metadata(f).metadata[SLA_RUNS_KEY])["runs"]
    if damage == "count":
        runs[0][2] += 1
        runs[0][3] += 1
    elif damage == "missing":
        d = table.column("duration_ms").to_pylist()
        d[0] = None
        table = table.set_column(
            table.schema.get_field_index("duration_ms"),
            "duration_ms",
            pa.array(d, type=table.schema.field("duration_ms").type),
        )
    else:
        table = table.take(list(reversed(range(len(table)))))
    _rewrite(f, table, runs)
    q = queries.connect(copy)
    assert sla_runs.read_whole_days(q._con.cursor(), [str(f)]) is None
    q.close()
    _refused(copy)


def test_missing_durations_count_as_executions_only(tmp_path):
    """Finished executions without a duration count in executions and success, not in latency."""
    lake = Lake(str(tmp_path))
    rows = [
        _ex(PAY_A, f"a{i}", t(d, 1 + i), "SUCCEEDED" if i % 3 else "FAILED", None if i % 4 == 0 else i * 700)
        for d in (1, 2, 3)
        for i in range(12)
    ]
    for d in (1, 2, 3):
        lake.write(
            "executions", [r for r in rows if r["start_time"].day == d], domain="pay", date=f"2025-01-0{d}"
        )
    cfg = sla_config.parse(
        "defaults: {window: 7d, min_executions: 1, latency: {threshold_s: 5, objective: 90%}}"
    )
    q = queries.connect(str(tmp_path))
    start, end = t(1, 0), t(4, 0)
    a = q.sla_report(cfg, start, end, by="state_machine")
    q.close()
    row = a.iloc[0]
    timed = sorted(r["duration_ms"] for r in rows if r["duration_ms"] is not None)
    assert row["executions"] == len(rows) and row["within_threshold"] == sum(d <= 5000 for d in timed)
    assert row["p50_ms"] == pytest.approx(float(np.quantile(timed, 0.5)))
