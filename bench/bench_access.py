"""Scoped questions on a big lake: the time of the dashboard's questions for a person who sees every domain,
one domain, and two domains (asked once per domain and merged), each on a cold cache.

    python bench/bench_access.py --lake /tmp/stepscope-bench-lake
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta

import streamlit as st

from dashboard import data, signin
from dashboard.access import Grant


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lake", default="/tmp/stepscope-bench-lake")
    p.add_argument("--days", type=int, default=7)
    args = p.parse_args()
    os.environ["STEPSCOPE_LAKE"] = args.lake
    grant = Grant(None, None)
    signin.session = lambda source, has_data: signin.Session(signin.SIGNED_IN, grant)  # type: ignore[assignment]
    end = data.lake_status().now
    start = end - timedelta(days=args.days)
    doms = sorted(data.domains()["domain"].dropna())
    scopes = {
        "every domain": Grant(None, None),
        f"one ({doms[0]})": Grant(frozenset(doms[:1]), None),
        f"two ({doms[0]}, {doms[1]})": Grant(frozenset(doms[:2]), None),
    }
    questions = {
        "sla_report by domain": lambda: data.sla_report(None, end, "domain", None),
        "error_groups": lambda: data.error_groups(start, end, None, None),
        "triage_list (100)": lambda: data.triage_list(start, end, None, None, 100),
        "failures_by_machine_hour": lambda: data.failures_by_machine_hour(start, end, None),
        "sla_attainment_series": lambda: data.sla_attainment_series(start, end, "day", None, None),
    }
    print(f"lake {args.lake}, {len(doms)} domains, period {args.days} d; seconds on a cold cache")
    print(f"{'question':28}" + "".join(f"{name:>30}" for name in scopes))
    for qname, ask in questions.items():
        row = f"{qname:28}"
        for g in scopes.values():
            grant = g
            st.cache_data.clear()
            t = time.perf_counter()
            ask()
            row += f"{time.perf_counter() - t:>30.2f}"
        print(row)


if __name__ == "__main__":
    main()
