"""State machine versions shaped for reading: labels, the per-version table, and when each newer version
started taking traffic; pure (DataFrames in, DataFrames and lists out)."""

from __future__ import annotations

import pandas as pd

from dashboard.components.text import duration

UNVERSIONED = "latest (unversioned)"
VIEW_COLUMNS = [
    "state_machine_name",
    "version",
    "version_arn",
    "alias",
    "executions",
    "failure_rate",
    "p50",
    "p95",
    "first_seen",
]


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def version_label(version_arn: object) -> str:
    """'v3' for a version ARN (…:stateMachine:name:3), 'latest (unversioned)' when the unqualified state
    machine ran (no version ARN)."""
    if _missing(version_arn):
        return UNVERSIONED
    tail = str(version_arn).rsplit(":", 1)[-1]
    return f"v{tail}" if tail.isdigit() else tail


def alias_label(alias_arn: object) -> str:
    """The alias name of an alias ARN (…:stateMachine:name:prod → 'prod'), '' when started without one."""
    return "" if _missing(alias_arn) else str(alias_arn).rsplit(":", 1)[-1]


def ran_several(figures: pd.DataFrame) -> list[str]:
    """The state machines of `version_figures` rows that ran more than one version or alias."""
    if figures.empty:
        return []
    rows = figures.groupby("state_machine_arn", sort=True).size()
    return [str(arn) for arn in rows[rows > 1].index]


def new_version_starts(figures: pd.DataFrame) -> list[tuple[str, pd.Timestamp]]:
    """(label, first start) of every version after the first to take traffic, in order of first start:
    where a chart marks "v2 takes traffic". Rows of one state machine (aliases of a version merged)."""
    if figures.empty:
        return []
    firsts = (
        figures.assign(version=[version_label(v) for v in figures["version_arn"]])
        .groupby("version", sort=False)["first_start"]
        .min()
        .sort_values(kind="stable")
    )
    return [(str(label), pd.Timestamp(ts)) for label, ts in firsts.iloc[1:].items()]


def versions_view(figures: pd.DataFrame) -> pd.DataFrame:
    """`version_figures` rows as a table: version label, version ARN, alias, executions, failure rate,
    p50/p95 in human units ('2.3 s'), first seen; by state machine, then first seen."""
    rows = figures.sort_values(["state_machine_name", "first_start"], kind="stable").reset_index(drop=True)
    return rows.assign(
        version=[version_label(v) for v in rows["version_arn"]],
        alias=[alias_label(a) for a in rows["alias_arn"]],
        p50=[duration(v) for v in rows["p50_ms"]],
        p95=[duration(v) for v in rows["p95_ms"]],
        first_seen=rows["first_start"],
    )[VIEW_COLUMNS]


def daily_view(daily: pd.DataFrame) -> pd.DataFrame:
    """`version_figures(by_day=True)` rows with each version's label, for a chart line per version."""
    return daily.assign(version=[version_label(v) for v in daily["version_arn"]])
