"""Failures for on-call: the triage list (what failed, where, why, is it new), error groups, where and when."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, frame, live, sidebar
from dashboard.components import charts
from dashboard.components.text import md_escape
from dashboard.components.triage import triage_view
from dashboard.filters import bucket_starts, time_bucket_s
from queries.api import TREND_HELP

HEATMAPS = {
    "hour": "State machine × hour",
    "state": "State × day",
    "error": "Error × state machine",
}

TRIAGE_PAGE = 200  # rows of the triage list at a time
BUCKETS = {300: "5 min", 1800: "30 min", 3600: "hour", 86400: "day"}


def bucket_label(groups: pd.DataFrame) -> str:
    s = int(groups.attrs.get("bucket_s", 86400))
    return BUCKETS.get(s, f"{s // 60} min")


frame.open_page(
    "Failures", "What failed, where in the flow, why, and is it new? Pick a row to open the execution."
)
f = sidebar.current()
start, end = data.period_window(f)
live.auto_refresh((start, end))
# one error-groups query serves both the triage list's 'new' marker and the groups table
groups = data.error_groups(start, end, f.domain, f.machine)

st.subheader("Triage: most recent failures")
ss = st.session_state
page_rows = int(ss.setdefault("triage_page", TRIAGE_PAGE))
limit = int(ss.setdefault("triage_limit", page_rows))
# ?signature=: one error group (the Execution page links here)
group = st.query_params.get("signature") or None
shown = groups[groups["signature"] == group] if group else groups
if group:
    text = (
        f"error group {group}: {shown['error'].iloc[0] or '(no error)'} in {shown['root_state'].iloc[0] or '?'}"
        if len(shown)
        else f"error group {group}, which has no failures in this period"
    )
    st.info(f"Showing only {md_escape(text)}.", icon=":material/filter_alt:")
    st.button(
        "Show every failure", key="group_clear", on_click=lambda: st.query_params.pop("signature", None)
    )
triage = data.triage_list(start, end, f.domain, f.machine, limit, group)
total = int(shown["count"].sum()) if len(shown) else len(triage)  # every failure of the period is in a group
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
            "where": st.column_config.TextColumn(
                "Root state",
                width=150,
                help="The state whose failure (after its retries, caught or not) ended the execution; "
                "inside a Map or Parallel, after its enclosing states: Map[iteration]/State.",
            ),
            "root_error": st.column_config.TextColumn("Root error", width=180),
            "cause_short": st.column_config.TextColumn("Cause", width=250),
            "state_machine_name": "State machine",
            "failed_state": st.column_config.TextColumn(
                "Ended in",
                width=130,
                help="The state the execution ended in (e.g. the Fail state a Catch led to).",
            ),
            "error": st.column_config.TextColumn("Execution error", width=150),
            "name": "Execution",
            "duration": "Duration",
            "redrive_status": "Redrive",
            "domain": "Domain",
            "root_cause": st.column_config.TextColumn("Full cause", width="large"),
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
        badge=groups["is_new"].map({True: "NEW", False: ""}), counts=[list(d) for d in groups["counts"]]
    )
    st.dataframe(
        g[
            [
                "badge",
                "count",
                "error",
                "root_state",
                "cause_pattern",
                "trend",
                "counts",
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
            "root_state": st.column_config.TextColumn("Root state", width=130),
            "cause_pattern": st.column_config.TextColumn("Cause", width=250),
            "machines": "Machines",
            "trend": st.column_config.TextColumn("Trend", width=70, help=TREND_HELP),
            "first_seen": st.column_config.DatetimeColumn(
                "First seen",
                format="YYYY-MM-DD HH:mm",
                help="Earliest failure of this group in the whole lake.",
            ),
            "last_seen": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD HH:mm"),
            "counts": st.column_config.BarChartColumn(f"Per {bucket_label(groups)}", width=100),
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
        charts.heatmap(
            by_state, "day", "root_state", "failures", "Failures by root state × day", x_order=days
        ),
        width="stretch",
    )
elif which == "error":
    by_error = data.failures_by_error_machine(start, end, f.domain)
    if f.machine:
        by_error = by_error[by_error["state_machine_arn"] == f.machine]
    st.plotly_chart(
        charts.heatmap(
            by_error, "state_machine_name", "root_error", "failures", "Failures by root error × state machine"
        ),
        width="stretch",
    )
else:
    # Up to 48 h in time order (yesterday 10:00 left of today 03:00), longer periods by hour of day.
    bucket_s = time_bucket_s(start, end)
    by_hour = data.failures_by_machine_hour(start, end, f.domain, bucket_s)
    if f.machine:
        by_hour = by_hour[by_hour["state_machine_arn"] == f.machine]
    if bucket_s is None:
        x, x_order, title = "hour", list(range(24)), "Failures by state machine × hour of day (UTC)"
    else:
        by_hour = by_hour.assign(time=[f"{t:%m-%d %H:%M}" for t in by_hour["bucket"]])
        x_order = [f"{t:%m-%d %H:%M}" for t in bucket_starts(start, end, bucket_s)]
        size = "hour" if bucket_s == 3600 else f"{bucket_s // 60} min"
        x, title = "time", f"Failures by state machine × {size} (UTC, in time order)"
    st.plotly_chart(
        charts.heatmap(by_hour, x, "state_machine_name", "failures", title, x_order=x_order), width="stretch"
    )
