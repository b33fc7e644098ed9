"""The pages' only door to the lake: a cached `queries` connection and results cached until the lake changes.

The connection is shared (`st.cache_resource`); `queries.Queries` opens a fresh DuckDB cursor per
call, so viewers in different threads never share one. Results are cached per argument set and per
version of the lake (`lake_version`: the modification times of the files every committed write
rewrites), not for a time: a page re-run on an idle lake costs no query, and the first run after a
collection reads the new data.

Every question is scoped to the person looking (`scope()`: the domains their access rules give, see
dashboard.signin). A question is a `@cached` function: its results are keyed by that scope too, and only
inside one may `queries` be asked (`_q` refuses otherwise). A domain the person may not see raises
NotPermitted; "every domain" means every domain of theirs; rows of other domains never come back. An
execution, a state machine or a domain that is not theirs is answered as one that does not exist.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pandas as pd
import streamlit as st

import queries
from dashboard import filters, signin
from dashboard import freshness as freshness_
from dashboard.access import Grant
from queries import sla_config
from queries.api import trend, trend_buckets
from queries.extent import extent, last_write
from queries.metrics import Metrics
from queries.sla_config import Objective, SlaConfig, SlaConfigError
from queries.traces import Traces

CACHE_ENTRIES = 64  # argument sets kept per function (older lake versions age out)
REMOTE_VERSION_TTL_S = 5  # an s3:// lake's write markers are asked for (HEAD requests) at most this often
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


P = ParamSpec("P")
R = TypeVar("R")


@st.cache_data(ttl=REMOTE_VERSION_TTL_S, show_spinner=False)
def _remote_last_write(uri: str) -> tuple[Any, ...]:
    return last_write(uri)


def lake_version() -> tuple[Any, ...] | None:
    """What changes with every committed write to the lake (see queries.extent.last_write); None when
    the lake cannot be reached. Local lakes: a few stats per call; s3:// lakes: asked every few seconds."""
    uri = lake_uri()
    try:
        return (uri, _remote_last_write(uri) if uri.startswith("s3://") else last_write(uri))
    except OSError:
        return None


class NotPermitted(LookupError):
    """Asked for what the person may not see, or for what does not exist: one answer for both, so a link
    does not tell whether something exists in a domain the person cannot see."""


_GRANT: contextvars.ContextVar[Grant | None] = contextvars.ContextVar("stepscope_grant", default=None)
# Questions whose answers belong to no domain (when the lake was collected, account-level limits, a Lambda
# function's datapoints), shown to anyone who may see the dashboard; every other question applies the scope.
LAKE_WIDE = frozenset({"collection_runs", "headroom", "function_series"})


def session() -> signin.Session:
    """Who is looking and what they may see, for this lake (dashboard.signin)."""
    status = lake_status()
    return signin.session(status.source, status.ready)


def scope() -> Grant:
    """The domains the person may see and export; inside a question, the scope it is keyed by."""
    return _GRANT.get() or session().grant


