"""Failures for on-call: the triage list (what failed, where, why, is it new), error groups, where and when."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, frame, sidebar
from dashboard.components import charts
from dashboard.components.triage import triage_view

HEATMAPS = {
    "hour": "State machine × hour",
    "state": "State × day",
    "error": "Error × state machine",
}

TRIAGE_PAGE = 200  # rows of the triage list at a time

frame.open_page(
    "Failures", "What failed, where in the flow, why, and is it new? Pick a row to open the execution."
)
f = sidebar.current()
start, end = data.period_window(f.period)
# one error-groups query serves both the triage list's 'new' marker and the groups table
groups = data.error_groups(start, end, f.domain, f.machine)

st.subheader("Triage: most recent failures")
ss = st.session_state
page_rows = int(ss.setdefault("triage_page", TRIAGE_PAGE))
limit = int(ss.setdefault("triage_limit", page_rows))
triage = data.triage_list(start, end, f.domain, f.machine, limit)
total = (
    int(groups["count"].sum()) if len(groups) else len(triage)
)  # every failure of the period is in a group
if triage.empty:
    st.success("No failed executions in this period.", icon=":material/check_circle:")
else:
    if len(triage) < total:
        st.caption(f"Showing the newest {len(triage):,} of {total:,} failures in the period.")
        st.button(
            f"Show {page_rows:,} more",
            key="triage_more",
            on_click=lambda: ss.update(triage_limit=limit + page_rows),
        )
    else:
        st.caption(f"All {total:,} failures in the period.")
    view = triage_view(triage, groups)
    picked = st.dataframe(
        view,
        key="triage",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        placeholder="–",
        column_config={
            "link": st.column_config.LinkColumn("Open", display_text="open ↗", width=56),
            "start_time": st.column_config.DatetimeColumn(
                "Started (UTC)", format="MM-DD HH:mm:ss", width=110
            ),
            "status": st.column_config.TextColumn("Status", width=84),
            "new": st.column_config.TextColumn(
                "New?", width=48, help="NEW: this error group was first seen in the period."
            ),
            "failed_state": st.column_config.TextColumn("Failed state", width=130),
            "error": st.column_config.TextColumn("Error", width=180),
            "cause_short": st.column_config.TextColumn("Cause", width=250),
            "state_machine_name": "State machine",
            "name": "Execution",
            "duration": "Duration",
            "redrive_status": "Redrive",
            "domain": "Domain",
            "cause": st.column_config.TextColumn("Full cause", width="large"),
        },
    )
    rows = picked.selection.rows if picked is not None else []
    if rows:
        st.switch_page(
            "app_pages/execution.py", query_params={"execution": triage["execution_arn"].iloc[rows[0]]}
        )

st.subheader("Error groups")
if groups.empty:
    st.info("No errors in this period.")
else:
    new = int(groups["is_new"].sum())
    if new:
        st.warning(
            f"{new} error group(s) seen for the first time in this period (marked NEW).",
            icon=":material/fiber_new:",
        )
    g = groups.assign(
        badge=groups["is_new"].map({True: "NEW", False: ""}), daily=[list(d) for d in groups["daily"]]
    )
    st.dataframe(
        g[
            [
                "badge",
                "count",
                "error",
                "failed_state",
                "cause_pattern",
                "trend",
                "daily",
                "machines",
                "first_seen",
                "last_seen",
            ]
        ],
        hide_index=True,
        width="stretch",
        placeholder="–",
        column_config={
            "badge": st.column_config.TextColumn("New?", width=48),
            "error": st.column_config.TextColumn("Error", width=180),
            "count": st.column_config.NumberColumn("Count", format="localized", width=60),
            "failed_state": st.column_config.TextColumn("Failed state", width=130),
            "cause_pattern": st.column_config.TextColumn("Cause", width=250),
            "machines": "Machines",
            "trend": st.column_config.TextColumn("Trend", width=70),
            "first_seen": st.column_config.DatetimeColumn("First seen", format="YYYY-MM-DD HH:mm"),
            "last_seen": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD HH:mm"),
            "daily": st.column_config.BarChartColumn("Per day", width=100),
        },
    )

st.subheader("Where and when")
# one heatmap at a time: each is its own scan, and only the chosen one is queried
which = st.segmented_control(
    "Failures by", list(HEATMAPS), format_func=HEATMAPS.get, default="hour", required=True, key="heatmap"
)
if which == "state":
    by_state = data.failures_by_state_day(start, end, f.domain, f.machine)
    days = pd.date_range(start.date(), (end - pd.Timedelta(microseconds=1)).date(), freq="D").date
    by_state = by_state.assign(day=pd.to_datetime(by_state["day"]).dt.date) if len(by_state) else by_state
    st.plotly_chart(
        charts.heatmap(by_state, "day", "failed_state", "failures", "Failures by state × day", x_order=days),
        width="stretch",
    )
elif which == "error":
    by_error = data.failures_by_error_machine(start, end, f.domain)
    if f.machine:
        by_error = by_error[by_error["state_machine_arn"] == f.machine]
    st.plotly_chart(
        charts.heatmap(
            by_error, "state_machine_name", "error", "failures", "Failures by error × state machine"
        ),
        width="stretch",
    )
else:
    by_hour = data.failures_by_machine_hour(start, end, f.domain)
    if f.machine:
        by_hour = by_hour[by_hour["state_machine_arn"] == f.machine]
    st.plotly_chart(
        charts.heatmap(
            by_hour,
            "hour",
            "state_machine_name",
            "failures",
            "Failures by state machine × hour of day (UTC)",
            x_order=range(24),
        ),
        width="stretch",
    )
