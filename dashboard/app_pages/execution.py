"""One execution (deep link `?execution=<ARN>`): header, timeline, path on the graph, events, AWS links."""

from __future__ import annotations

import streamlit as st

from dashboard import data, frame, metric_sections, trace_sections
from dashboard.components import charts, links
from dashboard.components.failure import SIMILAR, failure_section, similar_section
from dashboard.components.flow_overlay import execution_overlay, task_retries
from dashboard.components.graph import to_dot
from dashboard.components.text import duration, md_escape, running_for
from lake.asl import AslError, parse_definition

frame.open_page("Execution", honours=(), scope="it shows one execution.")
arn = st.query_params.get("execution")
if not arn:
    st.info("Open an execution from the Failures page, or paste its ARN.")
    typed = st.text_input("Execution ARN", placeholder="arn:aws:states:us-east-1:123456789012:execution:…")
    if typed.strip():
        st.query_params["execution"] = typed.strip()
        st.rerun()
    st.stop()

ex = data.execution(arn)
if ex is None:  # one message whether it exists in a domain of another's or not at all: a link tells nothing
    st.error(
        "Not permitted: no execution you may see has this ARN. It may belong to a domain outside your "
        "access, be older than the collected period or of a state machine that is not collected, or the "
        "link may be mistyped.",
        icon=":material/search_off:",
    )
    st.code(arn, language=None)
    st.stop()

st.subheader(md_escape(ex["name"]))
status = ex["status"]
if ex.get("stop_time") is not None:
    ended = f"stopped {ex['stop_time']:%Y-%m-%d %H:%M:%S} UTC"
elif status == "RUNNING":
    ended = running_for(ex["start_time"], data.lake_status().now)
else:
    ended = "stop time unknown"
st.caption(
    f"{md_escape(ex['state_machine_name'])} · domain {md_escape(ex.get('domain'))} · "
    f"started {ex['start_time']:%Y-%m-%d %H:%M:%S} UTC · {ended}"
)
runs = data.execution_state_runs(arn)
colour = {"SUCCEEDED": "green", "RUNNING": "blue"}.get(status, "red")
st.badge(status, color=colour)
a, b, c, d = st.columns(4)
a.metric("Duration", duration(ex.get("duration_ms")))
b.metric(
    "Task retries",
    f"{task_retries(runs):,}",
    help="Retries of Task states: over every Task state run, its attempts minus the first one.",
)
c.metric("Redrives", int(ex.get("redrive_count") or 0))
d.metric("Events", f"{int(ex.get('event_count') or 0):,}")
if ex.get("root_error") or ex.get("root_state") or ex.get("error") or ex.get("cause"):
    failure_section(ex, data.objective(ex.get("domain"), ex["state_machine_arn"]))
    if ex.get("signature"):
        similar = data.similar_failures(ex["signature"], ex.get("domain"), SIMILAR + 1)
        similar_section(ex, similar[similar["execution_arn"] != arn].head(SIMILAR))
if not ex.get("history_complete", True):
    st.warning(
        f"The history of this execution is incomplete: {ex.get('history_error') or 'not fully read'}. "
        "The timeline and path below may be partial."
    )

m = data.machine(ex["state_machine_arn"]) or {}
region = links.region_of(arn)
cols = st.columns(4)
cols[0].link_button(
    "Open in the AWS console", links.execution_console_url(arn), icon=":material/open_in_new:"
)
logs = links.log_group_url(m.get("log_group_arn"), region)
if logs:
    cols[1].link_button("CloudWatch Logs", logs, icon=":material/article:")
trace = links.xray_trace_url(ex.get("trace_id"), region)
if trace:
    cols[2].link_button("X-Ray trace", trace, icon=":material/timeline:")
if links.can_redrive(status, ex.get("redrive_status")):
    st.markdown("**Redrive** (restarts from the failed state):")
    st.code(links.redrive_command(arn), language="bash", wrap_lines=True)
elif status in links.REDRIVABLE_STATUSES and ex.get("redrive_status_reason"):
    st.caption(f"Cannot be redriven: {md_escape(ex['redrive_status_reason'])}")

st.subheader("Timeline")
label = runs["state_name"].astype(str)
nested = runs["parent_state"].notna()
label = label.where(
    ~nested,
    runs["parent_state"].astype(str)
    + " › "
    + label
    + " ["
    + runs["iteration"].astype("Int64").astype(str)
    + "]",
)
retried = runs["attempts"].fillna(1) > 1
label = label.where(~retried, label + " ×" + runs["attempts"].astype("Int64").astype(str))
st.plotly_chart(
    charts.timeline(
        runs.assign(label=label),
        "entered_time",
        "exited_time",
        "label",
        "status",
        "State runs (× = attempts with retries)",
    ),
    width="stretch",
)

trace_sections.execution_trace_section(ex, m)

st.subheader("Path taken")
try:
    graph = parse_definition(m.get("definition") or "")
except AslError as e:
    graph = None
    st.warning(f"The definition of this state machine cannot be drawn: {e}")
if graph is not None:
    st.graphviz_chart(
        to_dot(graph, execution_overlay(graph, runs, ex.get("root_state") or ex.get("failed_state"))),
        width="content",
    )
    st.caption("Blue: states this execution entered. Red: the state whose failure ended it.")

st.subheader("Events")
events = data.execution_events(arn)
st.dataframe(
    events[["event_id", "timestamp", "type", "state_name", "details_json"]],
    hide_index=True,
    width="stretch",
    placeholder="",
    column_config={
        "event_id": "Id",
        "type": "Type",
        "state_name": "State",
        "timestamp": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss.SSS"),
        "details_json": st.column_config.JsonColumn("Details", width="large"),
    },
)

metric_sections.execution_functions_section(ex, graph, runs)
