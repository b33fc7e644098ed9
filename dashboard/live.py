"""Auto-refresh for a page watched during an incident: a toggle (in the URL, `?live=true`) and a small
fragment that looks every REFRESH_S seconds and reruns the page only when something changed.

What can change is the lake (a new write: `data.lake_version`, a few file stats, no query) and the
window of a period that ends now. When neither has, nothing reruns; when one has, the page reruns and
its queries run again only for what the new version or window changes (results are cached by both).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from dashboard import data, sidebar

REFRESH_S = 30


def auto_refresh(window: tuple[datetime, datetime]) -> None:
    """The toggle, and while it is on, the watcher of the lake and of the page's `window`."""
    on = st.toggle(
        f"Auto-refresh every {REFRESH_S} s",
        key="live",
        bind="query-params",
        help="Looks for newly collected data and a moved window every "
        f"{REFRESH_S} s; the page is redrawn only when one of them changed.",
    )
    if on:
        _watch(data.lake_version(), window)


@st.fragment(run_every=REFRESH_S)
def _watch(version: Any, window: tuple[datetime, datetime]) -> None:
    """Rerun the page when the lake's version or the filters' window is not what the page was drawn with
    (the arguments of the last full run)."""
    if data.lake_version() != version or data.period_window(sidebar.current()) != window:
        st.rerun(scope="app")
