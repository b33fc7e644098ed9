"""Flows: one state machine's graph coloured by failure rate or p95, common paths, state durations."""

from __future__ import annotations

import streamlit as st

from dashboard import data, frame, metric_sections, sidebar, trace_sections
from dashboard.components import charts
from dashboard.components.flow_overlay import METRICS, flow_overlay
from dashboard.components.graph import to_dot
from dashboard.components.versions import ran_several, versions_view
from lake.asl import AslError, parse_definition

frame.open_page(
    "Flows", "Where executions go and where they fail, drawn from the state machine's definition."
)
f = sidebar.current()
start, end = data.period_window(f)
machines = data.state_machines(f.domain)
if machines.empty:
    st.info("No state machines in this scope.")
    st.stop()
arns = list(machines.sort_values("name")["state_machine_arn"])
names = dict(zip(machines["state_machine_arn"], machines["name"], strict=True))
if f.machine in arns:
    first = f.machine
else:  # start with the machine that failed most in the period: what someone opening this page wants
    # (the failures-per-hour cells are a small scan of failed executions, shared with the Failures page)
    cells = data.failures_by_machine_hour(start, end, f.domain)
    worst = cells.groupby("state_machine_arn")["failures"].sum().sort_values(ascending=False, kind="stable")
    first = next((a for a in worst.index if a in arns), arns[0])
# The page's picker is the sidebar's state machine filter, so the machine drawn is in the link (`?machine=`).
ss = st.session_state
ss["flow_machine"] = first
arn = st.selectbox(
    "State machine",
    arns,
    format_func=lambda a: names[a],
    key="flow_machine",
    on_change=lambda: ss.update(machine=ss["flow_machine"]),
    help=None
    if f.machine
    else "Shown: the state machine that failed most in the period. Pick one to put it in the link.",
)
metric = st.segmented_control(
    "Colour by",
    list(METRICS),
    default="problem_rate",
    required=True,
    format_func=METRICS.get,
    key="flow_metric",
)
m = data.machine(arn) or {}
try:
    graph = parse_definition(m.get("definition") or "")
except AslError as e:
    graph = None
    st.warning(f"The definition of this state machine cannot be drawn: {e}")

states = data.flow_states(arn, start, end)
edges = data.flow_edges(arn, start, end)
if graph is not None:
    st.graphviz_chart(
        to_dot(graph, flow_overlay(graph, states, edges, metric or "problem_rate")), width="content"
    )
    scale = {
        "failure_rate": "pale green = no failures, red = 20 % or more of visits failed",
        "problem_rate": "pale green = no errors, red = 20 % or more of visits failed or had an error "
        "caught by a Catch",
        "p95_ms": "pale green = fast, red = the slowest state's p95",
    }[metric or "problem_rate"]
    st.caption(
        f"Colour: {scale}. Dashed red edges are Catch transitions; dashed boxes are Parallel "
        "branches and Map iterations. Edge labels count transitions taken in the period."
    )

st.subheader("Most common paths")
paths = data.flow_paths(arn, start, end, 10)
st.dataframe(
    paths[["executions", "share", "failed", "path"]],
    hide_index=True,
    width="stretch",
    column_config={
        "executions": st.column_config.NumberColumn("Executions", format="localized"),
        "share": st.column_config.ProgressColumn("Share", format="percent", min_value=0, max_value=1),
        "failed": st.column_config.NumberColumn("Failed", format="localized"),
        "path": st.column_config.TextColumn("Path", width="large"),
    },
)

st.subheader("Time spent per state")
# the per-state figures above already hold p50 and p95: no second scan of the state runs
durations = states.sort_values("p95_ms", ascending=False)
st.plotly_chart(
    charts.duration_percentiles(
        durations, "state_name", ["p50_ms", "p95_ms"], "Duration percentiles per state"
    ),
    width="stretch",
)

versions = data.version_figures(arn, start, end, None)
if ran_several(versions):
    st.subheader("By version")
    st.caption(
        "Versions (and aliases) of this state machine that ran in the period: the SLA page draws their "
        "p95 per day."
    )
    table = versions_view(versions)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder="–",
        column_order=[c for c in table if c != "state_machine_name"],
        column_config={
            "version": "Version",
            "version_arn": st.column_config.TextColumn("Version ARN", width="large"),
            "alias": "Alias",
            "executions": st.column_config.NumberColumn("Executions", format="localized"),
            "failure_rate": st.column_config.NumberColumn("Failure rate", format="percent"),
            "p50": "p50",
            "p95": "p95",
            "first_seen": st.column_config.DatetimeColumn("First seen (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )

metric_sections.task_functions_section(arn, graph, states, start, end)
trace_sections.downstream_section(arn, start, end)
