"""The shared sidebar: global filters as widgets bound to the URL's query parameters.

A value a link gives that names nothing in the lake (a misspelt domain, a machine of another domain, a
period that does not exist) stays selected and in the URL, as one more option of its widget: Streamlit
drops a bound value that is not an option, and the link would silently show another view. The page
says what is wrong with it instead (`problems`, shown by frame.open_page).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.filters import CUSTOM, DEFAULT_PERIOD, PERIOD_CHOICES, Filters, from_params
from dashboard.filters import problems as check

ALL = ""
BOUND = "query-params"


def _utc(value: object) -> datetime | None:
    """A datetime input's value (naive, meant as UTC) as an aware UTC time."""
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def current() -> Filters:
    """The filters in force: the sidebar's widgets when the router drew them, else the URL. A machine is
    its ARN when the label names one (of the chosen domain); otherwise the label as given."""
    ss = st.session_state
    if "period" in ss:
        f = Filters(
            ss.get("domain") or None,
            ss.get("machine") or None,
            ss["period"] or DEFAULT_PERIOD,
            _utc(ss.get("from")),
            _utc(ss.get("to")),
        )
    else:
        f = from_params(st.query_params.to_dict())
    if f.machine:
        machines = data.state_machines()
        if f.machine not in set(machines["state_machine_arn"]):
            scope = machines if not f.domain else machines[machines["domain"] == f.domain]
            labels = machine_labels(scope)
            arn = next((a for a, label in labels.items() if label == f.machine), None)
            f = Filters(f.domain, arn or f.machine, f.period, f.since, f.until)
    return f


def problems(f: Filters) -> list[tuple[str, str]]:
    """What is wrong with the filters a link or the widgets gave (see filters.problems)."""
    machines = data.state_machines()
    domains = set(machines["domain"].dropna()) | set(data.domains()["domain"].dropna())
    machine_domains = dict(zip(machines["state_machine_arn"], machines["domain"], strict=True))
    return check(f, domains, machine_labels(machines), machine_domains, scoped=not data.scope().everything)


def machine_labels(machines: pd.DataFrame) -> dict[str, str]:
    """ARN → label: the name, with the Region and account added where names clash (labels go in the URL)."""
    counts = machines["name"].value_counts()
    labels = {}
    for r in machines.itertuples():
        labels[r.state_machine_arn] = (
            r.name if counts[r.name] == 1 else f"{r.name} ({r.region}, {r.account_id})"
        )
    return labels


def _kept(param: str, known: Sequence[str]) -> list[str]:
    """The URL's value of `param` when it is none of `known`: kept as an option so it stays in the URL."""
    value = st.query_params.get(param)
    return [value] if value and value not in known else []


def _start_custom_range() -> None:
    """Switching to the custom period starts from the window shown until then (both ends, so the range
    is in the URL at once)."""
    ss = st.session_state
    shown = ss.get("_shown_window")
    if ss.get("period") == CUSTOM and shown:
        ss["from"], ss["to"] = (t.astimezone(UTC).replace(tzinfo=None) for t in shown)


def render() -> Filters:
    """Draw the filters; each widget is bound to its query parameter so any view is a shareable link.

    A bound selectbox keeps its label in the URL: `?domain=payments&machine=<state machine name>&period=7d`;
    a custom range its ends: `?period=custom&from=2026-11-19T14:00&to=2026-11-19T16:30` (UTC).
    """
    machines = data.state_machines()
    domains = sorted(set(machines["domain"].dropna()))
    with st.sidebar:
        dom = st.selectbox(
            "Domain",
            [ALL, *domains, *_kept("domain", domains)],
            key="domain",
            bind=BOUND,
            format_func=lambda d: d or "All domains",
        )
        in_scope = machines if dom not in domains else machines[machines["domain"] == dom]
        names = machine_labels(in_scope)
        st.selectbox(
            "State machine",
            [ALL, *sorted(names, key=lambda a: names[a]), *_kept("machine", list(names.values()))],
            key="machine",
            bind=BOUND,
            format_func=lambda a: names.get(a, a) if a else "All state machines",
        )
        period = st.segmented_control(
            "Period",
            [*PERIOD_CHOICES, *_kept("period", PERIOD_CHOICES)],
            key="period",
            default=DEFAULT_PERIOD,
            required=True,
            bind=BOUND,
            on_change=_start_custom_range,
        )
        if period == CUSTOM:
            st.datetime_input("From (UTC)", value=None, key="from", bind=BOUND, step=60)
            st.datetime_input("To (UTC)", value=None, key="to", bind=BOUND, step=60)
        f = current()
        if not problems(f):
            start, end = data.period_window(f)
            st.session_state["_shown_window"] = (start, end)
            st.caption(f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC")
    return f
