"""SLO arithmetic on aggregated counts: error budgets, status, burn-rate thresholds. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from queries.sla_config import Objective

OK, WARNING, BREACHED, INSUFFICIENT_DATA = "OK", "WARNING", "BREACHED", "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class BurnRule:
    severity: str
    long_window_s: int
    short_window_s: int
    budget_fraction: float  # share of the whole window's budget spent within the long window

    def threshold(self, window_s: float) -> float:
        """Burn rate that spends `budget_fraction` of the budget in the long window (14.4 for 1 h of 30 d)."""
        return self.budget_fraction * window_s / self.long_window_s


# The SRE workbook's multiwindow, multi-burn-rate alerts (chapter 5), stated as budget shares so
# that a 7- or 28-day window gets proportional thresholds; for 30 days they are 14.4, 6 and 1.
BURN_RULES: tuple[BurnRule, ...] = (
    BurnRule("page", 3600, 300, 0.02),
    BurnRule("page", 6 * 3600, 1800, 0.05),
    BurnRule("ticket", 3 * 86400, 6 * 3600, 0.10),
)


def window_seconds(obj: Objective, end: datetime) -> float:
    """Length of the objective's whole window around `end`: 7, 28 or 30 days, or the days of the
    calendar month `end` falls in (burn-rate thresholds scale with it, not with the part elapsed)."""
    if obj.window == "calendar_month":
        start = obj.window_start(end)
        following = (start + timedelta(days=32)).replace(day=1)
        return (following - start).total_seconds()
    return int(obj.window[:-1]) * 86400.0


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def budget_remaining(bad: float, total: int, objective: float) -> float | None:
    """Fraction of the error budget left (1 = untouched, < 0 = overspent); None without executions."""
    allowed = (1 - objective) * total
    return 1 - bad / allowed if allowed > 0 else None


def evaluate(counts: dict[str, Any], obj: Objective) -> dict[str, Any]:
    """SLA figures for one domain or machine from its counts (`executions`, `succeeded`, `within_threshold`, `p95_ms`)."""
    n = int(counts.get("executions") or 0)
    succeeded = int(counts.get("succeeded") or 0)
    failed = n - succeeded
    out: dict[str, Any] = {
        "success_objective": obj.success,
        "latency_threshold_ms": obj.latency_threshold_s * 1000 if obj.latency_threshold_s else None,
        "latency_objective": obj.latency_objective,
        "latency_p95_max_ms": obj.latency_p95_max_s * 1000 if obj.latency_p95_max_s else None,
        "window": obj.window,
        "min_executions": obj.min_executions,
        "owner": obj.owner,
        "attainment": _ratio(succeeded, n),
        "budget_total": (1 - obj.success) * n,
        "budget_consumed": failed,
        "budget_remaining": budget_remaining(failed, n, obj.success),
        "latency_budget_total": None,
        "latency_budget_consumed": None,
        "latency_budget_remaining": None,
    }
    within = counts.get("within_threshold")
    if obj.latency_threshold_s and obj.latency_objective and within is not None:
        late = n - int(within)
        out.update(
            latency_budget_total=(1 - obj.latency_objective) * n,
            latency_budget_consumed=late,
            latency_budget_remaining=budget_remaining(late, n, obj.latency_objective),
        )
    over = _p95_over(counts.get("p95_ms"), obj) and n >= obj.min_executions
    out["p95_breaches"] = int(over)
    out["status"] = status(out, n, over, obj)
    return out


def _p95_over(p95_ms: float | None, obj: Objective) -> bool:
    return obj.latency_p95_max_s is not None and p95_ms is not None and p95_ms > obj.latency_p95_max_s * 1000


def rollup(machines: list[tuple[dict[str, Any], dict[str, Any]]], obj: Objective) -> dict[str, Any]:
    """SLA figures of a domain from its machines' (counts, figures), each judged against its own objective.

    The budget is the sum of the machines' budgets, Σ (1 − objective) × executions, so the domain's
    objective is their execution-weighted mean. Latency counts only the machines with a latency
    objective, each execution within its own machine's threshold. A p95 ceiling is judged per machine:
    `p95_breaches` says how many machines break theirs, and any breach is a breach of the domain."""
    n = sum(int(c["executions"]) for c, _ in machines)
    failed = sum(int(c["executions"]) - int(c["succeeded"]) for c, _ in machines)
    allowed = sum(f["budget_total"] for _, f in machines)
    timed = [(c, f) for c, f in machines if f["latency_budget_total"] is not None]
    n_timed = sum(int(c["executions"]) for c, _ in timed)
    late = sum(f["latency_budget_consumed"] for _, f in timed)
    late_allowed = sum(f["latency_budget_total"] for _, f in timed)
    thresholds = {f["latency_threshold_ms"] for _, f in timed}
    out: dict[str, Any] = {
        "success_objective": 1 - allowed / n if n else obj.success,
        "latency_threshold_ms": thresholds.pop() if len(thresholds) == 1 else None,  # None: per machine
        "latency_objective": (1 - late_allowed / n_timed) if n_timed else None,
        "latency_p95_max_ms": None,
        "window": obj.window,
        "min_executions": obj.min_executions,
        "owner": obj.owner,
        "attainment": _ratio(n - failed, n),
        "budget_total": allowed,
        "budget_consumed": failed,
        "budget_remaining": 1 - failed / allowed if allowed > 0 else None,
        "latency_budget_total": late_allowed if timed else None,
        "latency_budget_consumed": late if timed else None,
        "latency_budget_remaining": (1 - late / late_allowed) if late_allowed > 0 else None,
        "within_threshold": (n_timed - late) if timed else None,
        "within_threshold_share": _ratio(n_timed - late, n_timed) if timed else None,
        "p95_breaches": sum(f["p95_breaches"] for _, f in machines),
    }
    out["status"] = status(out, n, out["p95_breaches"] > 0, obj)
    return out


def status(fig: dict[str, Any], n: int, p95_over: bool, obj: Objective) -> str:
    """OK, WARNING (little budget left), BREACHED (an objective missed) or INSUFFICIENT_DATA."""
    if n < obj.min_executions:
        return INSUFFICIENT_DATA
    remaining = [r for r in (fig["budget_remaining"], fig["latency_budget_remaining"]) if r is not None]
    # A small tolerance: exactly on the objective (e.g. 90 of 100 at 90%) is met, despite float rounding.
    if p95_over or any(r < -1e-9 for r in remaining):
        return BREACHED
    if any(r < obj.warning_budget_remaining for r in remaining):
        return WARNING
    return OK


# A single failure is never an incident on its own, however few executions there were.
MIN_ALERT_FAILURES = 2


def firing(
    long_burn: float | None,
    short_burn: float | None,
    threshold: float,
    long_failed: int,
    long_executions: int,
    obj: Objective,
) -> bool:
    """A burn-rate alert fires when both windows burn at or above the threshold, over at least the
    objective's min_executions and MIN_ALERT_FAILURES failures in the long window."""
    return bool(
        long_burn is not None
        and short_burn is not None
        and long_burn >= threshold
        and short_burn >= threshold
        and long_failed >= MIN_ALERT_FAILURES
        and long_executions >= obj.min_executions
    )


def burn_rate(bad: int, total: int, objective: float) -> float | None:
    """How fast the budget burns: observed failure share over the allowed share (1 = exactly on budget)."""
    return (bad / total) / (1 - objective) if total else None
