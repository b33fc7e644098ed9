"""CloudWatch figures and tables for the pages (pure): headroom series with their limit, a function's
datapoints around a moment, the Task states beside the Lambda functions they call, the ledger's gaps."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import _LAYOUT, _empty, plain
from dashboard.components.palette import NEUTRAL

HEADROOM = {  # series → (title, unit)
    "open_executions": ("Open executions", "executions"),
    "transitions_per_s": ("State transitions per second", "per second"),
    "open_map_runs": ("Open distributed map runs", "map runs"),
}
LIMIT_COLOUR = "#b31d28"


def limit_series(df: pd.DataFrame, series: str) -> go.Figure:
    """One headroom series per Region (`df`: metrics.headroom rows) with its limit as a dashed line."""
    title, unit = HEADROOM[series]
    rows = df[(df["series"] == series) & df["value"].notna()]
    if rows.empty:
        return _empty(title, "No CloudWatch datapoints in this period")
    fig = go.Figure()
    for region, g in rows.groupby("region", sort=True):
        g = g.sort_values("bucket")
        name = plain([region])[0]
        fig.add_trace(
            go.Scatter(x=list(g["bucket"]), y=g["value"].tolist(), mode="lines", name=name, line={"width": 2})
        )
        limit = g["limit"].dropna()
        if len(limit):
            fig.add_trace(
                go.Scatter(
                    x=[g["bucket"].min(), g["bucket"].max()],
                    y=[float(limit.max())] * 2,
                    mode="lines",
                    name=f"limit {name}",
                    line={"dash": "dash", "color": LIMIT_COLOUR, "width": 1},
                )
            )
    fig.update_layout(title=title, height=240, yaxis_title=unit, showlegend=True, **_LAYOUT)
    return fig


def throttles(df: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """ExecutionThrottled per state machine and bucket (`df`: metrics.machine_throttles rows)."""
    title = "StartExecution throttled, per state machine"
    if df.empty:
        return _empty(title, "No StartExecution call was throttled in this period")
    fig = go.Figure()
    for arn, g in df.groupby("state_machine_arn", sort=True):
        fig.add_trace(
            go.Bar(x=list(g["bucket"]), y=g["throttled"].tolist(), name=plain([names.get(str(arn), arn)])[0])
        )
    fig.update_layout(title=title, height=240, barmode="stack", **_LAYOUT)
    return fig


def function_window(df: pd.DataFrame, function: str, at: datetime | None) -> go.Figure:
    """A function's invocations, errors and throttles per datapoint, its p95 on a second axis, and a
    marker at `at` (the failure)."""
    title = f"Lambda {plain([function])[0]} around the failure"
    if df.empty:
        return _empty(title, "No CloudWatch datapoints for this function around then")
    fig = go.Figure()
    x = list(df["timestamp"])
    for col, colour in (("invocations", NEUTRAL), ("errors", LIMIT_COLOUR), ("throttles", "#d4a72c")):
        fig.add_trace(go.Bar(x=x, y=df[col].tolist(), name=col, marker_color=colour))
    fig.add_trace(go.Scatter(x=x, y=df["p95_ms"].tolist(), name="p95 ms", mode="lines+markers", yaxis="y2"))
    if at is not None:
        fig.add_vline(x=pd.Timestamp(at), line={"dash": "dot", "color": LIMIT_COLOUR})
    fig.update_layout(
        title=title,
        height=260,
        barmode="group",
        yaxis={"title": "count"},
        yaxis2={"title": "p95 ms", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        **_LAYOUT,
    )
    return fig


def tasks_beside_functions(
    calls: dict[str, str], states: pd.DataFrame, functions: pd.DataFrame
) -> pd.DataFrame:
    """One row per Task state calling a function: the state's own figures from the histories (visits,
    failures, retries, p95) beside its function's from CloudWatch (invocations, errors, throttles, p95).
    A function called by several machines counts for all of them: `shared` says so."""
    if not calls:
        return pd.DataFrame(
            columns=[
                "state_name",
                "function_name",
                "visits",
                "failures",
                "retries",
                "p95_ms",
                "invocations",
                "errors",
                "throttles",
                "function_p95_ms",
            ]
        )
    own = states.set_index("state_name") if len(states) else pd.DataFrame()
    fn = functions.set_index("function_name") if len(functions) else pd.DataFrame()
    rows = []
    for state, function in sorted(calls.items()):
        s = own.loc[state] if state in own.index else None
        f = fn.loc[function] if function in fn.index else None
        rows.append(
            {
                "state_name": state,
                "function_name": function,
                "visits": None if s is None else int(s["visits"]),
                "failures": None if s is None else int(s["failures"]),
                "retries": None if s is None else int(s["retries"]),
                "p95_ms": None if s is None else s["p95_ms"],
                "invocations": None if f is None else int(f["invocations"]),
                "errors": None if f is None else int(f["errors"]),
                "throttles": None if f is None else int(f["throttles"]),
                "function_p95_ms": None if f is None else f["p95_ms"],
            }
        )
    return pd.DataFrame(rows)


def ledger_gaps(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger's rows that do not reconcile, worst first."""
    bad = ledger[ledger["status"] != "complete"]
    return bad.sort_values(["missing", "day"], ascending=[False, True], na_position="last")


def ledger_by_machine(ledger: pd.DataFrame) -> pd.DataFrame:
    """Per state machine over the ledger's days CloudWatch counted: collected, counted, missing, days short."""
    counted = ledger[ledger["cloudwatch_started"].notna()]
    g = counted.groupby(["domain", "name"], as_index=False).agg(
        lake=("lake", "sum"),
        cloudwatch_started=("cloudwatch_started", "sum"),
        days_short=("missing", lambda s: int((s > 0).sum())),
    )
    g["missing"] = g["cloudwatch_started"] - g["lake"]
    return g.sort_values(["missing", "domain", "name"], ascending=[False, True, True], ignore_index=True)
