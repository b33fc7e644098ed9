"""SLA: attainment against objectives, burn-rate alerts, error-budget burn-down, latency against target."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import data, frame, metric_sections, sidebar
from dashboard.components import charts, palette
from dashboard.components.sla_tables import alerts_view, report_view
from dashboard.components.text import md_escape
from dashboard.components.versions import daily_view, new_version_starts, ran_several, versions_view

frame.open_page(
    "SLA", "Per domain and state machine: objectives, error budget and burn rate.", needs_slas=True
)
f = sidebar.current()
start, end = data.period_window(f)
m = data.machine(f.machine)
scope = (
    f"state machine {md_escape(m['name'])}"
    if m
    else (f"domain {md_escape(f.domain)}" if f.domain else "all domains")
)
st.markdown(f"Scope: **{scope}**. Pick a domain or a state machine in the sidebar to narrow it.")

# Verdicts and budgets: each machine over its own objective's window ending now (as `stepscope sla`).
report = data.sla_report(None, end, "state_machine", f.domain)
if f.machine:
    report = report[report["state_machine_arn"] == f.machine]
report = report.sort_values(
    ["status", "budget_remaining"],
    key=lambda c: c.map(palette.SLA_SEVERITY).fillna(len(palette.SLA_SEVERITY)) if c.name == "status" else c,
    na_position="last",
)
st.subheader("Attainment against objectives")
st.caption(
    "Each state machine over its own objective's window (30 days, 28 days or the calendar month, in the "
    "Window column) ending now, whatever the period picked: the charts below show the period."
)
st.dataframe(
    report_view(report),
    hide_index=True,
    width="stretch",
    placeholder="–",
    column_config={
        "state_machine_name": "State machine",
        "domain": "Domain",
        "status": "SLA status",
        "window": st.column_config.TextColumn("Window", help="The objective's window the verdict covers"),
        "owner": "Owner",
        "executions": st.column_config.NumberColumn("Executions", format="localized"),
        "failed": st.column_config.NumberColumn("Failed", format="localized"),
        "attainment": st.column_config.NumberColumn("Attainment", format="percent"),
        "success_objective": st.column_config.NumberColumn("Objective", format="percent"),
        "budget_left": st.column_config.TextColumn(
            "Error budget left", width=170, help="Share of the allowed failures not yet used."
        ),
        "p50": "p50",
        "p95": "p95",
        "p99": "p99",
        "latency_target": "Latency target",
        "within_threshold_share": st.column_config.NumberColumn("Within target", format="percent"),
    },
)

st.subheader("Burn-rate alerts")
st.caption(
    "Multiwindow burn-rate rules: an alert fires when both its long and its short window spend the error "
    "budget faster than the threshold (burn 1× = exactly the budget over the SLA window)."
)
alerts = data.burn_rate_alerts(end, f.domain)
if f.machine:
    alerts = alerts[alerts["state_machine_arn"] == f.machine]
view = alerts_view(alerts)
firing = view[view["firing"]]
if firing.empty:
    st.success("No burn-rate alert is firing.", icon=":material/check_circle:")
else:
    lines = [
        f"- **{md_escape(r.alert)}**: {md_escape(r.scope)} ({md_escape(r.domain)}), windows {r.windows}, "
        f"burning {r.burn} against a threshold of {r.threshold_x}"
        for r in firing.head(10).itertuples()
    ]
    more = f"\n\n… and {len(firing) - 10} more in the table below." if len(firing) > 10 else ""
    st.error(
        f"{len(firing)} burn-rate alert(s) firing:\n\n" + "\n".join(lines) + more,
        icon=":material/local_fire_department:",
    )
st.dataframe(
    view[
        [
            "alert",
            "scope",
            "domain",
            "windows",
            "burn",
            "threshold_x",
            "failures",
            "severity",
            "long_burn",
            "short_burn",
            "firing",
        ]
    ],
    hide_index=True,
    width="stretch",
    placeholder="–",
    column_config={
        "alert": st.column_config.TextColumn("Alert", width=150),
        "scope": "Scope",
        "domain": "Domain",
        "windows": st.column_config.TextColumn("Windows (long + short)", width=150),
        "burn": "Burn (long / short)",
        "threshold_x": "Fires at",
        "failures": "Failed (long window)",
        "severity": "Severity",
        "long_burn": st.column_config.NumberColumn("Long burn", format="%.2f"),
        "short_burn": st.column_config.NumberColumn("Short burn", format="%.2f"),
        "firing": st.column_config.CheckboxColumn("Firing"),
    },
)

grain = "day" if end - start <= timedelta(days=31) else "week"
series = data.sla_attainment_series(start, end, grain, f.domain, f.machine)
objective = float(series["success_objective"].iloc[0]) if len(series) else None
left, right = st.columns(2)
left.plotly_chart(
    charts.attainment(series, "bucket", "success_rate", objective, f"Success rate per {grain}"),
    width="stretch",
)
burn = data.budget_burndown(end, f.domain, f.machine)
right.plotly_chart(
    charts.burndown(burn, "ts", "budget_remaining", "ideal_remaining", "Error budget over the SLA window"),
    width="stretch",
)

# Versions of the machines in scope: the selected one, else those of the scope that ran more than one.
versions = data.version_figures(f.machine, start, end, None if f.machine else f.domain)
versioned = ran_several(versions)
version_starts = new_version_starts(versions) if f.machine in versioned else []

st.subheader("Latency against target")
left, right = st.columns(2)
obj = data.objective(f.domain, f.machine)
target_s = obj.latency_p95_max_s or obj.latency_threshold_s
left.plotly_chart(
    charts.latency(
        series,
        "bucket",
        ["p95_ms"],
        target_s * 1000 if target_s else None,
        f"p95 duration per {grain}",
        markers=version_starts,
    ),
    width="stretch",
)
per_machine = report[report["executions"] > 0].sort_values("p95_ms", ascending=False).head(15)
per_machine = per_machine.assign(
    target_ms=per_machine["latency_p95_max_ms"].fillna(per_machine["latency_threshold_ms"])
)
right.plotly_chart(
    charts.duration_percentiles(
        per_machine,
        "state_machine_name",
        ["p50_ms", "p95_ms", "p99_ms"],
        "Latency percentiles per state machine",
        threshold="target_ms",
    ),
    width="stretch",
)
if target_s is None and per_machine["target_ms"].isna().all():
    st.caption(
        "No latency objective in the SLA file for this scope: add `latency: {threshold_s: …}` to draw "
        "the target."
    )

if versioned:
    st.subheader("By version")
    st.caption(
        "Versions (and aliases) that ran in the period: a version slower or failing more than the one "
        "before it is a regression that came with its deployment. The dashed line marks when each newer "
        "version started taking traffic."
    )
    table = versions_view(versions[versions["state_machine_arn"].isin(versioned)])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder="–",
        # the machine's name is the scope's when only one is shown
        column_order=[c for c in table if len(versioned) > 1 or c != "state_machine_name"],
        column_config={
            "state_machine_name": "State machine",
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
    # Per day only for the machines drawn: one machine's partitions each, not the whole scope's again.
    daily = pd.concat(
        [daily_view(data.version_figures(arn, start, end, None, True)) for arn in versioned[:10]],
        ignore_index=True,
    )
    for arn in versioned[:10]:
        rows = versions[versions["state_machine_arn"] == arn]
        name = charts.plain([rows["state_machine_name"].iloc[0]])[0]
        st.plotly_chart(
            charts.version_p95(
                daily[daily["state_machine_arn"] == arn],
                "day",
                "p95_ms",
                "version",
                f"p95 per day by version: {name}",
                markers=new_version_starts(rows),
            ),
            width="stretch",
        )
    if len(versioned) > 10:
        st.caption(
            f"… and {len(versioned) - 10} more state machines with several versions in the table above."
        )

metric_sections.headroom_section(start, end, f.domain)
