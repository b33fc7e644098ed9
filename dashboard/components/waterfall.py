"""An execution's X-Ray trace as a waterfall (pure: DataFrames in, a figure or text out).

Rows come in tree order (each segment under the one that called it: state → Lambda call → the
function's own segment → its downstream calls), indented by depth. The call that faulted under the
state whose failure ended the execution (its root failure) is marked, so the two can be read together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import plain
from dashboard.components.palette import TRACE_KINDS

KINDS = tuple(TRACE_KINDS)  # fault, throttle, error, ok: a row is the first it has
INDENT = "\u2003"  # an em space per level: Plotly keeps it where it would trim plain spaces


def waterfall_rows(segs: pd.DataFrame, root_state: str | None = None) -> pd.DataFrame:
    """The trace's rows in tree order with `depth`, `label`, `kind` (fault/throttle/error/ok) and
    `root_call`: the last faulting call (fault, throttle or error, at any depth) below the root state."""
    if segs.empty:
        return segs.assign(depth=[], label=[], kind=[], root_call=[])
    ordered = segs.sort_values(["start_time", "segment_id"], kind="stable")
    rows = [{k: None if _missing(v) else v for k, v in r.items()} for r in ordered.to_dict("records")]
    ids = {r["segment_id"] for r in rows}
    children: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        parent = r["parent_id"] if r["parent_id"] in ids else None
        children.setdefault(parent, []).append(r)
    out: list[dict[str, Any]] = []
    stack = [(r, 0, False) for r in reversed(children.get(None, []))]
    while stack:  # depth first, by start within each level
        r, depth, under_root = stack.pop()
        under_root = under_root or (root_state is not None and r.get("state_name") == root_state)
        out.append({**r, "depth": depth, "_under_root": under_root})
        stack += [(c, depth + 1, under_root) for c in reversed(children.get(r["segment_id"], []))]
    df = pd.DataFrame(out)
    df["kind"] = [_kind(r) for r in out]
    df["label"] = [INDENT * r["depth"] + _label(r) for r in out]
    calls = df[df["_under_root"] & df["namespace"].isin(["aws", "remote"]) & (df["kind"] != "ok")]
    df["root_call"] = False
    if len(calls):
        df.loc[calls.index[-1], "root_call"] = True
    return df.drop(columns=["_under_root"])


def _missing(v: Any) -> bool:
    return v is None or (not isinstance(v, (list, dict)) and bool(pd.isna(v)))


def _kind(r: Mapping[str, Any]) -> str:
    return next((k for k in KINDS[:3] if r.get(k)), "ok")


def _label(r: Mapping[str, Any]) -> str:
    name = str(r.get("name") or r.get("segment_id"))
    if r.get("state_name"):
        return f"{name} (state)"
    op = r.get("aws_operation")
    if op and r.get("namespace"):
        return f"{name} {op}"
    origin = r.get("origin")
    return f"{name} ({origin})" if origin else name


def waterfall(rows: pd.DataFrame, title: str) -> go.Figure:
    """One bar per segment in tree order, coloured by fault/throttle/error/ok; the root call outlined."""
    fig = go.Figure()
    d = rows.copy()
    d["end_time"] = d["end_time"].fillna(d["start_time"])
    d["_ms"] = (d["end_time"] - d["start_time"]).dt.total_seconds() * 1000
    span = max(float((d["end_time"].max() - d["start_time"].min()).total_seconds() * 1000), 1.0)
    labels = plain(f"{i:03d} {lbl}" for i, lbl in enumerate(d["label"]))  # unique, in order
    d["_y"] = labels
    for kind in KINDS:
        part = d[d["kind"] == kind]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                base=part["start_time"],
                x=part["_ms"].clip(lower=span * 0.004),
                y=part["_y"],
                orientation="h",
                name=TRACE_KINDS[kind][1],
                marker_color=TRACE_KINDS[kind][0],
                marker_line_color=["black" if r else TRACE_KINDS[kind][0] for r in part["root_call"]],
                marker_line_width=[3 if r else 0 for r in part["root_call"]],
                customdata=part["_ms"].tolist(),
                hovertemplate="%{y}<br>%{base|%H:%M:%S.%L} + %{customdata:,.0f} ms<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        barmode="overlay",
        height=max(260, 24 * len(d) + 120),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        template="plotly_white",
    )
    fig.update_xaxes(type="date")
    fig.update_yaxes(
        autorange="reversed",
        type="category",
        categoryorder="array",
        categoryarray=labels,
        tickvals=labels,
        ticktext=[lbl.split(" ", 1)[1] for lbl in labels],
    )
    return fig


def no_trace_reason(
    ex: Mapping[str, Any], machine: Mapping[str, Any] | None, lookup: Mapping[str, Any] | None
) -> str:
    """Why an execution has no trace in the lake, in one sentence."""
    status = (lookup or {}).get("status")
    if status == "EXPIRED":
        return (
            "No trace: it had expired when traces were first collected for this execution "
            "(X-Ray keeps traces 30 days)."
        )
    if status == "NOT_SAMPLED":
        return "No trace: X-Ray did not sample this execution (no trace arrived within an hour of its end)."
    if status == "PENDING":
        n = int((lookup or {}).get("attempts") or 0)
        return f"No trace yet: looked for {n} time(s) since the execution ended; the next collection looks again."
    if not ex.get("trace_id") and not (machine or {}).get("tracing_enabled"):
        return (
            "No trace: X-Ray tracing is off for this state machine and the execution was started "
            "without a trace header."
        )
    if ex.get("status") == "RUNNING":
        return "No trace yet: the execution is still running."
    return "No trace in the lake for this execution: traces were not collected for it (`stepscope collect --source traces`)."
