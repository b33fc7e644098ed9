"""Figures for the demo lake build: time, size, rows per table, peak memory, and the template speed-up.

    python bench/bench_demo.py                         # the default demo (90 days, ~100,000 executions)
    python bench/bench_demo.py --executions 10000000 --events sample

Prints figures; asserts nothing. The side-by-side figure compares, on one simulated day, the
template route (normalise each path once, replicate with numpy) with the naive route (render the
boto3 records of every execution and run the normalizer on each).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.simulate import World, build_demo, make_plan  # noqa: E402
from collectors.simulate.build import _days  # noqa: E402
from collectors.simulate.scenario import ms_to_dt  # noqa: E402
from collectors.stepfunctions.normalize import normalize_execution  # noqa: E402


def side_by_side(executions: int, days: int, seed: int, sample: int) -> None:
    """Template route vs the naive per-execution route on the busiest simulated day."""
    plan = make_plan(tempfile.mkdtemp(), days=days, executions=executions, seed=seed, end=None, events="all")
    world = World(plan)
    day_ms = _days(plan.start_ms, plan.end_ms)[-3]
    day = world.draw_day(day_ms)  # catalogs and templates warm up here, outside the timings
    t0 = time.perf_counter()
    ex, runs, evs, _ = world.rows_for_day(day)
    fast = time.perf_counter() - t0
    n = min(sample, len(day["m"]))
    t0 = time.perf_counter()
    for i in range(n):
        desc, events, sm = world.raw(day, i)
        normalize_execution(desc, events, state_machine=sm, collected_at=ms_to_dt(plan.end_ms))
    naive = (time.perf_counter() - t0) / n * len(day["m"])
    print(f"one day, {len(day['m']):,} executions ({len(runs):,} state runs, {len(evs or []):,} events):")
    print(f"  template route   {fast:8.2f} s   ({len(day['m']) / fast:,.0f} executions/s)")
    print(f"  naive route      {naive:8.2f} s   (records + normalizer per execution, from {n:,} of them)")
    print(f"  speed-up         {naive / fast:8.1f} x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--executions", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--events", choices=("all", "sample", "none"), default="all")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--lake", default=None, help="where to build (default: a temporary directory, removed)")
    ap.add_argument("--naive-sample", type=int, default=2000)
    args = ap.parse_args()
    lake = args.lake or tempfile.mkdtemp(prefix="stepscope-bench-")
    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    t0 = time.perf_counter()
    s = build_demo(
        lake,
        days=args.days,
        executions=args.executions,
        seed=args.seed,
        events=args.events,
        workers=args.workers,
        progress=sys.stderr,
    )
    wall = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(s.text())
    print(
        f"build: {wall:.1f} s wall, {me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime:.1f} s CPU, "
        f"{s.executions / wall:,.0f} executions/s"
    )
    print(
        f"peak memory: this process {me.ru_maxrss / 1024:.0f} MB, largest worker {kids.ru_maxrss / 1024:.0f} MB"
    )
    print(
        f"on disk: {s.bytes_on_disk / 1e6:.1f} MB ({s.bytes_on_disk / max(1, s.executions):.0f} B per execution)"
    )
    if args.executions <= 1_000_000:
        side_by_side(args.executions, args.days, args.seed, args.naive_sample)
    if args.lake is None:
        import shutil

        shutil.rmtree(lake, ignore_errors=True)


if __name__ == "__main__":
    main()