def cached(fn: Callable[P, R], max_entries: int = CACHE_ENTRIES) -> Callable[P, R]:
    """`st.cache_data` keyed by the lake's version and the person's scope as well as the arguments:
    results stay until the lake changes (no time to live), the first call after a write reads the new
    data, and results never reach a person of another scope. The function runs with that scope
    (`scope()`), and only such a function may ask `queries` (`_q`)."""

    def keyed(version: Any, grant: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        token = _GRANT.set(Grant.from_key(grant))
        try:
            return fn(*args, **kwargs)
        finally:
            _GRANT.reset(token)

    keyed.__module__, keyed.__qualname__ = fn.__module__, fn.__qualname__  # one cache per function
    cache = st.cache_data(show_spinner=False, max_entries=max_entries)(keyed)

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return cache(lake_version(), scope().key, *args, **kwargs)

    call.scoped = True  # type: ignore[attr-defined]  # the tests check every question carries it
    return call


@st.cache_resource(show_spinner=False)
def _connect(uri: str) -> queries.Queries:
    return queries.connect(uri)


def _q() -> queries.Queries:
    """The connection, for a scoped question only (a `@cached` function)."""
    if _GRANT.get() is None:
        raise RuntimeError("dashboard.data: a query outside a @cached function would not be scoped")
    return _connect(lake_uri())


# -- scope -----------------------------------------------------------------------------------------
@cached
def _lake_domains() -> list[str]:
    """Every domain of the lake: what a person's "every domain" is drawn from."""
    return _q().domain_names()


def _domains(domain: str | None) -> list[str | None]:
    """The domains to ask a question about: `domain` when the person may see it (NotPermitted when not);
    for every domain, None when they see them all, else each of theirs in the lake."""
    g = scope()
    if domain is not None:
        if not g.sees(domain):
            raise NotPermitted(f"domain {domain!r}")
        return [domain]
    return [None] if g.everything else [d for d in _lake_domains() if g.sees(d)]


def _only(domains: list[str | None], domain: str | None) -> list[str] | None:
    """`domains` as a restriction for a question asked of every domain (None: none needed)."""
    return None if domain is not None or domains == [None] else [d for d in domains if d]


def _own(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the person's domains (a second guard behind the domain each question is asked for)."""
    g = scope()
    if g.everything or "domain" not in df.columns or not len(df):
        return df
    return df[df["domain"].isin(sorted(g.domains or ()))].reset_index(drop=True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    full = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(full, ignore_index=True) if len(full) > 1 else full[0]
    out.attrs = dict(frames[0].attrs)
    return out


def _each(
    ask: Callable[[str | None], pd.DataFrame],
    domain: str | None,
    merge: Callable[[list[pd.DataFrame]], pd.DataFrame] = _concat,
) -> pd.DataFrame:
    """`ask(domain)` for the person: once when they see that domain (or every domain), else once per
    domain of theirs, the answers merged (their concatenation unless `merge` says otherwise)."""
    domains = _domains(domain)
    if not domains:  # none of their domains is in the lake: an empty answer of the usual columns
        return ask(None).iloc[0:0]
    return _own(ask(domains[0]) if len(domains) == 1 else merge([ask(d) for d in domains]))


def _seen_machine(arn: str) -> None:
    """NotPermitted unless the state machine is one the person may see."""
    if machine(arn) is None:
        raise NotPermitted("state machine")


def _newest(limit: int) -> Callable[[list[pd.DataFrame]], pd.DataFrame]:
    """Failure lists of several domains as one, newest first, the first `limit`."""

    def merge(frames: list[pd.DataFrame]) -> pd.DataFrame:
        out = _concat(frames).sort_values(["start_time", "execution_arn"], ascending=[False, True])
        return out.head(limit).reset_index(drop=True)

    return merge


def _merge_groups(start: datetime, end: datetime) -> Callable[[list[pd.DataFrame]], pd.DataFrame]:
    """Error groups of several domains as one: a signature found in several adds up its counts."""
    whole = trend_buckets(start, end)[2]

    def merge(frames: list[pd.DataFrame]) -> pd.DataFrame:
        df = _concat(frames)
        rows = []
        for _, g in df.groupby("signature", sort=False):
            top = g.loc[g["count"].idxmax()].to_dict()  # the sample of the group's biggest part
            counts = [int(sum(c)) for c in zip(*(list(c) for c in g["counts"]), strict=True)]
            rows.append(
                {
                    **top,
                    "count": int(g["count"].sum()),
                    "machines": int(g["machines"].sum()),  # a machine is of one domain
                    "first_seen": g["first_seen"].min(),
                    "last_seen": g["last_seen"].max(),
                    "counts": counts,
                    "trend": trend(counts[:whole]),
                    "is_new": bool(g["is_new"].all()),
                }
            )
        out = pd.DataFrame(rows, columns=df.columns)
        out = out.sort_values(
            ["is_new", "count", "signature"], ascending=[False, False, True], ignore_index=True
        )
        out.attrs = dict(df.attrs)
        return out

    return merge


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

    Built from the cached catalogue (`state_machines`, `domains`): no query of its own. Only for a person
    who sees every domain: the file names every domain, and its keys are judged against all of them."""
    try:
        cfg = slas()
    except SlaConfigError:
        return []
    if not scope().everything:
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


def lake_status() -> LakeStatus:
    """The lake's metadata and extent (missing lake → exists=False), read again after each write."""
    version = lake_version()
    return _lake_status(version) if version is not None else _read_status(lake_uri())


@st.cache_data(show_spinner=False, max_entries=4)
def _lake_status(version: tuple[Any, ...]) -> LakeStatus:
    return _read_status(version[0])


def _read_status(uri: str) -> LakeStatus:
    e = extent(uri)  # metadata and a folder listing: no database, no scan
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


def period_window(f: filters.Filters) -> tuple[datetime, datetime]:
    """[start, end) of the filters' period: its custom range, or the period ending at the lake's 'now'
    (see LakeStatus.now)."""
    return filters.window(f.period, lake_status().now, f.custom)


@cached
def collection_runs() -> pd.DataFrame:
    """The newest runs of the collection ledger (enough for the usual interval between them): when the
    lake was collected, shown to everyone (it belongs to no domain)."""
    return _q().collection_runs(2 * freshness_.USUAL_RUNS)


def freshness() -> freshness_.Freshness:
    """How fresh the data is: the last successful collection and whether it is late. A simulated lake is
    judged at its own clock (the end of its window), where its one run is never late."""
    status = lake_status()
    return freshness_.freshness(collection_runs(), status.now if status.demo else datetime.now(UTC))


def objective(domain: str | None, machine_arn: str | None) -> Objective:
    """The SLA objective in force for a scope (a machine, a domain, or the defaults)."""
    cfg = slas()
    m = machine(machine_arn)
    if m:
        return cfg.for_machine(m["state_machine_arn"], m["name"], m["domain"])
    return cfg.for_domain(domain) if domain else cfg.defaults


# -- catalogue -------------------------------------------------------------------------------------
@cached
def state_machines(domain: str | None = None) -> pd.DataFrame:
    """The state machines of the person's domains (of one domain)."""
    if domain is not None:
        _domains(domain)  # NotPermitted for a domain of another's
    return _own(_q().state_machines(domain))


def machine(arn: str | None) -> dict[str, Any] | None:
    """One state machine's row (with its definition), or None (also for one the person may not see)."""
    if not arn:
        return None
    m = state_machines()
    row = m[m["state_machine_arn"] == arn]
    return row.iloc[0].to_dict() if len(row) else None


@cached
def domains() -> pd.DataFrame:
    """The person's domains: [domain, state_machines, executions]."""
    return _own(_q().domains())


# -- SLA -------------------------------------------------------------------------------------------
@cached
def sla_report(
    start: datetime | None, end: datetime, by: str = "domain", domain: str | None = None
) -> pd.DataFrame:
    """The SLA report over [start, end), or, without a start, each key over its own objective's window."""

    def by_key(frames: list[pd.DataFrame]) -> pd.DataFrame:
        return _concat(frames).sort_values("key", ignore_index=True)

    return _each(lambda d: _q().sla_report(slas(), start, end, by=by, domain=d), domain, by_key)


@cached
def sla_attainment_series(
    start: datetime, end: datetime, grain: str, domain: str | None, machine_arn: str | None
) -> pd.DataFrame:
    """Per bucket; of every domain of the person's, their executions only (against the defaults)."""
    if machine_arn:
        _seen_machine(machine_arn)
    only = _only(_domains(domain), domain)
    return _q().sla_attainment_series(
        slas(), start, end, grain=grain, domain=domain, state_machine_arn=machine_arn, domains=only
    )


@cached
def budget_burndown(end: datetime, domain: str | None, machine_arn: str | None) -> pd.DataFrame:
    """The error budget over the window; of every domain of the person's, their executions only."""
    if machine_arn:
        _seen_machine(machine_arn)
    only = _only(_domains(domain), domain)
    return _q().budget_burndown(slas(), end, domain=domain, state_machine_arn=machine_arn, domains=only)


@cached
def burn_rate_alerts(now: datetime, domain: str | None) -> pd.DataFrame:
    return _each(lambda d: _q().burn_rate_alerts(slas(), now, domain=d), domain)


# -- failures --------------------------------------------------------------------------------------
@cached
def failures_by_machine_hour(
    start: datetime, end: datetime, domain: str | None, bucket_s: int | None = None
) -> pd.DataFrame:
    """Per machine and hour of day, or per `bucket_s` time bucket (a short period, drawn in time order)."""
    return _each(lambda d: _q().failures_by_machine_hour(start, end, d, bucket_s), domain)


@cached
def failures_by_state_day(
    start: datetime, end: datetime, domain: str | None, machine_arn: str | None
) -> pd.DataFrame:
    if machine_arn:
        _seen_machine(machine_arn)

    def add(frames: list[pd.DataFrame]) -> pd.DataFrame:
        cells = _concat(frames).groupby(["day", "root_state"], as_index=False)["failures"].sum()
        return cells.sort_values(["day", "root_state"], ignore_index=True)

    return _each(lambda d: _q().failures_by_state_day(start, end, d, machine_arn), domain, add)


@cached
def failures_by_error_machine(start: datetime, end: datetime, domain: str | None) -> pd.DataFrame:
    return _each(lambda d: _q().failures_by_error_machine(start, end, d), domain)


@cached
def error_groups(start: datetime, end: datetime, domain: str | None, machine_arn: str | None) -> pd.DataFrame:
    if machine_arn:
        _seen_machine(machine_arn)
    return _each(lambda d: _q().error_groups(start, end, d, machine_arn), domain, _merge_groups(start, end))


@cached
def triage_list(
    start: datetime,
    end: datetime,
    domain: str | None,
    machine_arn: str | None,
    limit: int = 100,
    signature: str | None = None,
) -> pd.DataFrame:
    if machine_arn:
        _seen_machine(machine_arn)
    return _each(
        lambda d: _q().triage_list(start, end, d, machine_arn, limit=limit, signature=signature),
        domain,
        _newest(limit),
    )


@cached
def similar_failures(signature: str, domain: str | None, limit: int = 10) -> pd.DataFrame:
    return _each(lambda d: _q().similar_failures(signature, d, limit=limit), domain, _newest(limit))


# -- one execution ---------------------------------------------------------------------------------
@cached
def execution(arn: str) -> dict[str, Any] | None:
    """One execution of the person's domains, or None: for one of another domain as for one not in the
    lake, so the page says the same of both."""
    ex = _q().execution(arn)
    return ex if ex is not None and scope().sees(ex.get("domain")) else None


def _seen_execution(arn: str) -> None:
    if execution(arn) is None:
        raise NotPermitted("execution")


@cached
def execution_state_runs(arn: str) -> pd.DataFrame:
    _seen_execution(arn)
    return _q().execution_state_runs(arn)


@cached
def execution_events(arn: str) -> pd.DataFrame:
    _seen_execution(arn)
    return _q().execution_events(arn)


# -- flows -----------------------------------------------------------------------------------------
@cached
def flow_states(machine_arn: str, start: datetime, end: datetime) -> pd.DataFrame:
    _seen_machine(machine_arn)
    return _q().flow_states(machine_arn, start, end)


@cached
def flow_edges(machine_arn: str, start: datetime, end: datetime) -> pd.DataFrame:
    _seen_machine(machine_arn)
    return _q().flow_edges(machine_arn, start, end)


@cached
def flow_paths(machine_arn: str, start: datetime, end: datetime, limit: int = 10) -> pd.DataFrame:
    _seen_machine(machine_arn)
    return _q().flow_paths(machine_arn, start, end, limit=limit)


@cached
def state_durations(machine_arn: str, start: datetime, end: datetime) -> pd.DataFrame:
    _seen_machine(machine_arn)
    return _q().state_durations(machine_arn, start, end)


# -- audit and operations --------------------------------------------------------------------------
@cached
def audit_preview(domain: str, start: datetime, end: datetime, limit: int) -> pd.DataFrame:
    """The first `limit` audit rows as the CSV holds them: its columns, its cells (the page never loads a
    whole period)."""
    from queries.export import csv_frame

    _exportable(domain)
    return csv_frame(_q().audit_rows(domain, start, end, slas(), limit=limit))


def _exportable(domain: str) -> None:
    if not scope().may_export(domain):
        raise NotPermitted(f"export of {domain!r}")


@cached
def audit_count(domain: str, start: datetime, end: datetime) -> int:
    _exportable(domain)
    return _q().audit_count(domain, start, end)


@functools.partial(cached, max_entries=8)  # each entry is a CSV on disk
def audit_export(domain: str, start: datetime, end: datetime) -> tuple[Path, bytes]:
    """Write the audit CSV and its manifest with the export command's own job, streamed from the lake
    (bounded memory), in a fresh folder so the manifest starts a new chain (unsigned). Returns the CSV's
    path, named as `export-audit --from START --to END` names it (read only when the user downloads
    it), and the manifest's bytes."""
    from queries.audit.job import export_audit
    from queries.audit.manifest import MANIFEST_SUFFIX
    from queries.audit.period import explicit

    _exportable(domain)
    arguments = {"lake": lake_uri(), "domain": domain, "from": start, "to": end, "config": slas_path()}
    out = tempfile.mkdtemp(prefix="stepscope-audit-")
    lake = {"uri": lake_uri(), "format_version": _q().lake.format_version()}
    batches = _q().audit_batches(domain, start, end, slas())
    done = export_audit(batches, out, domain, explicit(start, end), arguments, slas=slas_path(), lake=lake)
    path = Path(out) / done.rel
    return path, path.with_name(path.name + MANIFEST_SUFFIX).read_bytes()


def audit_download(domain: str, start: datetime, end: datetime) -> Callable[[], bytes]:
    """The audit CSV of `domain` (see audit_export) as a download button's data: read when the person
    downloads it, and then who downloaded what, when, is appended to the lake's access log."""
    from queries.audit.access_log import record_export

    path, manifest = audit_export(domain, start, end)  # NotPermitted outside the person's exports
    s, uri = session(), lake_uri()
    who = s.email or s.name or ("anonymous" if s.mode in (signin.DEMO, signin.ANONYMOUS) else "unknown")

    def read() -> bytes:  # runs outside the page's script (Streamlit calls it on the click)
        data = path.read_bytes()
        record_export(
            uri,
            who=who,
            domain=domain,
            start=start,
            end=end,
            file=path.name,
            rows=int(json.loads(manifest)["rows"]),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        return data

    return read


@cached
def collection_health(now: datetime) -> pd.DataFrame:
    return _own(_q().collection_health(now))


@cached
def source_health(now: datetime) -> pd.DataFrame:
    """Per source, over every key of the lake: only for a person who sees every domain (else no rows)."""
    health = _q().source_health(now)
    return health if scope().everything else health.iloc[0:0]


@cached
def log_coverage() -> pd.DataFrame:
    return _own(_q().log_coverage())


# -- versions --------------------------------------------------------------------------------------
@cached
def version_figures(
    machine_arn: str | None, start: datetime, end: datetime, domain: str | None, by_day: bool = False
) -> pd.DataFrame:
    """Per version and alias of a machine (None: every machine of the domain); `by_day`: p95 per day."""
    if machine_arn:
        _seen_machine(machine_arn)
        return _q().version_figures(machine_arn, start, end, domain=domain, by_day=by_day)
    return _each(lambda d: _q().version_figures(None, start, end, domain=d, by_day=by_day), domain)


# -- CloudWatch metrics ----------------------------------------------------------------------------
def _m() -> Metrics:
    return Metrics(_q())  # no state of its own: the cached connection's questions


@cached
def completeness_ledger(start: datetime, end: datetime, domain: str | None = None) -> pd.DataFrame:
    """Per machine and day: executions in the lake against CloudWatch's count (queries.metrics)."""
    return _each(lambda d: _m().completeness_ledger(start, end, d), domain)


@cached
def headroom(start: datetime, end: datetime) -> pd.DataFrame:
    """Account-level limits and their use: shown to everyone (they belong to no domain)."""
    return _m().headroom(start, end)


@cached
def machine_throttles(start: datetime, end: datetime, domain: str | None) -> pd.DataFrame:
    return _each(lambda d: _m().machine_throttles(start, end, d), domain)


@cached
def function_metrics(start: datetime, end: datetime, names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The Lambda functions named (those the pages found in a definition the person may see); every
    function of the lake only for a person who sees every domain."""
    fns = _m().functions(start, end, list(names) if names is not None else None)
    return fns if names is not None or scope().everything else fns.iloc[0:0]


@cached
def function_series(function: str, start: datetime, end: datetime) -> pd.DataFrame:
    return _m().function_series(function, start, end)


@cached
def express_costs(start: datetime, end: datetime, domain: str | None) -> pd.DataFrame:
    return _each(lambda d: _m().express_costs(start, end, d), domain)


# -- X-Ray traces ----------------------------------------------------------------------------------
def _t() -> Traces:
    return Traces(_q())  # no state of its own: the cached connection's questions


@cached
def execution_trace(arn: str) -> pd.DataFrame:
    _seen_execution(arn)
    return _t().execution_trace(arn)


@cached
def trace_lookup(arn: str) -> dict[str, Any] | None:
    _seen_execution(arn)
    return _t().trace_lookup(arn)


@cached
def state_downstream(machine_arn: str, start: datetime, end: datetime) -> pd.DataFrame:
    _seen_machine(machine_arn)
    return _t().state_downstream(machine_arn, start, end)
