"""Metric questions at lake scale: the completeness ledger, headroom, throttles, the functions behind the
Tasks and Express cost, on the benchmark lake with CloudWatch datapoints of the same size beside it.

    python bench/bench_metric_queries.py --lake /tmp/stepscope-bench-lake --executions 10000000

The benchmark lake (built by bench_queries.py with the simulator) is only read. Its metrics are made
once in a separate folder (`--out`, reused when it exists): every table folder of the lake linked, and a
`metrics` table written by the simulator (`collectors/simulate/cloudwatch.py`) from the same plan's
executions redrawn, through the collector's normalizer. That folder's metadata says the current lake
format (the linked tables are only read by these questions, which need nothing newer).

Prints figures; asserts nothing. Each question: the first call (a fresh connection: footers and
file lists read once) and the median of warm calls, against the 300 ms target; the questions that add
up days (functions, Express costs) also against the same SQL reading every day's datapoints (the way
before the daily rollup, `metrics_daily`), with whether both agree; the ledger's lake side against
the naive way (count the executions per machine and start day in one scan); the load before and after.
A folder made before the rollup gets its `metrics_daily` file written first (that file only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from queries.metrics import EXPRESS_GB_SECOND_USD, EXPRESS_REQUEST_USD  # noqa: E402

TARGET_MS = 300


def build_metrics(lake: str, out: str, executions: int, workers: int) -> None:
    """The folder `out`: links to `lake`'s tables and the metrics of its plan's executions."""
    import multiprocessing as mp

    from collectors.simulate import build, cloudwatch
    from lake.layout import FORMAT_VERSION, META_FILE
    from lake.store import Lake

    meta = json.load(open(os.path.join(lake, META_FILE)))
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(lake):
        src = os.path.join(lake, name)
        if os.path.isdir(src) and name != "metrics" and not os.path.exists(os.path.join(out, name)):
            os.symlink(src, os.path.join(out, name))
    plan = build.make_plan(
        out,
        days=meta["days"],
        executions=executions,
        seed=meta["seed"],
        end=meta["window_end"],
        events="none",
    )
    world = build.World(plan)
    days = build._days(plan.start_ms, plan.end_ms)
    t0 = time.perf_counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=build._init, initargs=(plan,)) as pool:
        catalogs = {
            (m, c): (keys, counts)
            for m, c, keys, counts in pool.imap_unordered(
                build._sample, build.regime_codes(world.specs, plan.inc)
            )
        }
    with ctx.Pool(workers, initializer=build._init, initargs=(plan, catalogs)) as pool:
        emissions = list(pool.imap_unordered(_day_emissions, days))
    drawn = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = cloudwatch.write_metrics(
        out, world.account, world.sm_rows, emissions, plan.start_ms, plan.end_ms, workers
    )
    wrote = time.perf_counter() - t0
    Lake(out).write_meta(**{**meta, "format_version": FORMAT_VERSION, "metrics_from": lake})
    size = sum(
        os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(os.path.join(out, "metrics")) for f in fs
    )
    print(
        f"metrics of {len(days)} days: executions redrawn in {drawn:.1f} s; {n:,} datapoints normalised and "
        f"written in {wrote:.1f} s ({n / wrote:,.0f}/s), {size / 1e6:.1f} MB"
    )


def _day_emissions(day_ms: int) -> dict:
    from collectors.simulate import build, cloudwatch

    w = build._WORLD
    assert w is not None
    return cloudwatch.day_emissions(w.account, w.draw_day(day_ms), w.plan.end_ms)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    t = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t)
    return first * 1000, statistics.median(warm) * 1000, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", default="/tmp/stepscope-bench-lake")
    ap.add_argument("--out", default="/tmp/stepscope-bench-metrics")
    ap.add_argument("--executions", type=int, default=10_000_000, help="what the lake was built with")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.out, "metrics")):
        build_metrics(args.lake, args.out, args.executions, args.workers)
    elif not os.path.isdir(os.path.join(args.out, "metrics_daily")):  # a folder made before the rollup
        from lake.store import Lake

        t = time.perf_counter()
        Lake(args.out).rebuild_rollups(
            ["metrics_daily"]
        )  # that file only: the linked tables stay as they are
        print(f"metrics_daily written from the metrics in {time.perf_counter() - t:.1f} s")

    import queries
    from queries.metrics import Metrics

    t = time.perf_counter()
    m = Metrics(queries.connect(args.out))
    connect_ms = (time.perf_counter() - t) * 1000
    meta = m.q.lake.read_meta() or {}
    end = pd.Timestamp(meta["window_end"]).to_pydatetime()
    info = m.q.lake_info()
    metrics_glob = m.q.lake.table_glob("metrics")
    rows = duckdb.execute("SELECT count(*) FROM read_parquet($g)", {"g": metrics_glob}).fetchall()[0][0]
    print(
        f"lake {args.out}: {info['executions']:,} executions, {rows:,} datapoints; cores {os.cpu_count()}, "
        f"load {os.getloadavg()[0]:.1f}; connect {connect_ms:.0f} ms\n"
    )
    fns = m.functions(end - timedelta(days=7), end)
    busiest = str(fns.sort_values("invocations").iloc[-1]["function_name"])
    questions = {
        "completeness_ledger 7d": lambda: m.completeness_ledger(end - timedelta(days=7), end),
        "completeness_ledger 30d (Health)": lambda: m.completeness_ledger(end - timedelta(days=30), end),
        "completeness_ledger 90d": lambda: m.completeness_ledger(end - timedelta(days=90), end),
        "headroom 7d": lambda: m.headroom(end - timedelta(days=7), end),
        "headroom 30d": lambda: m.headroom(end - timedelta(days=30), end),
        "machine_throttles 30d": lambda: m.machine_throttles(end - timedelta(days=30), end),
        "functions 7d (Flows)": lambda: m.functions(end - timedelta(days=7), end),
        "functions 30d": lambda: m.functions(end - timedelta(days=30), end),
        f"function_series ±30 min ({busiest})": lambda: m.function_series(
            busiest, end - timedelta(hours=5), end - timedelta(hours=4)
        ),
        "express_costs 30d": lambda: m.express_costs(end - timedelta(days=30), end),
    }
    print(f"{'question':<48} {'first ms':>9} {'warm ms':>9} {'rows':>7}  target {TARGET_MS} ms")
    for name, fn in questions.items():
        first, warm, result = timed(fn, args.repeat)
        verdict = "ok" if max(first, warm) <= TARGET_MS else "OVER"
        print(f"{name:<48} {first:>9.0f} {warm:>9.0f} {len(result):>7,}  {verdict}")  # type: ignore[arg-type]

    # The ledger's lake side from the footers, against one scan of the executions (the naive way).
    start = end - timedelta(days=30)
    p = {"d0": start.date(), "d1": end.date()}
    footers = lambda: m._lake_counts(p, None)  # noqa: E731
    glob = m.q.lake.table_glob("executions")
    con = duckdb.connect()
    naive = lambda: con.execute(  # noqa: E731
        "SELECT state_machine_arn, date, count(*) FROM read_parquet($g, hive_partitioning = true) "
        "WHERE date BETWEEN $d0 AND $d1 GROUP BY ALL",
        {"g": glob, **p},
    ).fetchall()
    rolled_up_against_datapoints(m, end, args.repeat)
    f_first, f_warm, got = timed(footers, args.repeat)
    n_first, n_warm, want = timed(naive, args.repeat)
    same = int(got["lake"].sum()) == sum(r[2] for r in want)  # type: ignore[index]
    print(
        f"\nledger lake side, 30 days: footers {f_first:.0f} / {f_warm:.0f} ms, naive scan {n_first:.0f} / "
        f"{n_warm:.0f} ms (first / warm): {n_warm / max(f_warm, 1e-9):.1f}x; same counts: {same}"
    )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


def rolled_up_against_datapoints(m: Any, end: datetime, repeat: int) -> None:
    """The questions that add up days, as they run (metrics_daily for whole days, datapoints for the
    partial ones) against the same SQL given every day of the period as datapoints (the way before the
    rollup), with whether both give the same figures."""
    from lake.derived import WEIGHTS
    from queries.api import _period

    def on_datapoints(name: str, p: dict[str, Any], **params: Any) -> pd.DataFrame:
        lake = m.q.lake
        files = [
            lake.partition_file("metrics", *k) for k in lake.partitions("metrics", str(p["d0"]), str(p["d1"]))
        ]
        weighted = [f"{ns}/{metric}" for ns, metric in WEIGHTS]
        return m._df(
            name,
            days=[],
            edge_files=files,
            weighted=weighted,
            weights=list(WEIGHTS.values()),
            domain=None,
            **p,
            **params,
        )

    def compare(name: str, ask: Any, sql: str, days: int, **params: Any) -> None:
        p = _period(end - timedelta(days=days), end)
        first, warm, got = timed(lambda: ask(p["start"], p["end"]), repeat)
        n_first, n_warm, want = timed(lambda: on_datapoints(sql, p, **params), repeat)
        numbers = (got.select_dtypes("number"), want.select_dtypes("number"))
        same = got.shape == want.shape and bool(np.allclose(*numbers))
        ratio = n_warm / max(warm, 1e-9)
        print(f"{name:<48} {first:>9.0f} {warm:>9.0f} {n_first:>7.0f}/{n_warm:<7.0f} {ratio:>6.1f}  {same}")

    print(
        f"\n{'rolled up | on the datapoints (first/warm)':<48} {'first ms':>9} {'warm ms':>9} {'ms':>15} {'x':>6}  same"
    )
    compare("functions 7d", m.functions, "metrics_functions", 7, functions=None)
    compare("functions 30d", m.functions, "metrics_functions", 30, functions=None)
    prices = {"gb_second_usd": EXPRESS_GB_SECOND_USD, "request_usd": EXPRESS_REQUEST_USD}
    compare("express_costs 30d", m.express_costs, "metrics_express_costs", 30, **prices)


if __name__ == "__main__":
    main()
