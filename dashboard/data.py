"""The pages' only door to the lake: a cached `queries` connection and cached, TTL-bound results.

The connection is shared (`st.cache_resource`); `queries.Queries` opens a fresh DuckDB cursor per
call, so viewers in different threads never share one. Results are cached per argument set for
`TTL_S` seconds: a page re-run (a click, a filter change back and forth) costs no query.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import queries
from dashboard import filters
from queries import sla_config
from queries.extent import extent
from queries.sla_config import Objective, SlaConfig, SlaConfigError

TTL_S = 300
STATUS_TTL_S = 30
LAKE_ENV, SLAS_ENV = "STEPSCOPE_LAKE", "STEPSCOPE_SLAS"


def lake_uri() -> str:
    """The lake to show: $STEPSCOPE_LAKE, default ./demo-lake."""
    return os.environ.get(LAKE_ENV) or "demo-lake"


def slas_path() -> str | None:
    """The SLA file: $STEPSCOPE_SLAS, else ./slas.yaml when present, else None (built-in defaults)."""
    env = os.environ.get(SLAS_ENV)
    if env:
        return env
    return "slas.yaml" if Path("slas.yaml").is_file() else None


@st.cache_resource(show_spinner=False)
def _connect(uri: str) -> queries.Queries:
    return queries.connect(uri)


def _q() -> queries.Queries:
    return _connect(lake_uri())


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_slas(path: str | None, mtime: float | None) -> SlaConfig:  # mtime: part of the cache key
    return sla_config.load(path) if path else sla_config.default()


def slas() -> SlaConfig:
    """The validated SLA configuration (SlaConfigError names the file and the problem); an edited file
    is read again."""
    path = slas_path()
    mtime = os.path.getmtime(path) if path and os.path.exists(path) else None
    return _load_slas(path, mtime)


def slas_problem() -> str | None:
    """Why the SLA file cannot be used (its path, the key and what is allowed), or None when it is valid."""
    try:
        slas()
    except SlaConfigError as e:
        return str(e)
    return None


def slas_warnings() -> list[str]:
    """Parts of a valid SLA file that have no effect on this lake, one plain message each: keys naming no
    domain or state machine of the lake (with a "did you mean"), and machine latency objectives left
    without a threshold under a `latency: none` domain. [] when the file is invalid (see slas_problem).

    Built from the cached catalogue (`state_machines`, `domains`): no query of its own."""
    try:
        cfg = slas()
    except SlaConfigError:
        return []
    if not cfg.domains and not cfg.machine_overrides:
        return []
    machines = state_machines()
    rows = [
        (arn, name, dom if isinstance(dom, str) else None)  # a machine without a domain: NaN → None
        for arn, name, dom in zip(
            machines["state_machine_arn"], machines["name"], machines["domain"], strict=True
        )
    ]
    known = set(domains()["domain"].dropna()) | set(machines["domain"].dropna())
    unknown = sla_config.unknown_keys(cfg, known, [(arn, name) for arn, name, _ in rows])
    return unknown + sla_config.latency_gaps(cfg, rows)


@dataclass(frozen=True)
class LakeStatus:
    """What the lake holds, enough to decide between the pages and the 'no data yet' page.

    Built from the metadata file and a listing of partition folders, never from a scan of the
    executions: it runs before every page and must stay cheap on a lake of any size.
    """

    uri: str
    exists: bool
    source: str | None
    partitions: int  # executions partitions (domain × day)
    newest_day: date | None  # newest executions partition
    meta: dict[str, Any] | None
    error: str | None = None  # why the lake could not be read (network, credentials, permissions)
    format_error: str | None = None  # why this version does not read it, and the command that mends it

    @property
    def ready(self) -> bool:
        return self.exists and self.partitions > 0 and self.error is None and self.format_error is None

    @property
    def demo(self) -> bool:
        return self.source == "demo"

    @property
    def now(self) -> datetime:
        """The lake's 'now': the end of a simulated window, else the clock (capped at the newest data's day)."""
        end = (self.meta or {}).get("window_end") if self.demo else None
        if end:
            return pd.Timestamp(end).tz_convert("UTC").to_pydatetime()
        now = datetime.now(UTC)
        if self.newest_day is not None:
            day_after = datetime.combine(self.newest_day, time(), UTC) + timedelta(days=1)
            return min(now, day_after)
        return now


@st.cache_data(ttl=STATUS_TTL_S, show_spinner=False)
def lake_status() -> LakeStatus:
    """The lake's metadata and extent (missing lake → exists=False)."""
    e = extent(lake_uri())  # metadata and a folder listing: no database, no scan
    return LakeStatus(
        uri=e.uri,
        exists=e.exists,
        source=(e.meta or {}).get("source"),
        partitions=len(e.days),
        newest_day=e.newest_day,
        meta=e.meta,
        error=e.error,
        format_error=e.format_error,
    )


