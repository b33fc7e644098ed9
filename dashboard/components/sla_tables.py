"""SLA tables shaped for reading: durations in human units, budgets and alerts in words; pure."""

from __future__ import annotations

import pandas as pd

from dashboard.components.text import budget_left, duration

REPORT_COLUMNS = [
    "state_machine_name",
    "domain",
    "status",
    "window",
    "executions",
    "failed",
    "attainment",
    "success_objective",
    "budget_left",
    "p50",
    "p95",
    "p99",
    "latency_target",
    "within_threshold_share",
    "owner",
]


def report_view(report: pd.DataFrame) -> pd.DataFrame:
    """The SLA report with durations as '2.3 s' / '14 min' / '6.1 h' and the budget left in words."""
    return report.assign(
        budget_left=[budget_left(v) for v in report["budget_remaining"]],
        p50=[duration(v) for v in report["p50_ms"]],
        p95=[duration(v) for v in report["p95_ms"]],
        p99=[duration(v) for v in report["p99_ms"]],
        latency_target=[duration(v) for v in report["latency_threshold_ms"]],
    )[REPORT_COLUMNS]


def alert_words(firing: bool, severity: str) -> str:
    """An alert row's state in words (colour alone is not enough): 'FIRING: page now' or 'not firing'."""
    if not firing:
        return "not firing"
    return "FIRING: page now" if severity == "page" else "FIRING: open a ticket"


def _times(x: float | None) -> str:
    return "–" if x is None or x != x else f"{x:.1f}×"


def _count(n: float | None) -> str:
    return "–" if n is None or n != n else f"{int(n):,}"


def alerts_view(alerts: pd.DataFrame) -> pd.DataFrame:
    """Burn-rate alert rows, firing first (pages before tickets), each with its state and windows in words."""
    out = alerts.assign(
        scope=alerts["state_machine_name"].fillna("(whole domain)"),
        alert=[alert_words(bool(f), s) for f, s in zip(alerts["firing"], alerts["severity"], strict=True)],
        windows=[
            f"{lw} + {sw}" for lw, sw in zip(alerts["long_window"], alerts["short_window"], strict=True)
        ],
        burn=[
            f"{_times(lb)} / {_times(sb)}"
            for lb, sb in zip(alerts["long_burn"], alerts["short_burn"], strict=True)
        ],
        threshold_x=[_times(t) for t in alerts["threshold"]],
        failures=[
            f"{_count(f)} of {_count(n)}"
            for f, n in zip(alerts["long_failed"], alerts["long_executions"], strict=True)
        ],
        _page=alerts["severity"] != "page",
    )
    out = out.sort_values(
        ["firing", "_page", "long_burn"], ascending=[False, True, False], na_position="last", kind="stable"
    )
    return out.drop(columns="_page").reset_index(drop=True)
