"""Overview for the CIO: one scorecard per domain and the worst offenders."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, frame, sidebar
from dashboard.components.text import budget_left, budget_used, compact_duration, duration, md_escape, percent
from dashboard.filters import previous_window

frame.open_page(
    "Overview", "Is each domain inside its SLA this period? Trends compare with the previous period."
)
f = sidebar.current()
start, end = data.period_window(f.period)
pstart, pend = previous_window(start, end)
now = data.sla_report(start, end, "domain", f.domain)
before = data.sla_report(pstart, pend, "domain", f.domain).set_index("key")

if now.empty:
    st.info("No domains in this lake yet.")
    st.stop()

COLUMNS = 3
rows = [now.iloc[i : i + COLUMNS] for i in range(0, len(now), COLUMNS)]
for chunk in rows:
    for col, (_, r) in zip(st.columns(COLUMNS), chunk.iterrows(), strict=False):
        prev = before.loc[r["key"]] if r["key"] in before.index else None
        with col, st.container(border=True):
            st.subheader(md_escape(r["domain"]))
            frame.status_badge(r["status"])
            why = f"Objective {percent(r['success_objective'])} success"
            if pd.notna(r.get("latency_objective")) and pd.notna(r.get("latency_threshold_ms")):
                why += (
                    f"; {percent(r['latency_objective'], 0)} within {duration(r['latency_threshold_ms'])}"
                    f" (now {percent(r.get('within_threshold_share'), 1)})"
                )
            st.caption(why)
            a, b = st.columns(2)
            delta_n = int(r["executions"]) - int(prev["executions"]) if prev is not None else None
            a.metric(
                "Executions",
                f"{int(r['executions']):,}",
                delta=None if delta_n is None else f"{delta_n:+,}",
                delta_color="off",
            )
            sr, psr = r["success_rate"], prev["success_rate"] if prev is not None else None
            delta_sr = None if pd.isna(sr) or psr is None or pd.isna(psr) else f"{(sr - psr) * 100:+.2f} pp"
            b.metric(
                "Success rate",
                percent(sr),
                delta=delta_sr,
                help=f"Objective {percent(r['success_objective'])}",
            )
            # the budget gets the card's whole width: "Overspent" and by how much must never be cut off
            left = r["budget_remaining"]
            if r["status"] == "INSUFFICIENT_DATA":
                st.metric(
                    "Error budget left", "–", help="Too few executions in the period to judge the budget."
                )
            elif (
                pd.notna(left) and left < 0
            ):  # "-1601%" means nothing to a reader: say overspent, and by how much
                st.metric(
                    "Error budget left",
                    "Overspent",
                    delta=f"{budget_used(left)} the budget used",
                    delta_color="red",
                    delta_arrow="off",
                    help=f"Failures used {budget_used(left)} the failures the objective allows "
                    f"({percent(left, 0)} left).",
                )
            else:
                st.metric(
                    "Error budget left", percent(left, 0), help="Share of the allowed failures not yet used."
                )
            c, d = st.columns(2)
            c.metric("p95 duration", compact_duration(r["p95_ms"]), help=f"p95 {duration(r['p95_ms'])}")
            d.metric("Failed", f"{int(r['failed']):,}", help="Failed, timed-out or aborted executions.")

st.subheader("Worst offenders")
machines = data.sla_report(start, end, "state_machine", f.domain)
worst = (
    machines[machines["executions"] > 0]
    .sort_values(["budget_remaining", "failed"], ascending=[True, False], na_position="last")
    .head(10)
)
worst = worst.assign(
    p95=[duration(v) for v in worst["p95_ms"]],
    budget_left=[budget_left(v) for v in worst["budget_remaining"]],
)
if worst.empty:
    st.info("No executions in this period.")
else:
    st.dataframe(
        worst[
            [
                "state_machine_name",
                "domain",
                "status",
                "executions",
                "failed",
                "success_rate",
                "success_objective",
                "budget_left",
                "p95",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "state_machine_name": "State machine",
            "domain": "Domain",
            "status": "SLA status",
            "executions": st.column_config.NumberColumn("Executions", format="localized"),
            "failed": st.column_config.NumberColumn("Failed", format="localized"),
            "success_rate": st.column_config.NumberColumn("Success", format="percent"),
            "success_objective": st.column_config.NumberColumn("Objective", format="percent"),
            "budget_left": st.column_config.TextColumn("Error budget left", width=170),
            "p95": "p95 duration",
        },
    )
