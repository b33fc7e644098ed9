"""SLA: attainment against objectives, error-budget burn-down, burn-rate alerts, latency against target."""

from __future__ import annotations

import streamlit as st

from dashboard import data, frame, sidebar
from dashboard.components import charts
from dashboard.components.text import md_escape

frame.open_page("SLA", "Per domain and state machine: objectives, error budget and burn rate.")
f = sidebar.current()
start, end = data.period_window(f.period)
m = data.machine(f.machine)
scope = f"state machine {md_escape(m['name'])}" if m else (
    f"domain {md_escape(f.domain)}" if f.domain else "all domains")
st.markdown(f"Scope: **{scope}**. Pick a domain or a state machine in the sidebar to narrow it.")

report = data.sla_report(start, end, "state_machine", f.domain)
if f.machine:
    report = report[report["state_machine_arn"] == f.machine]
SEVERITY = {"BREACHED": 0, "WARNING": 1, "OK": 2}
report = report.sort_values(["status", "budget_remaining"], key=lambda c: c.map(SEVERITY).fillna(3)
                            if c.name == "status" else c, na_position="last")
st.subheader("Attainment against objectives")
st.dataframe(
    report[["state_machine_name", "domain", "status", "executions", "failed", "attainment", "success_objective",
            "budget_remaining", "p50_ms", "p95_ms", "p99_ms", "latency_threshold_ms", "within_threshold_share",
            "owner"]],
    hide_index=True, width="stretch",
    column_config={
        "state_machine_name": "State machine", "domain": "Domain", "status": "SLA status", "owner": "Owner",
        "executions": st.column_config.NumberColumn("Executions", format="localized"),
        "failed": st.column_config.NumberColumn("Failed", format="localized"),
        "attainment": st.column_config.NumberColumn("Attainment", format="percent"),
        "success_objective": st.column_config.NumberColumn("Objective", format="percent"),
        "budget_remaining": st.column_config.NumberColumn("Budget left", format="percent"),
        "p50_ms": st.column_config.NumberColumn("p50 ms", format="localized"),
        "p95_ms": st.column_config.NumberColumn("p95 ms", format="localized"),
        "p99_ms": st.column_config.NumberColumn("p99 ms", format="localized"),
        "latency_threshold_ms": st.column_config.NumberColumn("Latency target ms", format="localized"),
        "within_threshold_share": st.column_config.NumberColumn("Within target", format="percent"),
    },
)

grain = "day" if f.period in ("24h", "7d", "30d") else "week"
series = data.sla_attainment_series(start, end, grain, f.domain, f.machine)
objective = float(series["success_objective"].iloc[0]) if len(series) else None
left, right = st.columns(2)
left.plotly_chart(charts.attainment(series, "bucket", "success_rate", objective, f"Success rate per {grain}"),
                  width="stretch")
burn = data.budget_burndown(end, f.domain, f.machine)
right.plotly_chart(charts.burndown(burn, "ts", "budget_remaining", "ideal_remaining",
                                   "Error budget over the SLA window"), width="stretch")

left, right = st.columns(2)
obj = data.objective(f.domain, f.machine)
target_s = obj.latency_p95_max_s or obj.latency_threshold_s
left.plotly_chart(charts.latency(series, "bucket", ["p95_ms"], target_s * 1000 if target_s else None,
                                 f"p95 duration per {grain}"), width="stretch")
per_machine = report[report["executions"] > 0].sort_values("p95_ms", ascending=False).head(15)
right.plotly_chart(charts.duration_percentiles(per_machine, "state_machine_name", ["p50_ms", "p95_ms", "p99_ms"],
                                               "Latency percentiles per state machine"), width="stretch")

st.subheader("Burn-rate alerts")
st.caption("Multiwindow burn-rate rules: an alert fires when both its long and short window burn the error "
           "budget faster than the threshold.")
alerts = data.burn_rate_alerts(end, f.domain)
if f.machine:
    alerts = alerts[alerts["state_machine_arn"] == f.machine]
alerts = alerts.assign(scope=alerts["state_machine_name"].fillna("(whole domain)"))
firing = alerts[alerts["firing"]]
if firing.empty:
    st.success("No burn-rate alert is firing.", icon=":material/check_circle:")
else:
    st.error(f"{len(firing)} burn-rate alert(s) firing.", icon=":material/local_fire_department:")
st.dataframe(
    alerts.sort_values(["firing", "long_burn"], ascending=[False, False])[
        ["firing", "domain", "scope", "severity", "long_window", "short_window", "threshold",
         "long_burn", "short_burn", "long_failed", "long_executions"]],
    hide_index=True, width="stretch",
    column_config={
        "firing": st.column_config.CheckboxColumn("Firing"), "scope": "State machine",
        "long_burn": st.column_config.NumberColumn("Long burn", format="%.2f"),
        "short_burn": st.column_config.NumberColumn("Short burn", format="%.2f"),
        "threshold": st.column_config.NumberColumn("Threshold", format="%.2f"),
    },
)
