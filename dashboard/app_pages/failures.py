"""Failures for on-call: where and when things fail, grouped errors, and the triage list."""

from __future__ import annotations

import urllib.parse

import pandas as pd
import streamlit as st

from dashboard import data, frame, sidebar
from dashboard.components import charts

frame.open_page("Failures", "What failed, where in the flow, why, and is it new? Pick a row to open the execution.")
f = sidebar.current()
start, end = data.period_window(f.period)

st.subheader("Triage: most recent failures")
triage = data.triage_list(start, end, f.domain, f.machine, 200)
if triage.empty:
    st.success("No failed executions in this period.", icon=":material/check_circle:")
else:
    view = triage.assign(link=[f"execution?{urllib.parse.urlencode({'execution': a})}" for a in triage["execution_arn"]])
    picked = st.dataframe(
        view[["link", "start_time", "state_machine_name", "name", "status", "failed_state", "error", "cause",
              "duration_ms", "redrive_status", "domain"]],
        key="triage", on_select="rerun", selection_mode="single-row", hide_index=True, width="stretch",
        column_config={
            "link": st.column_config.LinkColumn("Open", display_text="open ↗", width="small"),
            "start_time": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "state_machine_name": "State machine", "name": "Execution", "status": "Status",
            "failed_state": "Failed state", "error": "Error", "cause": st.column_config.TextColumn("Cause", width="large"),
            "duration_ms": st.column_config.NumberColumn("Duration ms", format="localized"),
            "redrive_status": "Redrive", "domain": "Domain",
        },
    )
    rows = picked.selection.rows if picked is not None else []
    if rows:
        st.switch_page("app_pages/execution.py", query_params={"execution": triage["execution_arn"].iloc[rows[0]]})

st.subheader("Error groups")
groups = data.error_groups(start, end, f.domain, f.machine)
if groups.empty:
    st.info("No errors in this period.")
else:
    new = int(groups["is_new"].sum())
    if new:
        st.warning(f"{new} error group(s) seen for the first time in this period.", icon=":material/fiber_new:")
    g = groups.assign(badge=groups["is_new"].map({True: "NEW", False: ""}),
                      daily=[list(d) for d in groups["daily"]])
    st.dataframe(
        g[["badge", "count", "error", "failed_state", "cause_pattern", "machines", "first_seen", "last_seen",
           "trend", "daily"]],
        hide_index=True, width="stretch",
        column_config={
            "badge": st.column_config.TextColumn("New", width="small"),
            "count": st.column_config.NumberColumn("Count", format="localized"), "error": "Error",
            "failed_state": "Failed state", "cause_pattern": st.column_config.TextColumn("Cause", width="large"),
            "machines": "Machines", "trend": "Trend",
            "first_seen": st.column_config.DatetimeColumn("First seen", format="YYYY-MM-DD HH:mm"),
            "last_seen": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD HH:mm"),
            "daily": st.column_config.BarChartColumn("Per day"),
        },
    )

st.subheader("Where and when")
by_hour = data.failures_by_machine_hour(start, end, f.domain)
if f.machine:
    by_hour = by_hour[by_hour["state_machine_arn"] == f.machine]
st.plotly_chart(charts.heatmap(by_hour, "hour", "state_machine_name", "failures",
                               "Failures by state machine × hour of day (UTC)", x_order=range(24)),
                width="stretch")
by_state = data.failures_by_state_day(start, end, f.domain, f.machine)
days = pd.date_range(start.date(), (end - pd.Timedelta(microseconds=1)).date(), freq="D").date
by_state = by_state.assign(day=pd.to_datetime(by_state["day"]).dt.date) if len(by_state) else by_state
st.plotly_chart(charts.heatmap(by_state, "day", "failed_state", "failures", "Failures by state × day",
                                 x_order=days), width="stretch")
by_error = data.failures_by_error_machine(start, end, f.domain)
if f.machine:
    by_error = by_error[by_error["state_machine_arn"] == f.machine]
st.plotly_chart(charts.heatmap(by_error, "state_machine_name", "error", "failures",
                                  "Failures by error × state machine"), width="stretch")
