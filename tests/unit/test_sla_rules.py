"""The SLA rules of the README, each on a tiny hand-made lake with the arithmetic beside the figure:
per-machine objectives in a domain's rollup, `latency: none`, the domain budget as the sum of its
machines' budgets, p95 ceilings per machine, and burn-rate thresholds of a calendar month on its 1st."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from queries_tiny_lake import PAY_A, PAY_B, _ex, t

import queries
from lake.store import Lake
from queries import sla_config

END = t(11, 0)


def _lake(path, rows) -> queries.Queries:
    lake = Lake(str(path))
    lake.write_meta(source="demo")
    lake.write(
        "state_machines",
        [
            {"state_machine_arn": a, "name": a.rsplit(":", 1)[1], "domain": "pay", "type": "STANDARD"}
            for a in (PAY_A, PAY_B)
        ],
    )
    lake.write_partitioned("executions", rows, date_column="start_time")
    return queries.connect(str(path))


def _rows() -> list[dict]:
    """pay-a: 10 executions of 10 s, 1 failed. pay-b (a batch): 10 executions of 20 min, none failed."""
    a = [_ex(PAY_A, f"a{i}", t(10, i), "FAILED" if i == 0 else "SUCCEEDED", 10_000) for i in range(10)]
    b = [_ex(PAY_B, f"b{i}", t(10, i, 30), "SUCCEEDED", 1_200_000) for i in range(10)]
    return a + b


CONFIG = """
defaults: {window: 7d, min_executions: 5, success_objective: 90%}
domains:
  pay: {latency: {threshold_s: 60, objective: 90%}}
state_machines:
  pay-b: {success_objective: 99%, latency: {threshold_s: 3600, objective: 90%}}
