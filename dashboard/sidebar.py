"""The shared sidebar: global filters as widgets bound to the URL's query parameters."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.filters import DEFAULT_PERIOD, PERIODS, Filters, from_params

ALL = ""


def current() -> Filters:
    """The filters in force: the sidebar's widgets when the router drew them, else the URL."""
    ss = st.session_state
    if "period" in ss:
        return Filters(ss.get("domain") or None, ss.get("machine") or None, ss["period"] or DEFAULT_PERIOD)
    f = from_params(st.query_params.to_dict())
    if f.machine:  # the URL holds the machine's label (see render); pages work with its ARN
        labels = machine_labels(data.state_machines())
        arn = next((a for a, label in labels.items() if label == f.machine), None)
        f = Filters(f.domain, arn, f.period)
    return f


def machine_labels(machines: pd.DataFrame) -> dict[str, str]:
    """ARN → label: the name, with the Region and account added where names clash (labels go in the URL)."""
    counts = machines["name"].value_counts()
    labels = {}
    for r in machines.itertuples():
        labels[r.state_machine_arn] = (
            r.name if counts[r.name] == 1 else f"{r.name} ({r.region}, {r.account_id})"
        )
    return labels


def render() -> Filters:
    """Draw the filters; each widget is bound to its query parameter so any view is a shareable link.

    A bound selectbox keeps its label in the URL: `?domain=payments&machine=<state machine name>&period=7d`.
    """
    machines = data.state_machines()
    domains = sorted(set(machines["domain"].dropna()))
    with st.sidebar:
        dom = st.selectbox(
            "Domain",
            [ALL, *domains],
            key="domain",
            bind="query-params",
            format_func=lambda d: d or "All domains",
        )
        in_scope = machines if not dom else machines[machines["domain"] == dom]
        names = machine_labels(in_scope)
        st.selectbox(
            "State machine",
            [ALL, *sorted(names, key=lambda a: names[a])],
            key="machine",
            bind="query-params",
            format_func=lambda a: names.get(a, a) if a else "All state machines",
        )
        st.segmented_control(
            "Period", list(PERIODS), key="period", default=DEFAULT_PERIOD, required=True, bind="query-params"
        )
        f = current()
        start, end = data.period_window(f.period)
        st.caption(f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC")
    return f
