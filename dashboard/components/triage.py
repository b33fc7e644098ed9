"""The on-call triage list: failures with their root failure first, the terminal error beside it and their
error group's 'new' marker, shaped for a narrow screen; pure."""

from __future__ import annotations

import urllib.parse

import pandas as pd

from dashboard.components.text import duration, shorten

CAUSE_CHARS = 70
NEW = "NEW"
# Most important first, so a 1400 px window shows what on-call needs without scrolling sideways.
COLUMNS = [
    "link",
    "start_time",
    "status",
    "new",
    "where",
    "root_error",
    "cause_short",
    "state_machine_name",
    "failed_state",
    "error",
    "name",
    "duration",
    "redrive_status",
    "domain",
    "root_cause",
]


def execution_link(arn: str) -> str:
    """The relative link that opens one execution's page."""
    return f"execution?{urllib.parse.urlencode({'execution': arn})}"


def root_where(state: object, path: object) -> str | None:
    """Where the root failure happened: the state, after its enclosing Map/Parallel states and iterations."""
    if not isinstance(state, str):
        return None
    return f"{path}/{state}" if isinstance(path, str) and path else state


def triage_view(triage: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Triage rows in display order with a link, 'NEW' where the row's error group (the signature of its
    root failure, as the error groups count it) first appeared in the period, where the root failure
    happened, a short cause and a human duration."""
    new = set(groups.loc[groups["is_new"].fillna(False).astype(bool), "signature"]) if len(groups) else set()
    view = triage.assign(
        link=[execution_link(a) for a in triage["execution_arn"]],
        new=[NEW if s in new else "" for s in triage["signature"]],
        where=[root_where(s, p) for s, p in zip(triage["root_state"], triage["root_path"], strict=True)],
        cause_short=[shorten(c, CAUSE_CHARS) for c in triage["root_cause"]],
        duration=[duration(v) for v in triage["duration_ms"]],
    )
    return view[COLUMNS]
