"""The CloudWatch sections of the pages, each one call from its page: the completeness ledger (Health),
headroom and throttling (Overview, SLA), the Lambda functions behind the Task states (Flows) and around
a failure (Execution). UI only: the figures come from `data`, the shapes from components.metric_charts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.components import metric_charts as mc
from dashboard.components.text import duration, md_escape
from lake.asl import Graph
from queries.metrics import completeness, near_limit, task_functions

LEDGER_DAYS = 30  # the Health page's ledger: the last days of the lake
AROUND = timedelta(minutes=30)  # an execution's functions: this long either side of the failure


def completeness_section(now: datetime) -> None:
    """Health: the executions in the lake against CloudWatch's count, per machine and day, and each gap
    with its likely cause."""
    st.subheader("Completeness against CloudWatch")
    start = (now - timedelta(days=LEDGER_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    ledger = data.completeness_ledger(start, now)
    total = completeness(ledger)
    if total.counted == 0:
        st.info(
            "No CloudWatch counts of executions in this lake for the last "
            f"{LEDGER_DAYS} days: run `stepscope collect --source metrics` to check the lake is complete."
        )
        return
    st.caption(
        f"The last {LEDGER_DAYS} days (UTC): the executions the lake holds, by the day they started, against "
        "those CloudWatch counted as started (ExecutionsStarted, its Sum: AWS emits it twice per execution). "
        "Finished: CloudWatch's terminal counts, each execution once (a redrive's second end taken off)."
    )
    st.markdown(f"**{total.text()}** (over the days CloudWatch has counts for).")
    if total.gaps == 0:
        st.success("Every state machine and day reconciles with CloudWatch.", icon=":material/check_circle:")
    else:
        st.warning(
            f"{total.missing:,} execution(s) CloudWatch counted are not in the lake, over {total.gaps} "
            "state machine day(s): the likely cause is in the table.",
            icon=":material/rule:",
        )
    gaps = mc.ledger_gaps(ledger)
    gap_columns = ["name", "domain", "day", "lake", "cloudwatch_started", "missing", "cloudwatch_finished"]
    if len(gaps):
        _ledger_table(gaps[[*gap_columns, "explanation"]])
    _ledger_table(mc.ledger_by_machine(ledger))


def _ledger_table(df: pd.DataFrame) -> None:
    number = st.column_config.NumberColumn
    labels = {
        "lake": "In the lake",
        "cloudwatch_started": "CloudWatch started",
        "missing": "Missing",
        "cloudwatch_finished": "CloudWatch finished",
        "days_short": "Days short",
    }
    config: dict[str, Any] = {"name": "State machine", "domain": "Domain"}
    config.update({c: number(label, format="localized") for c, label in labels.items() if c in df})
    if "day" in df:
        config["day"] = st.column_config.DateColumn("Day (UTC)")
    if "explanation" in df:
        config["explanation"] = st.column_config.TextColumn("Likely cause", width="large")
    st.dataframe(df, hide_index=True, width="stretch", placeholder="–", column_config=config)


def headroom_section(start: datetime, end: datetime, domain: str | None) -> None:
    """Overview and SLA: open executions, state transitions and map runs against their limits, and the
    StartExecution calls throttled per machine; a plain sentence for each limit at 80 % or more."""
    # a heading like a subheader, not one: the Overview's subheaders are its domain cards
    st.markdown("### Headroom and throttling")
    room = data.headroom(start, end)
    if room.empty:
        st.caption("No account-level CloudWatch metrics in this period: headroom is not known.")
        return
    for sentence in near_limit(room):
        st.warning(md_escape(sentence), icon=":material/speed:")
    cols = st.columns(3)
    for col, series in zip(cols, mc.HEADROOM, strict=True):
        col.plotly_chart(mc.limit_series(room, series), width="stretch")
    throttled = room[room["series"] == "throttled_transitions"]["value"].fillna(0).sum()
    machines = data.state_machines()
    names = dict(zip(machines["state_machine_arn"], machines["name"], strict=True))
    st.plotly_chart(mc.throttles(data.machine_throttles(start, end, domain), names), width="stretch")
    st.caption(
        f"Account level, per Region; the dashed line is the limit. Each point is the most in "
        f"{duration(room.attrs['bucket_s'] * 1000)}. State transitions throttled in the period "
        f"(ThrottledEvents, every Region): {int(throttled):,}."
    )


def task_functions_section(
    arn: str, graph: Graph | None, states: pd.DataFrame, start: datetime, end: datetime
) -> None:
    """Flows: each Task state that calls a Lambda function, its figures beside the function's; for an
    Express machine, its billed duration and estimated cost."""
    machine = data.machine(arn) or {}
    if machine.get("type") == "EXPRESS":
        _express(arn, start, end, machine.get("domain"))
    calls = task_functions(graph, arn) if graph is not None else {}
    if not calls:
        return
    st.subheader("Lambda functions behind the Task states")
    fns = data.function_metrics(start, end, tuple(sorted(set(calls.values()))))
    view = mc.tasks_beside_functions(calls, states, fns)
    st.dataframe(
        view.assign(
            p95=[duration(v) for v in view["p95_ms"]], fn_p95=[duration(v) for v in view["function_p95_ms"]]
        )[
            [
                "state_name",
                "visits",
                "failures",
                "retries",
                "p95",
                "function_name",
                "invocations",
                "errors",
                "throttles",
                "fn_p95",
            ]
        ],
        hide_index=True,
        width="stretch",
        placeholder="–",
        column_config={
            "state_name": "Task state",
            "visits": st.column_config.NumberColumn("Visits", format="localized"),
            "failures": st.column_config.NumberColumn("Failed", format="localized"),
            "retries": st.column_config.NumberColumn("Retries", format="localized"),
            "p95": "State p95",
            "function_name": "Lambda function",
            "invocations": st.column_config.NumberColumn("Invocations", format="localized"),
            "errors": st.column_config.NumberColumn("Errors", format="localized"),
            "throttles": st.column_config.NumberColumn("Throttles", format="localized"),
            "fn_p95": "Function p95",
        },
    )
    st.caption(
        "Left: the state's runs from the histories. Right: the function's CloudWatch metrics over the period "
        "(every caller of the function counts; its p95 is the periods' p95 weighted by invocations)."
    )


def _express(arn: str, start: datetime, end: datetime, domain: str | None) -> None:
    costs = data.express_costs(start, end, domain)
    row = costs[costs["state_machine_arn"] == arn]
    if row.empty:
        return
    r = row.iloc[0]
    a, b, c = st.columns(3)
    a.metric("Express executions", f"{int(r['executions']):,}")
    b.metric("Billed duration", duration(r["billed_ms"]))
    c.metric(
        "Estimated cost",
        f"${r['estimated_cost_usd']:,.2f}",
        help="Billed GB-seconds and requests at the us-east-1 Express prices (an estimate, not the bill).",
    )


def execution_functions_section(ex: dict[str, Any], graph: Graph | None, runs: pd.DataFrame) -> None:
    """Execution: the CloudWatch metrics of the Lambda functions this execution's Task states called, half
    an hour either side of its failure (or its end)."""
    if graph is None:
        return
    calls = task_functions(graph, ex["state_machine_arn"])
    ran = set(runs["state_name"]) if len(runs) else set()
    failed = ex.get("root_state") or ex.get("failed_state")
    # the failed state's function first, then the others this execution called
    order = sorted({calls[s] for s in ran if s in calls}, key=lambda fn: (calls.get(failed or "") != fn, fn))
    at = ex.get("stop_time") or ex.get("start_time")
    if not order or at is None:
        return
    st.subheader("Lambda functions around the failure" if failed else "Lambda functions around the end")
    st.caption(
        f"CloudWatch datapoints {int(AROUND.total_seconds() // 60)} minutes either side of "
        f"{pd.Timestamp(at):%Y-%m-%d %H:%M:%S} UTC (dotted line): what else the function went through."
    )
    for fn in order[:3]:
        series = data.function_series(fn, at - AROUND, at + AROUND)
        st.plotly_chart(mc.function_window(series, fn, at), width="stretch")
    if len(order) > 3:
        st.caption(f"… and {len(order) - 3} more: {md_escape(', '.join(order[3:]))}.")
