"""The on-call triage list: failures with their error group's 'new' marker, shaped for a narrow screen; pure."""

from __future__ import annotations

import urllib.parse

import pandas as pd

from dashboard.components.text import duration, shorten
from queries.signature import signature

CAUSE_CHARS = 70
NEW = "NEW"
# Most important first, so a 1400 px window shows what on-call needs without scrolling sideways.
COLUMNS = [
    "link",
    "start_time",
    "status",
    "new",
    "failed_state",
    "error",
    "cause_short",
    "state_machine_name",
    "name",
    "duration",
    "redrive_status",
    "domain",
    "cause",
]


def execution_link(arn: str) -> str:
    """The relative link that opens one execution's page."""
    return f"execution?{urllib.parse.urlencode({'execution': arn})}"


def triage_view(triage: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Triage rows in display order with a link, 'NEW' where the row's error group first appeared in the
    period (matched by the same signature the error groups use), a short cause and a human duration."""
    new = set(groups.loc[groups["is_new"].fillna(False).astype(bool), "signature"]) if len(groups) else set()
    sigs = [
        signature(e, s, c)
        for e, s, c in zip(
            _texts(triage["error"]), _texts(triage["failed_state"]), _texts(triage["cause"]), strict=True
        )
    ]
    view = triage.assign(
        link=[execution_link(a) for a in triage["execution_arn"]],
        new=[NEW if s in new else "" for s in sigs],
        cause_short=[shorten(c, CAUSE_CHARS) for c in triage["cause"]],
        duration=[duration(v) for v in triage["duration_ms"]],
    )
    return view[COLUMNS]


def _texts(values: pd.Series) -> list[str | None]:
    return [None if v is None or v != v else str(v) for v in values]
