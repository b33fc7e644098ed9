"""Auto-refresh for a page watched during an incident: a toggle (in the URL, `?live=true`) and a small
fragment that looks every REFRESH_S seconds (or STEPSCOPE_REFRESH_S) and reruns the page only when something changed.

What can change is the lake (a new write: `data.lake_version`, a few file stats, no query) and the
window of a period that ends now. When neither has, nothing reruns; when one has, the page reruns and
its queries run again only for what the new version or window changes (results are cached by both).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import streamlit as st

from dashboard import data, sidebar

REFRESH_S = (
    30  # the default interval; STEPSCOPE_REFRESH_S sets another (whole seconds, at least MIN_REFRESH_S)
)
MIN_REFRESH_S = 2


def refresh_seconds() -> tuple[int, str | None]:
    """The interval from the environment, and what is wrong with the setting (None when nothing is)."""
    raw = os.environ.get("STEPSCOPE_REFRESH_S", "").strip()
    if not raw:
        return REFRESH_S, None
    if raw.isdigit() and int(raw) >= MIN_REFRESH_S:
        return int(raw), None
    return REFRESH_S, (
        f"STEPSCOPE_REFRESH_S={raw!r} is not a whole number of seconds of at least {MIN_REFRESH_S}: "
        f"refreshing every {REFRESH_S} s."
    )


def auto_refresh(window: tuple[datetime, datetime]) -> None:
    """The toggle, and while it is on, the watcher of the lake and of the page's `window`."""
    every, problem = refresh_seconds()
    on = st.toggle(
        f"Auto-refresh every {every} s",
        key="live",
        bind="query-params",
        help="Looks for newly collected data and a moved window every "
        f"{every} s; the page is redrawn only when one of them changed.",
    )
    if on:
        if problem:
            st.warning(problem)
        st.fragment(_watch, run_every=every)(data.lake_version(), window)


def _watch(version: Any, window: tuple[datetime, datetime]) -> None:
    """Rerun the page when the lake's version or the filters' window is not what the page was drawn with
    (the arguments of the last full run)."""
    if data.lake_version() != version or data.period_window(sidebar.current()) != window:
        st.rerun(scope="app")
