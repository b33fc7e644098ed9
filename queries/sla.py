"""SLO arithmetic on aggregated counts: error budgets, status, burn-rate thresholds. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
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
    out["status"] = status(out, n, counts.get("p95_ms"), obj)
    return out


def status(fig: dict[str, Any], n: int, p95_ms: float | None, obj: Objective) -> str:
    """OK, WARNING (little budget left), BREACHED (an objective missed) or INSUFFICIENT_DATA."""
    if n < obj.min_executions:
        return INSUFFICIENT_DATA
    remaining = [r for r in (fig["budget_remaining"], fig["latency_budget_remaining"]) if r is not None]
    p95_over = (
        obj.latency_p95_max_s is not None and p95_ms is not None and p95_ms > obj.latency_p95_max_s * 1000
    )
    # A small tolerance: exactly on the objective (e.g. 90 of 100 at 90%) is met, despite float rounding.
    if p95_over or any(r < -1e-9 for r in remaining):
        return BREACHED
    if any(r < obj.warning_budget_remaining for r in remaining):
        return WARNING
    return OK


def burn_rate(bad: int, total: int, objective: float) -> float | None:
    """How fast the budget burns: observed failure share over the allowed share (1 = exactly on budget)."""
    return (bad / total) / (1 - objective) if total else None