"""


def test_a_domain_counts_each_execution_against_its_own_machines_objective(tmp_path):
    q = _lake(tmp_path, _rows())
    rep = q.sla_report(sla_config.parse(CONFIG), end=END).set_index("key").loc["pay"]
    # In time: pay-a 10 of 10 within 60 s, pay-b 10 of 10 within its own 1 h: 20 of 20 (the domain's
    # 60 s alone would give 10 of 20).
    assert rep.within_threshold == 20 and rep.within_threshold_share == 1.0
    # Budget: pay-a (1 - 0.90) × 10 = 1 failure allowed, pay-b (1 - 0.99) × 10 = 0.1: 1.1 in all, 1 used.
    assert rep.budget_total == pytest.approx(1.1) and rep.budget_consumed == 1
    assert rep.budget_remaining == pytest.approx(1 - 1 / 1.1)
    assert rep.success_objective == pytest.approx(1 - 1.1 / 20)  # the weighted objective: 94.5 %
    assert rep.latency_threshold_ms is None  # two thresholds: "per machine"
    assert rep.status == "WARNING"  # 9 % of the budget left, under the default 25 %
    q.close()


def test_latency_none_leaves_a_machine_out_of_latency_figures(tmp_path):
    q = _lake(tmp_path, _rows())
    cfg = sla_config.parse(CONFIG.replace("latency: {threshold_s: 3600, objective: 90%}", "latency: none"))
    by_machine = q.sla_report(cfg, end=END, by="state_machine").set_index("state_machine_name")
    assert pd.isna(by_machine.loc["pay-b"].within_threshold) and pd.isna(
        by_machine.loc["pay-b"].latency_objective
    )
    dom = q.sla_report(cfg, end=END).set_index("key").loc["pay"]
    # Only pay-a is judged for latency: 10 of its 10 within 60 s; pay-b's 20-minute runs are not "late".
    assert (dom.within_threshold, dom.within_threshold_share) == (10, 1.0)
    assert dom.latency_budget_total == pytest.approx(0.1 * 10) and dom.latency_budget_consumed == 0
    assert dom.latency_threshold_ms == 60_000
    q.close()


def test_p95_ceilings_are_judged_per_machine(tmp_path):
    q = _lake(tmp_path, _rows())
    # A 90 s p95 ceiling for the domain: pay-a (10 s) is inside it; pay-b has its own 1 h ceiling (20 min: inside).
    cfg = sla_config.parse(
        CONFIG.replace("objective: 90%}}\nstate", "objective: 90%, p95_max_s: 90}}\nstate").replace(
            "threshold_s: 3600, objective: 90%", "threshold_s: 3600, objective: 90%, p95_max_s: 3600"
        )
    )
    dom = q.sla_report(cfg, end=END).set_index("key").loc["pay"]
    assert dom.p95_breaches == 0  # the mixed p95 (20 min) is not judged against pay-a's 90 s
    # Tighten pay-b's ceiling to 10 minutes: one machine breaks its ceiling, so the domain is breached.
    tight = sla_config.parse(
        CONFIG.replace(
            "threshold_s: 3600, objective: 90%", "threshold_s: 3600, objective: 90%, p95_max_s: 600"
        )
    )
    dom = q.sla_report(tight, end=END).set_index("key").loc["pay"]
    assert (dom.p95_breaches, dom.status) == (1, "BREACHED")
    q.close()


def test_a_calendar_month_on_its_first_day_scales_burn_rates_to_the_whole_month(tmp_path):
    """1 March 03:00: two hours of traffic, one failure in 20. The 30-day rules' thresholds, scaled to the
    31 days of March (14.4 × 31/30 = 14.88, 6.2, 1.033), not to the 3 hours elapsed. A single failure
    (5 % / 1 % = a 5× burn) alerts nothing; a second one (10×, over the ticket threshold in the 3-day and
    6-hour windows, while the last hour had no traffic) opens a ticket, and still pages nobody."""
    rows = [
        _ex(PAY_A, f"m{i}", t(1, 1, 3 * i, month=3), "FAILED" if i == 5 else "SUCCEEDED", 1_000)
        for i in range(20)
    ]
    q = _lake(tmp_path, rows)
    cfg = sla_config.parse("defaults: {window: calendar_month, success_objective: 99%, min_executions: 1}")
    now = t(1, 3, month=3)
    al = q.burn_rate_alerts(cfg, now=now)
    assert sorted(al["threshold"].unique()) == pytest.approx([31 / 30, 6 * 31 / 30, 14.4 * 31 / 30])
    assert not al["firing"].any()
    burn = q.budget_burndown(cfg, now, domain="pay")
    q.close()
    rows[6]["status"] = "FAILED"
    q = _lake(tmp_path / "two", rows)
    al = q.burn_rate_alerts(cfg, now=now)
    fired = al[al["firing"]]
    assert set(fired["severity"]) == {"ticket"} and set(fired["long_window"]) == {"3d"}
    assert fired["long_burn"].iloc[0] == pytest.approx((2 / 20) / 0.01)
    # The chart spans the whole month, and the ideal line falls over 31 days, not 3 hours.
    assert burn["window_start"].iloc[0] == t(1, 0, month=3) and burn["window_end"].iloc[0] == t(1, 0, month=4)
    assert burn["ideal_remaining"].iloc[-1] == pytest.approx(1 - 3 / (31 * 24))
    q.close()


def test_the_burndown_weighs_each_machine_by_its_own_objective(tmp_path):
    q = _lake(tmp_path, _rows())
    burn = q.budget_burndown(sla_config.parse(CONFIG), END, domain="pay")
    assert burn["budget_total"].iloc[-1] == pytest.approx(1.1)  # 0.10 × 10 + 0.01 × 10
    assert burn["failed"].iloc[-1] == 1 and burn["budget_remaining"].iloc[-1] == pytest.approx(1 - 1 / 1.1)
    assert burn["ts"].iloc[-1] == END and burn["window_end"].iloc[0] == END
    assert burn["window_start"].iloc[0] == END - timedelta(days=7)
    q.close()


def test_the_burndown_chart_spans_the_window_and_keeps_its_axis_readable(tmp_path):
    from dashboard.components import charts

    rows = [
        _ex(PAY_A, f"m{i}", t(1, 1, 3 * i, month=3), "FAILED" if i < 3 else "SUCCEEDED", 1_000)
        for i in range(20)
    ]
    q = _lake(tmp_path, rows)
    cfg = sla_config.parse("defaults: {window: calendar_month, success_objective: 99%, min_executions: 1}")
    burn = q.budget_burndown(cfg, t(1, 3, month=3), domain="pay")
    q.close()
    assert burn["budget_remaining"].iloc[-1] == pytest.approx(1 - 3 / 0.2)  # -1400 %
    fig = charts.burndown(burn, "ts", "budget_remaining", "ideal_remaining", "budget")
    x0, x1 = fig.layout.xaxis.range
    assert pd.Timestamp(x0) == t(1, 0, month=3) and pd.Timestamp(x1) == t(1, 0, month=4)
    assert tuple(fig.layout.yaxis.range) == (-105, 105)
    assert "overspent" in fig.layout.annotations[-1].text