def period_window(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a period ending at the lake's 'now' (see LakeStatus.now)."""
    return filters.window(period, lake_status().now)


def objective(domain: str | None, machine_arn: str | None) -> Objective:
    """The SLA objective in force for a scope (a machine, a domain, or the defaults)."""
    cfg = slas()
    m = machine(machine_arn)
    if m:
        return cfg.for_machine(m["state_machine_arn"], m["name"], m["domain"])
    return cfg.for_domain(domain) if domain else cfg.defaults


# -- catalogue -------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL_S, show_spinner=False)
def state_machines(domain: str | None = None) -> pd.DataFrame:
    return _q().state_machines(domain)


def machine(arn: str | None) -> dict[str, Any] | None:
    """One state machine's row (with its definition), or None."""
    if not arn:
        return None
    m = state_machines()
    row = m[m["state_machine_arn"] == arn]
    return row.iloc[0].to_dict() if len(row) else None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def domains() -> pd.DataFrame:
    return _q().domains()


# -- SLA -------------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL_S, show_spinner=False)
def sla_report(
    start: datetime | None, end: datetime, by: str = "domain", domain: str | None = None
) -> pd.DataFrame:
    """The SLA report over [start, end), or, without a start, each key over its own objective's window."""
    return _q().sla_report(slas(), start, end, by=by, domain=domain)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def sla_attainment_series(
    start: datetime, end: datetime, grain: str, domain: str | None, machine_arn: str | None
) -> pd.DataFrame:
    return _q().sla_attainment_series(
        slas(), start, end, grain=grain, domain=domain, state_machine_arn=machine_arn
    )


@st.cache_data(ttl=TTL_S, show_spinner=False)
def budget_burndown(end: datetime, domain: str | None, machine_arn: str | None) -> pd.DataFrame:
    return _q().budget_burndown(slas(), end, domain=domain, state_machine_arn=machine_arn)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def burn_rate_alerts(now: datetime, domain: str | None) -> pd.DataFrame:
    return _q().burn_rate_alerts(slas(), now, domain=domain)


# -- failures --------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL_S, show_spinner=False)
def failures_by_machine_hour(start: datetime, end: datetime, domain: str | None) -> pd.DataFrame:
    return _q().failures_by_machine_hour(start, end, domain)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def failures_by_state_day(
    start: datetime, end: datetime, domain: str | None, machine_arn: str | None
) -> pd.DataFrame:
    return _q().failures_by_state_day(start, end, domain, machine_arn)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def failures_by_error_machine(start: datetime, end: datetime, domain: str | None) -> pd.DataFrame:
    return _q().failures_by_error_machine(start, end, domain)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def error_groups(start: datetime, end: datetime, domain: str | None, machine_arn: str | None) -> pd.DataFrame:
    return _q().error_groups(start, end, domain, machine_arn)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def triage_list(
    start: datetime, end: datetime, domain: str | None, machine_arn: str | None, limit: int = 100
) -> pd.DataFrame:
    return _q().triage_list(start, end, domain, machine_arn, limit=limit)


# -- one execution ---------------------------------------------------------------------------------
@st.cache_data(ttl=TTL_S, show_spinner=False)
def execution(arn: str) -> dict[str, Any] | None:
    return _q().execution(arn)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def execution_state_runs(arn: str) -> pd.DataFrame:
    return _q().execution_state_runs(arn)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def execution_events(arn: str) -> pd.DataFrame:
    return _q().execution_events(arn)


# -- flows -----------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL_S, show_spinner=False)
def flow_states(machine_arn: str, start: datetime, end: datetime) -> pd.DataFrame:
    return _q().flow_states(machine_arn, start, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def flow_edges(machine_arn: str, start: datetime, end: datetime) -> pd.DataFrame:
    return _q().flow_edges(machine_arn, start, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def flow_paths(machine_arn: str, start: datetime, end: datetime, limit: int = 10) -> pd.DataFrame:
    return _q().flow_paths(machine_arn, start, end, limit=limit)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def state_durations(machine_arn: str, start: datetime, end: datetime) -> pd.DataFrame:
    return _q().state_durations(machine_arn, start, end)


# -- audit and operations --------------------------------------------------------------------------
@st.cache_data(ttl=TTL_S, show_spinner=False)
def audit_preview(domain: str, start: datetime, end: datetime, limit: int) -> pd.DataFrame:
    """The first `limit` audit rows (the page never loads a whole period)."""
    return _q().audit_rows(domain, start, end, slas(), limit=limit)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def audit_count(domain: str, start: datetime, end: datetime) -> int:
    return _q().audit_count(domain, start, end)


@st.cache_data(ttl=TTL_S, max_entries=8, show_spinner=False)
def audit_export(domain: str, start: datetime, end: datetime, file_name: str) -> tuple[Path, bytes]:
    """Write the audit CSV and its manifest with the export command's own function, streamed from the
    lake (bounded memory), in a fresh folder so the manifest starts a new chain. Returns the CSV's path
    (read only when the user downloads it) and the manifest's bytes."""
    from queries.export import MANIFEST_SUFFIX, export_audit

    arguments = {"lake": lake_uri(), "domain": domain, "from": start, "to": end, "config": slas_path()}
    out = Path(tempfile.mkdtemp(prefix="stepscope-audit-")) / file_name
    export_audit(_q().audit_batches(domain, start, end, slas()), out, arguments)
    return out, out.with_name(out.name + MANIFEST_SUFFIX).read_bytes()


@st.cache_data(ttl=STATUS_TTL_S, show_spinner=False)
def collection_health(now: datetime) -> pd.DataFrame:
    return _q().collection_health(now)


# -- versions --------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL_S, show_spinner=False)
def version_figures(
    machine_arn: str | None, start: datetime, end: datetime, domain: str | None, by_day: bool = False
) -> pd.DataFrame:
    """Per version and alias of a machine (None: every machine of the domain); `by_day`: p95 per day."""
    return _q().version_figures(machine_arn, start, end, domain=domain, by_day=by_day)
