"""Plotly figure builders: each takes a DataFrame (and column names) and returns a figure."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.palette import NEUTRAL, RUN_COLOURS


def plain(values: Iterable[object]) -> list[str]:
    """Labels for Plotly, which reads `<b>`, `<a href>` and friends in text: escape so AWS text stays text."""
    return [html.escape(str(v), quote=False) for v in values]


_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "template": "plotly_white"}


def _empty(title: str, message: str = "No data in this period") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#6e7781"})
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False}, height=220, **_LAYOUT)
    return fig


def heatmap(
    df: pd.DataFrame,
    x: str,
    y: str,
    z: str,
    title: str,
    *,
    x_order: Sequence[object] | None = None,
    y_order: Sequence[object] | None = None,
) -> go.Figure:
    """Counts of `z` over an `x` × `y` grid (missing cells are 0), white → red."""
    if df.empty:
        return _empty(title)
    grid = df.pivot_table(index=y, columns=x, values=z, aggfunc="sum", fill_value=0)
    if x_order is not None:
        grid = grid.reindex(columns=list(x_order), fill_value=0)
    if y_order is not None:
        grid = grid.reindex(index=list(y_order), fill_value=0)
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy().tolist(),
            x=plain(grid.columns),
            y=plain(grid.index),
            colorscale=[[0, "#ffffff"], [0.15, "#ffd8b5"], [1, "#b31d28"]],
            hoverongaps=False,
            hovertemplate=f"{y}: %{{y}}<br>{x}: %{{x}}<br>{z}: %{{z}}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=max(260, 32 * len(grid.index) + 120), **_LAYOUT)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def attainment(
    df: pd.DataFrame, x: str, y: str, objective: float | None, title: str, group: str | None = None
) -> go.Figure:
    """Success-rate attainment per period (one line per group) against the objective line."""
    if df.empty:
        return _empty(title)
    fig = go.Figure()
    for key, part in [(None, df)] if group is None else df.groupby(group, sort=True):
        name = plain([key[0] if isinstance(key, tuple) else key])[0] if key is not None else "attainment"
        fig.add_trace(go.Scatter(x=part[x], y=part[y] * 100, mode="lines+markers", name=name))
    if objective is not None:
        fig.add_hline(
            y=objective * 100,
            line_dash="dash",
            line_color="#d1242f",
            annotation_text=f"objective {objective:.2%}",
            annotation_position="bottom right",
        )
    fig.update_layout(title=title, yaxis_title="success %", height=340, **_LAYOUT)
    return fig


def burndown(df: pd.DataFrame, x: str, actual: str, ideal: str, title: str) -> go.Figure:
    """Error budget remaining over the window: actual against the ideal straight line."""
    if df.empty:
        return _empty(title)
    fig = go.Figure(
        [
            go.Scatter(x=df[x], y=df[actual] * 100, mode="lines", name="actual", line={"width": 3}),
            go.Scatter(x=df[x], y=df[ideal] * 100, mode="lines", name="ideal", line={"dash": "dash"}),
        ]
    )
    fig.add_hline(y=0, line_color="#d1242f")
    fig.update_layout(title=title, yaxis_title="error budget left %", height=340, **_LAYOUT)
    if "window_start" in df and "window_end" in df:  # the whole window, also when it has just begun
        fig.update_xaxes(range=[df["window_start"].iloc[0], df["window_end"].iloc[0]])
    # Below -100 % the budget is overspent whatever the figure: a few executions early in a window
    # would otherwise stretch the axis to -5000 % and flatten everything else.
    low = df[actual].min() * 100 if df[actual].notna().any() else 0
    if low < -100:
        fig.update_yaxes(range=[-105, 105])
        fig.add_annotation(
            text=f"overspent: {low:,.0f}% left at worst",
            xref="paper",
            yref="y",
            x=0.99,
            y=-100,
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font={"color": "#d1242f"},
        )
    return fig


UNITS = (("h", 3_600_000.0), ("min", 60_000.0), ("s", 1000.0), ("ms", 1.0))


def time_unit(values: Iterable[float | None]) -> tuple[str, float]:
    """The unit (name, ms per unit) that keeps the largest value readable: 6.1 h rather than 21,960 s."""
    peak = max((float(v) for v in values if v is not None and v == v), default=0.0)
    return next(((name, size) for name, size in UNITS if peak >= 2 * size), ("ms", 1.0))


def _series_name(column: str) -> str:
    return column.removesuffix("_ms")


def latency(
    df: pd.DataFrame,
    x: str,
    series: Sequence[str],
    target_ms: float | None,
    title: str,
    markers: Sequence[tuple[str, pd.Timestamp]] = (),
) -> go.Figure:
    """Latency percentiles per period, in a unit fitting the values, against the target as a dashed line;
    with `markers` ((label, start) pairs), a dashed line where each newer version started taking traffic."""
    if df.empty:
        return _empty(title)
    cols = [s for s in series if s in df]
    unit, size = time_unit([*[v for c in cols for v in df[c]], target_ms])
    fig = go.Figure(
        [
            go.Scatter(
                x=df[x],
                y=df[c] / size,
                mode="lines+markers",
                name=_series_name(c),
                hovertemplate=f"%{{x}}<br>{_series_name(c)} %{{y:.3g}} {unit}<extra></extra>",
            )
            for c in cols
        ]
    )
    if target_ms is not None:
        fig.add_hline(
            y=target_ms / size,
            line_dash="dash",
            line_color="#d1242f",
            annotation_text=f"target {target_ms / size:g} {unit}",
            annotation_position="top left",
        )
    _mark_version_starts(fig, markers)
    fig.update_layout(title=title, yaxis_title=unit, yaxis_rangemode="tozero", height=340, **_LAYOUT)
    return fig


def duration_percentiles(
    df: pd.DataFrame, label: str, columns: Sequence[str], title: str, threshold: str | None = None
) -> go.Figure:
    """Per-row duration percentiles as grouped horizontal bars (log scale, unit fitting the values); with
    `threshold`, each row's latency target drawn as a marker on its bars."""
    if df.empty:
        return _empty(title)
    cols = [c for c in columns if c in df]
    targets = df[threshold] if threshold and threshold in df else None
    unit, size = time_unit([*[v for c in cols for v in df[c]], *(targets if targets is not None else [])])
    labels = plain(df[label])
    fig = go.Figure(
        [
            go.Bar(
                y=labels,
                x=df[c] / size,
                name=_series_name(c),
                orientation="h",
                hovertemplate=f"%{{y}}<br>{_series_name(c)} %{{x:.3g}} {unit}<extra></extra>",
            )
            for c in cols
        ]
    )
    if targets is not None and targets.notna().any():
        has = targets.notna().to_numpy()
        fig.add_trace(
            go.Scatter(
                y=[lbl for lbl, h in zip(labels, has, strict=True) if h],
                x=(targets[has] / size).tolist(),
                name="latency target",
                mode="markers",
                marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": "#d1242f"}},
                hovertemplate=f"%{{y}}<br>target %{{x:.3g}} {unit}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title=f"{unit} (log scale)",
        xaxis_type="log",
        barmode="group",
        height=max(260, 28 * len(df) * max(1, len(cols)) // 2 + 120),
        **_LAYOUT,
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def timeline(df: pd.DataFrame, start: str, end: str, label: str, status: str, title: str) -> go.Figure:
    """A Gantt chart of state runs: one bar per run, coloured by status."""
    if df.empty:
        return _empty(title, "No state runs recorded for this execution")
    fig = go.Figure()
    d = df.copy()
    d[end] = d[end].fillna(d[start])
    d["_ms"] = (d[end] - d[start]).dt.total_seconds() * 1000
    span = max(float((d[end].max() - d[start].min()).total_seconds() * 1000), 1.0)
    for st_name, part in d.groupby(status, sort=False):
        name = plain([st_name])[0]
        fig.add_trace(
            go.Bar(
                # instant states (Choice, Pass, Fail) get a sliver of width so they stay visible
                base=part[start],
                x=part["_ms"].clip(lower=span * 0.004),
                y=plain(part[label]),
                orientation="h",
                name=name,
                marker_color=RUN_COLOURS.get(str(st_name), NEUTRAL),
                customdata=part["_ms"].tolist(),
                hovertemplate="%{y}<br>%{base|%H:%M:%S.%L} + %{customdata:,.0f} ms<extra>"
                + name
                + "</extra>",
            )
        )
    fig.update_layout(
        title=title, barmode="overlay", height=max(260, 26 * d[label].nunique() + 120), **_LAYOUT
    )
    fig.update_xaxes(type="date")
    fig.update_yaxes(
        autorange="reversed",
        type="category",
        categoryorder="array",
        categoryarray=plain(dict.fromkeys(d[label])),
    )
    return fig


def _mark_version_starts(fig: go.Figure, markers: Sequence[tuple[str, pd.Timestamp]]) -> None:
    """A dashed vertical line and a "<label> takes traffic" note where each newer version started."""
    for label, ts in markers:
        x = pd.Timestamp(ts).isoformat()  # an ISO string: a date axis reads it, the JSON spec keeps it
        fig.add_shape(
            type="line",
            x0=x,
            x1=x,
            xref="x",
            y0=0,
            y1=1,
            yref="paper",
            line={"dash": "dash", "color": "#6e7781", "width": 1.5},
        )
        fig.add_annotation(
            x=x,
            y=1,
            xref="x",
            yref="paper",
            text=plain([f"{label} takes traffic"])[0],
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 12, "color": "#57606a"},
        )


def version_p95(
    df: pd.DataFrame,
    x: str,
    y: str,
    group: str,
    title: str,
    markers: Sequence[tuple[str, pd.Timestamp]] = (),
) -> go.Figure:
    """Latency per period with one line per version (`group`, in order of first appearance), in a unit
    fitting the values, and a dashed marker where each newer version started taking traffic (`markers`:
    (label, start) pairs)."""
    if df.empty:
        return _empty(title)
    unit, size = time_unit(df[y])
    d = df.sort_values(x, kind="stable")
    fig = go.Figure(
        [
            go.Scatter(
                x=part[x],
                y=part[y] / size,
                mode="lines+markers",
                name=plain([key])[0],
                hovertemplate=f"%{{x}}<br>{plain([key])[0]} {_series_name(y)} %{{y:.3g}} {unit}<extra></extra>",
            )
            for key, part in d.groupby(group, sort=False)
        ]
    )
    _mark_version_starts(fig, markers)
    fig.update_layout(title=title, yaxis_title=unit, yaxis_rangemode="tozero", height=340, **_LAYOUT)
    fig.update_xaxes(type="date")
    return fig
