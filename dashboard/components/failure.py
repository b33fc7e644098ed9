"""An execution's failure: the root failure first, the terminal error beside it, who owns it, its runbook,
its error group and the latest similar failures."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.components.text import md_escape, shorten
from dashboard.components.triage import execution_link, root_where
from queries.sla_config import Objective

SIMILAR = 5  # latest failures of the same error group shown on an execution


def error_group_link(signature: str, domain: str | None) -> str:
    """The Failures page showing one error group (of one domain, if known)."""
    params = {"signature": signature, **({"domain": domain} if domain else {})}
    return f"failures?{urllib.parse.urlencode(params)}"


def failure_section(ex: dict[str, Any], objective: Objective) -> None:
    """Root state, error and cause; the state and error the execution ended with when they differ."""
    where = root_where(ex.get("root_state"), ex.get("root_path"))
    st.markdown("**Root failure**" + (f" in state {md_escape(where)}" if where else ""))
    st.code(ex.get("root_error") or ex.get("error") or "(no error)", language=None)
    st.code(ex.get("root_cause") or ex.get("cause") or "(no cause)", language=None, wrap_lines=True)
    ended = (ex.get("failed_state"), ex.get("error"))
    if ended != (ex.get("root_state"), ex.get("root_error")) and any(ended):
        st.caption(
            f"The execution ended in state {md_escape(ended[0] or '(unknown)')} with error "
            f"{md_escape(ended[1] or '(none)')}: {md_escape(shorten(ex.get('cause'), 160) or '(no cause)')}"
        )
    who = []
    if objective.owner:
        who.append(f"Owner: **{md_escape(objective.owner)}**")
    cols = st.columns([3, 1, 1])
    cols[0].markdown(" · ".join(who) or "No owner in the SLA file (`owner:` of the domain or state machine).")
    if objective.runbook_url:
        cols[1].link_button("Runbook", objective.runbook_url, icon=":material/menu_book:")
    if ex.get("signature"):
        cols[2].link_button(
            "Error group", error_group_link(ex["signature"], ex.get("domain")), icon=":material/group_work:"
        )


def similar_section(ex: dict[str, Any], similar: pd.DataFrame) -> None:
    """The latest other failures with the same root signature, linked."""
    st.markdown("**Latest similar failures** (same root error, state and cause pattern)")
    if similar.empty:
        st.caption("None: this is the only failure of its group in the lake.")
        return
    st.dataframe(
        similar.assign(link=[execution_link(a) for a in similar["execution_arn"]])[
            ["link", "start_time", "state_machine_name", "name", "status"]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "link": st.column_config.LinkColumn("Open", display_text="open ↗", width=56),
            "start_time": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "state_machine_name": "State machine",
            "name": "Execution",
            "status": "Status",
        },
    )
