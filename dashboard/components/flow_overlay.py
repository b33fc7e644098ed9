"""Flow figures (per-state rows, transition counts, an execution's runs) → a graph Overlay; pure."""

from __future__ import annotations

import pandas as pd

from dashboard.components.graph import Overlay, resolve_state_id
from dashboard.components.text import duration
from lake.asl import START, Graph

METRICS = {"failure_rate": "Failures", "problem_rate": "Failures + caught", "p95_ms": "p95 duration"}


def flow_overlay(graph: Graph, states: pd.DataFrame, edges: pd.DataFrame, metric: str) -> Overlay:
    """Heat by failure rate ('failure_rate'), failures plus caught errors ('problem_rate') or p95 duration
    ('p95_ms'); visit, failure, caught and transition counts."""
    heat: dict[str, float] = {}
    notes: dict[str, str] = {}
    peak = float(states["p95_ms"].max()) if len(states) and states["p95_ms"].notna().any() else 0.0
    for r in states.itertuples():
        sid = resolve_state_id(graph, r.state_name, r.parent_state)
        if sid is None:
            continue
        caught = int(getattr(r, "caught", 0) or 0)
        rate = r.failures / r.visits if r.visits else 0.0
        # a Task whose errors were all caught fails 0 % yet is where things go wrong: say so
        caught_note = f" · {caught:,} caught" if caught else ""
        if metric == "p95_ms":
            heat[sid] = (float(r.p95_ms) / peak) if peak and pd.notna(r.p95_ms) else 0.0
            notes[sid] = f"{_visits(r.visits)} · p95 {duration(r.p95_ms)}{caught_note}"
        else:
            if metric == "problem_rate":
                rate = (r.failures + caught) / r.visits if r.visits else 0.0
            heat[sid] = min(rate * 5, 1.0)  # 20 % of visits or more is full red
            notes[sid] = f"{_visits(r.visits)} · {_pct(r.failures, r.visits)} failed{caught_note}"
    counts: dict[tuple[str, str], int] = {}
    for r in edges.itertuples():
        src = resolve_state_id(graph, r.from_state, r.parent_state)
        if src is None:
            continue
        if r.to_state is None or pd.isna(r.to_state):
            st = graph.states[src]
            dst = graph.end_node(st.parent, st.branch)
        else:
            dst = resolve_state_id(graph, r.to_state, r.parent_state)
        if dst is not None:
            counts[(src, dst)] = counts.get((src, dst), 0) + int(r.count)
    return Overlay(heat=heat, node_notes=notes, edge_counts=counts)


def execution_overlay(graph: Graph, runs: pd.DataFrame, failed_state: str | None) -> Overlay:
    """The path one execution took (states it entered) and the state it failed in."""
    path = [START]
    for r in runs.itertuples():
        sid = resolve_state_id(graph, r.state_name, r.parent_state if pd.notna(r.parent_state) else None)
        if sid is not None:
            path.append(sid)
    failed = None
    if failed_state:
        failed_runs = runs[(runs["state_name"] == failed_state)]
        parent = (
            failed_runs["parent_state"].dropna().iloc[0]
            if failed_runs["parent_state"].notna().any()
            else None
        )
        failed = resolve_state_id(graph, failed_state, parent)
    return Overlay(path=path, failed=failed)


def _pct(n: float, d: float) -> str:
    return f"{n / d:.1%}" if d else "0.0%"


def _visits(n: float) -> str:
    return "1 visit" if int(n) == 1 else f"{int(n):,} visits"


def task_retries(runs: pd.DataFrame) -> int:
    """Retries of an execution's Task state runs: the sum of attempts - 1 (other state types never retry)."""
    tasks = runs[runs["state_type"] == "Task"]
    attempts = pd.to_numeric(tasks["attempts"], errors="coerce").fillna(1)
    return int((attempts - 1).clip(lower=0).sum())
