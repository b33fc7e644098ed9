"""The CloudWatch Logs section of the Health page: the machines whose executions are read from their
logs (EXPRESS ones, STANDARD ones under `--history-source logs`), which of them can be judged for an SLA
and why not. UI only: the figures come from `data`, the judgement from `queries.log_coverage`."""

from __future__ import annotations

import streamlit as st

from dashboard import data


def coverage_section() -> None:
    """Health: per machine read from logs, its logging level, what the lake holds and whether an SLA
    verdict on it means anything."""
    st.subheader("Executions read from CloudWatch Logs")
    df = data.log_coverage()
    if df.empty:
        st.caption(
            "No EXPRESS machine, and no machine collected with `--history-source logs`: every history "
            "comes from the Step Functions API."
        )
        return
    st.caption(
        "EXPRESS workflows have no history API: their executions exist only as the records the machine "
        "logs. Only level ALL records the starts and successes an SLA is computed from."
    )
    unjudged = df[~df["judgeable"]]
    if len(unjudged):
        st.warning(
            f"{len(unjudged)} machine(s) cannot be judged for an SLA: their logs do not record every "
            "execution, so success rates and durations would be made up. Set their logging level to ALL.",
            icon=":material/visibility_off:",
        )
    else:
        st.success(
            "Every machine read from its logs logs ALL: its SLA figures are complete.",
            icon=":material/check_circle:",
        )
    view = df.assign(sla=["judged" if j else "cannot be judged" for j in df["judgeable"]])
    st.dataframe(
        view[["name", "domain", "type", "logging_level", "sla", "why", "partial_executions", "last_error"]],
        hide_index=True,
        width="stretch",
        height="content",
        placeholder="–",
        column_config={
            "name": "State machine",
            "domain": "Domain",
            "type": "Type",
            "logging_level": "Log level",
            "sla": "SLA",
            "why": st.column_config.TextColumn("What the lake holds", width="large"),
            "partial_executions": st.column_config.NumberColumn(
                "Partial executions",
                help="Executions whose records are not whole (logged below ALL, or not delivered yet)",
            ),
            "last_error": "Last error",
        },
    )
