"""The SLA report's counts recomputed another way: plain pandas over the executions rows of a lake,
with no sla_facts, no footers and no SQL. What `Queries.sla_report` must equal."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from lake.status import SUCCEEDED, TERMINAL
from lake.store import Lake
from queries.sla_config import Objective, SlaConfig

COUNTS = [
    "executions",
    "succeeded",
    "first_attempt_succeeded",
    "redriven",
    "excluded",
    "within_threshold",
    "p50_ms",
    "p95_ms",
    "p99_ms",
]


def executions(path: str) -> pd.DataFrame:
    """Every finished execution of the lake, with its domain."""
    lake = Lake(path)
    frames = []
    for dom in sorted({d for d, _ in lake.partitions("executions")}):
        df = lake.read("executions", dom).to_pandas()
        frames.append(df.assign(domain=dom))
    ex = pd.concat(frames, ignore_index=True)
    return ex[ex.status.isin(TERMINAL)]


def _excluded(ex: pd.DataFrame, config: SlaConfig) -> pd.Series:
    out = pd.Series(False, index=ex.index)
    for x in config.exclusions:
        hit = (ex.start_time >= x.start) & (ex.start_time < x.end)
        if x.domain is not None:
            hit &= ex.domain == x.domain
        if x.state_machine is not None:
            hit &= (ex.state_machine_arn == x.state_machine) | (ex.state_machine_name == x.state_machine)
        out |= hit
    return out


def _within(kept: pd.DataFrame, config: SlaConfig, by: str, obj: Objective) -> int | None:
    """A machine: executions within its threshold. A domain: executions within their own machine's
    threshold, over the machines with a latency objective (None when none has one)."""
    if by == "state_machine":
        thr = obj.latency_threshold_s
        return None if thr is None else int((kept.duration_ms.dropna() <= thr * 1000).sum())
    total, judged = 0, False
    for (arn, name, dom), m in kept.groupby(["state_machine_arn", "state_machine_name", "domain"]):
        own = config.for_machine(arn, name, dom)
        if own.latency_threshold_s and own.latency_objective:
            judged = True
            total += int((m.duration_ms.dropna() <= own.latency_threshold_s * 1000).sum())
    return total if judged else None


def report(
    path: str,
    config: SlaConfig,
    end: datetime,
    by: str,
    start: datetime | None = None,
    domain: str | None = None,
) -> dict[str, dict[str, float | None]]:
    """key → COUNTS, for every key with executions: each key over its own objective's window ending
    at `end`, or over [start, end) when `start` is given."""
    ex = executions(path)
    if domain is not None:
        ex = ex[ex.domain == domain]
    ex = ex[ex.start_time < end].assign(excluded=lambda d: _excluded(d, config))
    keys = ex.state_machine_arn if by == "state_machine" else ex.domain
    out = {}
    for key, g in ex.groupby(keys):
        first = g.iloc[0]
        obj = (
            config.for_machine(key, first.state_machine_name, first.domain)
            if by == "state_machine"
            else config.for_domain(key)
        )
        g = g[g.start_time >= (start or obj.window_start(end))]
        if not len(g):
            continue
        kept = g[~g.excluded]
        ok = kept.status == SUCCEEDED
        redriven = kept.redrive_count.fillna(0) > 0
        d = kept.duration_ms.dropna()
        out[key] = {
            "executions": len(kept),
            "succeeded": int(ok.sum()),
            "first_attempt_succeeded": int((ok & ~redriven).sum()),
            "redriven": int(redriven.sum()),
            "excluded": int(g.excluded.sum()),
            "within_threshold": _within(kept, config, by, obj),
            # pandas' linear quantile is DuckDB's quantile_cont
            **{f"p{q}_ms": (float(d.quantile(q / 100)) if len(d) else None) for q in (50, 95, 99)},
        }
    return out


def assert_report_matches(
    got: pd.DataFrame,
    path: str,
    config: SlaConfig,
    end: datetime,
    by: str,
    start: datetime | None = None,
    domain: str | None = None,
) -> int:
    """`got` (an sla_report frame) equals the recomputation; returns the executions compared."""
    want = report(path, config, end, by, start, domain)
    rows = got[got.executions + got.excluded > 0].set_index("key")
    assert sorted(rows.index) == sorted(want), "keys differ"
    for key, w in want.items():
        for col in COUNTS:
            g, e = rows.loc[key, col], w[col]
            if e is None or pd.isna(g):
                assert e is None and pd.isna(g), (key, col, g, e)
            elif col.startswith("p"):
                assert abs(g - e) <= 1e-9 * max(1.0, abs(e)), (key, col, g, e)
            else:
                assert g == e, (key, col, g, e)
    return sum(w["executions"] for w in want.values())
