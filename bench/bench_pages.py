"""Dashboard benchmark: server-side time of every page on a big lake, cold (no cached results) and warm.

    python bench/bench_pages.py --lake /tmp/bench-lake [--executions 10000000] [--period 7d] [--repeat 3]

Each page runs through Streamlit's AppTest (the router, the sidebar and the page script, every query
included; no browser). "cold" clears `st.cache_data` first (the DuckDB connection stays open, as in a
served app), "warm" re-runs with the cached results. A lake missing at --lake is built with the demo
simulator. Prints figures; the target is 1 s per page, cold.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # bare-mode AppTest warns on every run

TARGET_S = 1.0
PAGES = ("overview", "sla", "failures", "flows", "execution", "audit", "health")


def _build_if_missing(lake: str, executions: int) -> None:
    if (Path(lake) / "_stepscope.json").exists():
        return
    from collectors.simulate import build_demo

    print(f"building a demo lake of {executions:,} executions at {lake} ...", flush=True)
    s = build_demo(lake, executions=executions, progress=sys.stderr)
    print(f"  built in {s.seconds:.0f} s", flush=True)


def _pick(lake: str) -> dict[str, str]:
    """A failed execution and the state machine that fails most, to open on Execution and Flows."""
    import queries

    q = queries.connect(lake)
    from dashboard.filters import window

    days = [d for _, d in q.lake.partitions("executions")]
    start, end = window("7d", datetime.fromisoformat(max(days)).replace(tzinfo=UTC) + timedelta(days=1))
    triage = q.triage_list(start, end, limit=1)
    machines = q.sla_report(_slas(), start, end, by="state_machine").sort_values("failed", ascending=False)
    q.close()
    return {
        "execution": triage["execution_arn"].iloc[0] if len(triage) else "",
        "machine": machines["state_machine_name"].iloc[0],
        "domain": machines["domain"].iloc[0],
    }


def _slas():
    from queries import sla_config

    path = os.environ.get("STEPSCOPE_SLAS")
    return sla_config.load(path) if path else sla_config.default()


def _run_page(page: str, params: dict[str, str]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=600)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    return at


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--executions", type=int, default=10_000_000)
    ap.add_argument("--period", default="7d")
    ap.add_argument("--repeat", type=int, default=3, help="cold runs per page (median reported)")
    args = ap.parse_args()
    _build_if_missing(args.lake, args.executions)
    os.environ["STEPSCOPE_LAKE"] = os.path.abspath(args.lake)

    import logging

    import streamlit as st

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    picked = _pick(args.lake)
    t0 = time.perf_counter()
    _run_page("overview", {"period": args.period})  # opens the connection, warms file metadata
    first = time.perf_counter() - t0
    from dashboard import data
    from dashboard.filters import Filters

    status = data.lake_status()
    executions = int(data.domains()["executions"].sum())
    print(
        f"lake {args.lake}: {executions:,} executions in {status.partitions} partitions, "
        f"period {args.period} ending {data.period_window(Filters(period=args.period))[1]:%Y-%m-%d %H:%M}; "
        f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )
    print(f"first page in a fresh process (connect + metadata): {first:.2f} s")
    n, t = 1000, time.perf_counter()
    for _ in range(n):
        data.lake_version()  # what every cached call checks instead of a time to live
    print(
        f"lake version check (the write markers' stats): {(time.perf_counter() - t) / n * 1e6:.0f} µs per call\n"
    )
    print(f"{'page':<11} {'cold s (median)':>16} {'cold min':>9} {'warm s':>8}  target {TARGET_S:.0f} s")
    rows = []
    for page in PAGES:
        params = {"period": args.period}
        if page == "execution":
            params["execution"] = picked["execution"]
        if page == "flows":
            params.update(machine=picked["machine"], domain=picked["domain"])
        colds = []
        for _ in range(args.repeat):
            at = _run_page("overview", params)  # router and sidebar on the first page
            st.cache_data.clear()
            t = time.perf_counter()
            if page != "overview" and page != "execution":
                at.switch_page(f"app_pages/{page}.py")
            at.run()
            colds.append(time.perf_counter() - t)
            if at.exception:
                raise SystemExit(f"{page}: {at.exception[0].value}")
        t = time.perf_counter()
        at.run()
        warm = time.perf_counter() - t
        cold = statistics.median(colds)
        rows.append((page, cold))
        print(
            f"{page:<11} {cold:>16.3f} {min(colds):>9.3f} {warm:>8.3f}  {'ok' if cold <= TARGET_S else 'OVER'}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak RSS {peak:.0f} MB; pages over {TARGET_S:.0f} s cold: "
        f"{', '.join(p for p, c in rows if c > TARGET_S) or 'none'}"
    )


if __name__ == "__main__":
    main()
