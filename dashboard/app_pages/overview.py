"""Overview for the CIO: one scorecard per domain (or for the state machine picked) and the worst offenders."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import data, frame, metric_sections, sidebar
from dashboard.components.text import budget_left, budget_used, compact_duration, duration, md_escape, percent
from dashboard.filters import period_phrase, previous_window, window_words

frame.open_page(
    "Overview",
    "Is each domain inside its SLA? A verdict and its error budget are always over the objective's own "
    "window; the period picked in the sidebar sets the figures below them and their trend.",
    needs_slas=True,
)
f = sidebar.current()
start, end = data.period_window(f)
pstart, pend = previous_window(start, end)
picked = data.machine(f.machine)
# A state machine picked in the sidebar gets its own card, against its own objective; else one per domain.
by = "state_machine" if picked else "domain"
scope = (picked["domain"] if isinstance(picked["domain"], str) else None) if picked else f.domain


def report(s: datetime | None, e: datetime) -> pd.DataFrame:
    r = data.sla_report(s, e, by, scope)
    return r[r["key"] == f.machine] if picked else r


# The verdicts: each key over its own objective's window ending now (as `stepscope sla` gives them).
verdicts = report(None, end)
now = report(start, end).set_index("key")
before = report(pstart, pend).set_index("key")
PERIOD = period_phrase(f.period, start, end)

if verdicts.empty:
    st.info("No domains in this lake yet.")
    st.stop()

COLUMNS = 3
rows = [verdicts.iloc[i : i + COLUMNS] for i in range(0, len(verdicts), COLUMNS)]
for chunk in rows:
    for col, (_, v) in zip(st.columns(COLUMNS), chunk.iterrows(), strict=False):
        r = now.loc[v["key"]] if v["key"] in now.index else v  # the period's figures
        prev = before.loc[v["key"]] if v["key"] in before.index else None
        with col, st.container(border=True):
            st.subheader(md_escape(v["state_machine_name"] if picked else v["domain"]))
            frame.status_badge(v["status"])
            if picked:
                st.caption(f"State machine of domain {md_escape(v['domain'] or 'none')}.")
            st.caption(f"Verdict and budget: {window_words(v)}. Below: {PERIOD}.")
            why = f"Objective {percent(v['success_objective'])} success (now {percent(v['success_rate'])})"
            if int(v.get("p95_breaches") or 0):
                why += f"; {int(v['p95_breaches'])} machine(s) over their p95 ceiling"
            if pd.notna(v.get("latency_objective")):
                within = (
                    duration(v["latency_threshold_ms"])
                    if pd.notna(v.get("latency_threshold_ms"))
                    else "each machine's threshold"
                )
                why += (
                    f"; {percent(v['latency_objective'], 0)} within {within}"
                    f" (now {percent(v.get('within_threshold_share'), 1)})"
                )
            st.caption(why)
            a, b = st.columns(2)
            delta_n = int(r["executions"]) - int(prev["executions"]) if prev is not None else None
            a.metric(
                f"Executions, {PERIOD}",
                f"{int(r['executions']):,}",
                delta=None if delta_n is None else f"{delta_n:+,}",
                delta_color="off",
            )
            sr, psr = r["success_rate"], prev["success_rate"] if prev is not None else None
            delta_sr = None if pd.isna(sr) or psr is None or pd.isna(psr) else f"{(sr - psr) * 100:+.2f} pp"
            b.metric(
                f"Success, {PERIOD}",
                percent(sr),
                delta=delta_sr,
                help=f"Objective {percent(r['success_objective'])}",
            )
            # the budget gets the card's whole width: "Overspent" and by how much must never be cut off
            left = v["budget_remaining"]
            if v["status"] == "INSUFFICIENT_DATA":
                st.metric(
                    "Error budget left", "–", help="Too few executions in the SLA window to judge the budget."
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
            c.metric(f"p95, {PERIOD}", compact_duration(r["p95_ms"]), help=f"p95 {duration(r['p95_ms'])}")
            d.metric(
                f"Failed, {PERIOD}", f"{int(r['failed']):,}", help="Failed, timed-out or aborted executions."
            )

if picked:
    st.stop()  # the worst offenders of one machine: the card above
st.subheader("Worst offenders")
st.caption("Each state machine over its own objective's window, against its own objective.")
machines = data.sla_report(None, end, "state_machine", f.domain)
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

metric_sections.headroom_section(start, end, f.domain)
