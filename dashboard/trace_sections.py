"""The X-Ray sections of the pages, each one call from its page: an execution's trace as a waterfall
under its state timeline, or why it has none (Execution), and the downstream calls of each Task state
with their fault rate (Flows). UI only: the rows come from `data`, the shapes from components.waterfall."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.components.text import md_escape
from dashboard.components.waterfall import no_trace_reason, waterfall, waterfall_rows


def execution_trace_section(ex: dict[str, Any], machine: dict[str, Any] | None) -> None:
    """Execution: the trace (state → Lambda → downstream calls), the call behind the root failure marked."""
    st.subheader("Trace")
    segs = data.execution_trace(ex["execution_arn"])
    if segs.empty:
        st.info(
            no_trace_reason(ex, machine, data.trace_lookup(ex["execution_arn"])), icon=":material/timeline:"
        )
        return
    rows = waterfall_rows(segs, ex.get("root_state"))
    st.plotly_chart(waterfall(rows, "X-Ray trace: state → Lambda → downstream calls"), width="stretch")
    marked = rows[rows["root_call"]]
    if len(marked):
        call = marked.iloc[0]
        status = f"HTTP {int(call['http_status'])}" if pd.notna(call["http_status"]) else call["kind"]
        st.caption(
            f"Outlined: {md_escape(call['label'].strip())} ({md_escape(status)}), the call that failed under "
            f"{md_escape(ex.get('root_state'))}, the state whose failure ({md_escape(ex.get('root_error'))}) "
            "ended this execution."
        )
    else:
        st.caption(
            "Red: faults (5xx); orange: throttles (429); amber: errors (4xx). Indented: called by the row above."
        )


def downstream_section(machine_arn: str, start: datetime, end: datetime) -> None:
    """Flows: per Task state, the downstream services it calls (from the traces) and how often they fault."""
    st.subheader("Downstream calls per state")
    calls = data.state_downstream(machine_arn, start, end)
    if calls.empty:
        st.caption("No X-Ray traces of this state machine's executions in the period.")
        return
    st.caption(
        "From the X-Ray traces of the period: each call below a state (made by the state itself or by the "
        "Lambda function it invoked), with its fault rate (5xx) and p95 duration."
    )
    st.dataframe(
        calls[
            [
                "state_name",
                "service",
                "operation",
                "calls",
                "fault_rate",
                "faults",
                "throttles",
                "errors",
                "p95_ms",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "state_name": "State",
            "service": "Service",
            "operation": "Operation",
            "calls": st.column_config.NumberColumn("Calls", format="localized"),
            "fault_rate": st.column_config.NumberColumn("Fault rate", format="percent"),
            "faults": st.column_config.NumberColumn("Faults", format="localized"),
            "throttles": st.column_config.NumberColumn("Throttles", format="localized"),
            "errors": st.column_config.NumberColumn("Errors", format="localized"),
            "p95_ms": st.column_config.NumberColumn("p95 (ms)", format="localized"),
        },
    )
