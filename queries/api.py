"""`Queries`: one DuckDB database over one lake; each method runs one question file on its own cursor."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from fsspec.implementations.arrow import ArrowFSWrapper

from lake.store import Lake
from lake.tables import TABLES
from lake.upgrade import UPGRADE_COMMAND, LakeFormatError, check_format
from queries import log_coverage, sla, sla_runs
from queries.audit import rows as audit_files
from queries.loader import load_sql, params_of
from queries.sla_config import Objective, SlaConfig
from queries.source import LakeSource

# DuckDB's default (50) makes LIMIT n lists above it materialise every column of every row.
LATE_MATERIALIZATION_ROWS = 1000
# Audit rows per page (the default), and the most a page may hold; whole periods are streamed.
AUDIT_PAGE_ROWS = 1000
AUDIT_PAGE_MAX = 100_000
# Rows per Arrow record batch when a result is streamed (the audit export): bounded memory, few batches.
# Each batch costs a few hundred calls into Arrow: the CSV of a 30-day export of the bench lake's busiest
# domain renders in ~1.6 CPU-s in batches of 10,000 rows, ~1.4 in 16,384 or 32,768, but 32,768 takes
# the export's peak to ~525 MiB (~450 with 16,384).
STREAM_BATCH_ROWS = 16_384
# How far back the triage list looks first, before reading the whole period.
TRIAGE_FIRST_LOOK = timedelta(days=1)
TS_COLUMNS = (
    "start_time",
    "stop_time",
    "first_seen",
    "last_seen",
    "ts",
    "bucket",
    "entered_time",
    "exited_time",
    "timestamp",
    "redrive_date",
    "watermark",
    "last_collected_at",
    "collected_at",
    "creation_date",
    "first_start",
    "last_start",
    "day",
)


REPORT_COLUMNS = [
    "key",
    "domain",
    "state_machine_arn",
    "state_machine_name",
    "period_start",
    "period_end",
    "executions",
    "succeeded",
    "failed",
    "first_attempt_succeeded",
    "redriven",
    "success_rate",
    "first_attempt_success_rate",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "within_threshold",
    "within_threshold_share",
    "excluded",
    "success_objective",
    "latency_threshold_ms",
    "latency_objective",
    "latency_p95_max_ms",
    "window",
    "min_executions",
    "attainment",
    "budget_total",
    "budget_consumed",
    "budget_remaining",
    "latency_budget_total",
    "latency_budget_consumed",
    "latency_budget_remaining",
    "p95_breaches",
    "status",
    "owner",
]


def connect(lake_uri: str, *, memory_limit: str | None = None, threads: int | None = None) -> Queries:
    """Open the lake at a local path or s3:// URI (the lake need not exist yet)."""
    return Queries(lake_uri, memory_limit=memory_limit, threads=threads)


def _utc(ts: datetime | date, name: str) -> datetime:
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware (UTC), got naive {ts.isoformat()}")
        return ts.astimezone(UTC)
    if isinstance(ts, date):
        return datetime(ts.year, ts.month, ts.day, tzinfo=UTC)
    raise TypeError(f"{name} must be a datetime or date, got {type(ts).__name__}")


def _period(start: datetime | date, end: datetime | date) -> dict[str, Any]:
    """Bound parameters of a half-open period, with the partition dates that can hold it."""
    s, e = _utc(start, "start"), _utc(end, "end")
    if e <= s:
        raise ValueError(f"end ({e.isoformat()}) must be after start ({s.isoformat()})")
    return {"start": s, "end": e, "d0": s.date(), "d1": (e - timedelta(microseconds=1)).date()}


def _exclusion_params(config: SlaConfig, period: dict[str, Any]) -> dict[str, Any]:
    """The maintenance windows that overlap the period (the others cannot hold any of its executions)."""
    ex = [x for x in config.exclusions if x.start < period["end"] and x.end > period["start"]]
    return {
        "xd": [x.domain for x in ex],
        "xm": [x.state_machine for x in ex],
        "xs": [x.start for x in ex],
        "xe": [x.end for x in ex],
    }


class Queries:
    """Answers every question the pages and exports ask; thread-safe (a fresh cursor per call)."""

    def __init__(self, lake_uri: str, *, memory_limit: str | None = None, threads: int | None = None):
        self.lake = Lake(lake_uri)
        check_format(self.lake)  # an older lake is upgraded by its writers, never here
        self.source = LakeSource(self.lake)
        config: dict[str, Any] = {"late_materialization_max_rows": LATE_MATERIALIZATION_ROWS}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        self._con = duckdb.connect(config=config)
        # Set after connecting: these need the bundled icu/parquet extensions loaded first.
        self._con.execute("SET TimeZone = 'UTC'")  # hour(), date_trunc() and dates are UTC, like the lake
        self._con.execute(
            "SET parquet_metadata_cache = true"
        )  # footers are read once per file, not per query
        self._locations: dict[str, tuple[str, date]] = {}
        if not self.lake.local:
            # s3:// files are read through the lake's own S3 filesystem (the AWS credential chain and
            # AWS_ENDPOINT_URL, as the collector writes them): no DuckDB extension to download.
            self._con.register_filesystem(ArrowFSWrapper(self.lake.fs))
        self._con.execute(load_sql("base"))

    def close(self) -> None:
        """Release the database and the empty stand-in files."""
        self._con.close()
        self.source.close()

    # -- plumbing --------------------------------------------------------------------------------
    def _bind(self, name: str, **params: Any) -> dict[str, Any]:
        wanted = params_of(name)
        bound = {k: v for k, v in params.items() if k in wanted}
        for table in TABLES:
            if f"{table}_glob" in wanted:
                bound[f"{table}_glob"] = self.source.glob(table)
        missing = wanted - bound.keys()
        if missing:
            raise TypeError(f"query {name!r} needs parameters {sorted(missing)}")
        return bound

    def _run(self, name: str, **params: Any) -> duckdb.DuckDBPyConnection:
        return self._con.cursor().execute(load_sql(name), self._bind(name, **params))

    def _df(self, name: str, **params: Any) -> pd.DataFrame:
        df = self._run(name, **params).df()
        for col in df.columns:
            if col in TS_COLUMNS and pd.api.types.is_datetime64_any_dtype(df[col]):
                df[col] = (
                    df[col].dt.tz_convert("UTC")
                    if df[col].dt.tz is not None
                    else df[col].dt.tz_localize("UTC")
                )
        return df

    def _derived_partitions(
        self,
        derived: str,
        period: dict[str, Any],
        domain: str | None,
        domains: Collection[str] | None = None,
    ) -> list[tuple[str, str]]:
        """(domain, day) of each executions partition of the period's days, of one domain (None = all;
        `domains`: only those), every one of which has its `derived` partition (LakeFormatError if one is
        missing)."""
        d0, d1 = period["d0"].isoformat(), period["d1"].isoformat()
        have = set(self.lake.partitions(derived, d0, d1))
        out = [
            (dom, day)
            for dom, day in self.lake.partitions("executions", d0, d1)
            if (domain is None or dom == domain) and (domains is None or dom in domains)
        ]
        missing = [k for k in out if k not in have]
        if missing:
            raise LakeFormatError(
                f"{len(missing)} executions partition(s) of {self.lake.uri} have no {derived} "
                f"(the first: {missing[0][0]} {missing[0][1]}): run "
                f"`{UPGRADE_COMMAND.format(uri=self.lake.uri)}` to rewrite them"
            )
        return out

    def _sla_files(
        self,
        period: dict[str, Any],
        starts: Mapping[str | None, set[date]],
        edge_days: list[date],
        domain: str | None = None,
        domains: Collection[str] | None = None,
    ) -> dict[str, list[str]]:
        """The sla_facts files an SLA read takes, as the sla_rows parameters whole_files (days taken whole)
        and edge_files (edge days), given the window start days of each domain's keys (`starts`; none =
        the period's start). Edge days: `edge_days` and the days a key's window starts on. Days before
        every window of their domain, and other domains than `domain` (None = all), are left out."""
        edges = {d.isoformat() for d in edge_days}
        whole, whole_domains, edge = [], [], []
        for dom, day in self._derived_partitions("sla_facts", period, domain, domains):
            days = starts.get(dom) or {period["d0"]}
            if day < min(days).isoformat():
                continue
            if day <= max(days).isoformat() or day in edges:
                edge.append(self.lake.partition_file("sla_facts", dom, day))
            else:
                whole.append(self.lake.partition_file("sla_facts", dom, day))
                whole_domains.append(dom)
        facts = self.source.empty_file("sla_facts")
        return {
            "whole_files": whole or [facts],
            "edge_files": edge or [facts],
            "whole_domains": whole_domains,
        }

    def _check_rollup(self, rollup: str, source: str) -> None:
        """LakeFormatError when a whole-lake derived table is missing while its source has partitions."""
        if not self.source.present(rollup) and self.source.present(source):
            raise LakeFormatError(
                f"{self.lake.uri} has {source} but no {rollup}: run "
                f"`{UPGRADE_COMMAND.format(uri=self.lake.uri)}` to write it"
            )

    def _failure_files(self, period: dict[str, Any], domain: str | None = None) -> dict[str, list[str]]:
        """The `failures` partitions of the period's days (the failed_executions parameter failure_files),
        of one domain (None = all)."""
        files = [
            self.lake.partition_file("failures", dom, day)
            for dom, day in self._derived_partitions("failures", period, domain)
        ]
        return {"failure_files": files or [self.source.empty_file("failures")]}

    def _failures(self, name: str, period: dict[str, Any], domain: str | None, **params: Any) -> pd.DataFrame:
        """A failure question over the period's failure files."""
        return self._df(name, domain=domain, **period, **params, **self._failure_files(period, domain))

    def _machine_domain(self, state_machine_arn: str) -> str | None:
        row = self._run("machine_domain", state_machine_arn=state_machine_arn).fetchone()
        return row[0] if row else None

    # -- lake ------------------------------------------------------------------------------------
    def lake_info(self) -> dict[str, Any]:
        """Source ('demo'/'aws', None without a lake), tables present, execution counts and time span."""
        meta = self.lake.read_meta()
        dates = (
            sorted({d for _, d in self.lake.partitions("executions")})
            if self.source.present("executions")
            else []
        )
        row = self._run(
            "lake_summary", first_date=dates[0] if dates else None, last_date=dates[-1] if dates else None
        ).fetchone()
        assert row is not None
        return {
            "uri": self.lake.uri,
            "source": (meta or {}).get("source"),
            "meta": meta,
            "tables": [t for t in TABLES if self.source.present(t)],
            "executions": row[0],
            "first_start": row[1],
            "last_start": row[2],
            "domains": row[3],
            "state_machines": row[4],
        }

    def domains(self) -> pd.DataFrame:
        """[domain, state_machines, executions] for every domain seen in state machines or executions."""
        return self._df("domains")

    def domain_names(self) -> list[str]:
        """The names of `domains()` (its catalogue and executions domains) without reading a file: the
        catalogue's and the executions partitions' folder names."""
        known = set(self._machines(None)["domain"].dropna()) | set(self.lake.domains("executions"))
        return sorted(known)

    def state_machines(self, domain: str | None = None) -> pd.DataFrame:
        """State machines (one row each, with its definition), optionally of one domain."""
        return self._df("state_machines", domain=domain)

    # -- SLA -------------------------------------------------------------------------------------
    def _machines(self, domain: str | None) -> pd.DataFrame:
        """[state_machine_arn, name, domain] of every machine the lake knows (of one domain)."""
        return pd.DataFrame(
            self._run("machine_names", domain=domain).fetchall(),
            columns=["state_machine_arn", "name", "domain"],
        )

    def _machine_counts(
        self, params: dict[str, Any], files: dict[str, Any]
    ) -> dict[str, sla_runs.MachineCounts]:
        """Per state machine, the SLA counts: the days taken whole from their runs (sla_runs), the edge rows
        from SQL."""
        whole = files["whole_files"] if files["whole_domains"] else []
        read = sla_runs.read_whole_days(self._con.cursor(), whole)
        if read is None:
            raise LakeFormatError(
                f"the sla_facts of {self.lake.uri} do not match their footers: run "
                f"`{UPGRADE_COMMAND.format(uri=self.lake.uri)}` to rewrite them"
            )
        # The edge rows only: the whole days are counted from their runs, so sla_rows gets none of them.
        edge_files = {**files, "whole_files": [self.source.empty_file("sla_facts")]}
        edge = self._con.cursor().sql(
            load_sql("sla_edge_rows"), params=self._bind("sla_edge_rows", **params, **edge_files)
        )
        return sla_runs.machine_counts(files["whole_domains"], *read, edge.to_arrow_table())

    def _threshold_params(
        self, objectives: dict[str, Objective], default: Objective, since: dict[str, datetime] | None = None
    ) -> dict[str, Any]:
        keys = sorted(objectives)
        return {
            "thr_keys": keys,
            "thr_ms": [_ms(objectives[k].latency_threshold_s) for k in keys],
            "thr_since": [(since or {}).get(k) for k in keys],
            "thr_default_ms": _ms(default.latency_threshold_s),
        }

    def sla_report(
        self,
        config: SlaConfig,
        start: datetime | date | None = None,
        end: datetime | date | None = None,
        by: str = "domain",
        domain: str | None = None,
    ) -> pd.DataFrame:
        """One row per domain (or state machine): volumes, success, latency, budget, status.

        Columns: key, domain, state_machine_arn, state_machine_name, executions, succeeded, failed,
        first_attempt_succeeded, redriven, success_rate, first_attempt_success_rate, p50_ms, p95_ms,
        p99_ms, within_threshold, within_threshold_share, excluded, success_objective,
        latency_threshold_ms, latency_objective, latency_p95_max_ms, window, period_start, period_end,
        attainment (= success_rate, the SLI compared with success_objective), budget_total (failures
        allowed), budget_consumed (failures), budget_remaining (fraction, < 0 when overspent), the
        same three for latency, status (OK/WARNING/BREACHED/INSUFFICIENT_DATA), owner.
        Without start, each row uses its own objective's window ending at `end` (default now).
        """
        if by not in ("domain", "state_machine"):
            raise ValueError(f"by must be 'domain' or 'state_machine', got {by!r}")
        end_ts = _utc(end, "end") if end is not None else datetime.now(UTC)
        machines = self._machines(domain)
        known = self._known_domains(domain, machines)
        objective = {  # every machine's own objective
            arn: config.for_machine(arn, name, dom)
            for arn, name, dom in machines[["state_machine_arn", "name", "domain"]].itertuples(index=False)
        }
        domains = {domain} if domain is not None else known
        keys = objective if by == "state_machine" else {d: config.for_domain(d) for d in domains}
        if start is not None:
            start_ts = _utc(start, "start")
            since = dict.fromkeys(keys, start_ts)
        else:
            # Each key over its own objective's window; one read from the earliest start serves all.
            since = {key: obj.window_start(end_ts) for key, obj in keys.items()}
            start_ts = min(since.values(), default=config.defaults.window_start(end_ts))
        doms = dict(zip(machines["state_machine_arn"], machines["domain"], strict=False))
        period = _period(start_ts, end_ts)
        exclusions = _exclusion_params(config, period)
        # The window start days of the keys each domain's partitions hold.
        starts: dict[str | None, set[date]] = {}  # None: a machine without a domain
        for key, ts in since.items():
            starts.setdefault(key if by == "domain" else doms.get(key), set()).add(ts.astimezone(UTC).date())
        files = self._sla_files(period, starts, _edge_dates(period, exclusions), domain)
        params = {
            "by_machine": by == "state_machine",
            "domain": domain,
            **period,
            **exclusions,
            "since_keys": sorted(since),
            "since_ts": [since[k] for k in sorted(since)],
        }
        counts = self._machine_counts(params, files)
        for arn, k in counts.items():  # machines seen only in executions
            objective.setdefault(arn, config.for_machine(arn, k.name, k.domain))
        rows = (
            self._machine_rows(counts, objective, since, start is None)
            if by == "state_machine"
            else self._domain_rows(counts, objective, keys)
        )
        seen = {r["key"] for r in rows}
        for key in sorted(k for k in keys if k not in seen):  # no executions: INSUFFICIENT_DATA
            zero = sla_runs.MachineCounts(key if by == "domain" else doms.get(key), key, None)
            fig = sla.evaluate(sla_runs.figures([zero], _ms(keys[key].latency_threshold_s)), keys[key])
            rows.append(
                {
                    "key": key,
                    "domain": zero.domain,
                    "state_machine_arn": None if by == "domain" else key,
                    "state_machine_name": None
                    if by == "domain"
                    else machines.set_index("state_machine_arn")["name"].get(key),
                    **sla_runs.figures([zero], None),
                    **fig,
                }
            )
        out = [{**r, "period_start": since.get(r["key"], start_ts), "period_end": end_ts} for r in rows]
        return pd.DataFrame(out, columns=REPORT_COLUMNS).sort_values("key", ignore_index=True)

    @staticmethod
    def _machine_rows(
        counts: dict[str, sla_runs.MachineCounts],
        objective: dict[str, Objective],
        since: dict[str, datetime],
        known_only: bool,
    ) -> list[dict[str, Any]]:
        """One row per machine, judged against its own objective. Over their own windows (`known_only`),
        only the machines with an objective are reported."""
        rows = []
        for arn, k in counts.items():
            if known_only and arn not in since:
                continue
            obj = objective[arn]
            c = sla_runs.figures([k], _ms(obj.latency_threshold_s))
            rows.append(
                {
                    "key": arn,
                    "domain": k.domain,
                    "state_machine_arn": arn,
                    "state_machine_name": k.name,
                    **c,
                    **sla.evaluate(c, obj),
                }
            )
        return rows

    @staticmethod
    def _domain_rows(
        counts: dict[str, sla_runs.MachineCounts],
        objective: dict[str, Objective],
        domains: dict[str, Objective],
    ) -> list[dict[str, Any]]:
        """One row per domain: each execution judged against its own machine's objective (sla.rollup)."""
        by_domain: dict[str | None, list[sla_runs.MachineCounts]] = {}
        for k in counts.values():
            by_domain.setdefault(k.domain, []).append(k)
        rows = []
        for dom, ks in sorted(by_domain.items(), key=lambda x: str(x[0])):
            if dom not in domains:
                continue
            judged = []
            for k in ks:
                c = sla_runs.figures([k], _ms(objective[k.arn].latency_threshold_s))
                judged.append((c, sla.evaluate(c, objective[k.arn])))
            fig = sla.rollup(judged, domains[dom])
            rows.append(
                {
                    "key": dom,
                    "domain": dom,
                    "state_machine_arn": None,
                    "state_machine_name": None,
                    **sla_runs.figures(ks, None),
                    **fig,
                }
            )
        return rows

    def sla_attainment_series(
        self,
        config: SlaConfig,
        start: datetime | date,
        end: datetime | date,
        grain: str = "day",
        domain: str | None = None,
        state_machine_arn: str | None = None,
        domains: Collection[str] | None = None,
    ) -> pd.DataFrame:
        """Per day/week/month: executions, success rate (eventual and first attempt), share within the
        latency threshold, the objectives, and whether each bucket met them. `domains`: with no domain,
        the executions of these domains only (against the default objective, as for every domain)."""
        if grain not in ("day", "week", "month"):
            raise ValueError(f"grain must be day, week or month, got {grain!r}")
        obj = self._scope_objective(config, domain, state_machine_arn)
        if state_machine_arn and domain is None:
            domain = self._machine_domain(state_machine_arn)
        period = _period(start, end)
        exclusions = _exclusion_params(config, period)
        df = self._df(
            "sla_series",
            grain=grain,
            domain=domain,
            state_machine_arn=state_machine_arn,
            thr_ms=_ms(obj.latency_threshold_s),
            **period,
            **exclusions,
            **self._sla_files(period, {}, _edge_dates(period, exclusions), domain, domains),
        )
        df["success_objective"] = obj.success
        df["latency_objective"] = obj.latency_objective
        df["success_met"] = df["success_rate"] >= obj.success
        df["latency_met"] = (
            df["within_threshold_share"] >= obj.latency_objective if obj.latency_objective else None
        )
        return df

    def _scope_objective(
        self, config: SlaConfig, domain: str | None, state_machine_arn: str | None
    ) -> Objective:
        if state_machine_arn:
            m = self.state_machines()
            row = m[m["state_machine_arn"] == state_machine_arn]
            name = row["name"].iloc[0] if len(row) else None
            dom = row["domain"].iloc[0] if len(row) else domain
            return config.for_machine(state_machine_arn, name, dom)
        return config.for_domain(domain) if domain else config.defaults

    def budget_burndown(
        self,
        config: SlaConfig,
        end: datetime | date,
        domain: str | None = None,
        state_machine_arn: str | None = None,
        domains: Collection[str] | None = None,
    ) -> pd.DataFrame:
        """Error budget left over the SLA window ending at `end`, one point per day (`domains`: as in
        sla_attainment_series).

        Columns: ts (end of the day, or `end`), executions, failed (cumulative), budget_total (failures
        allowed so far), budget_remaining (fraction of the window's budget), ideal_remaining (linear over
        the whole window), window_start, window_end (the whole window, also when it has just begun).
        The budget is Σ (1 - objective) × executions over the machines of the scope, each with its own
        objective, in the window up to `end`.
        """
        obj = self._scope_objective(config, domain, state_machine_arn)
        end_ts = _utc(end, "end")
        start_ts = obj.window_start(end_ts)
        window_end = start_ts + timedelta(seconds=sla.window_seconds(obj, end_ts))
        if state_machine_arn and domain is None:
            domain = self._machine_domain(state_machine_arn)
        period = _period(start_ts, end_ts)
        exclusions = _exclusion_params(config, period)
        daily = self._df(
            "budget_burndown",
            domain=domain,
            state_machine_arn=state_machine_arn,
            **period,
            **exclusions,
            **self._sla_files(period, {}, _edge_dates(period, exclusions), domain, domains),
        )
        allowed = 0.0
        per_machine = daily.groupby(["state_machine_arn", "state_machine_name", "domain"], as_index=False)
        for r in per_machine["executions"].sum().itertuples(index=False):
            obj_m = config.for_machine(str(r.state_machine_arn), str(r.state_machine_name), str(r.domain))
            allowed += (1 - obj_m.success) * int(r.executions)
        days = pd.date_range(
            start_ts.replace(hour=0, minute=0, second=0, microsecond=0), end_ts, freq="D", inclusive="left"
        )
        per_day = daily.groupby("day")[["executions", "failed"]].sum().reindex(days, fill_value=0)
        df = pd.DataFrame(
            {
                "ts": [min(d + pd.Timedelta(days=1), pd.Timestamp(end_ts)) for d in days],
                "executions": per_day["executions"].cumsum().astype("int64").to_numpy(),
                "failed": per_day["failed"].cumsum().astype("int64").to_numpy(),
            }
        )
        df["budget_total"] = allowed
        df["budget_remaining"] = [1 - f / allowed if allowed else None for f in df["failed"]]
        span = (window_end - start_ts).total_seconds()
        df["ideal_remaining"] = [1 - (t - start_ts).total_seconds() / span for t in df["ts"]]
        df["window_start"], df["window_end"] = start_ts, window_end
        return df

    def burn_rate_alerts(
        self, config: SlaConfig, now: datetime | date | None = None, domain: str | None = None
    ) -> pd.DataFrame:
        """SRE-workbook multiwindow burn-rate alerts per domain and per state machine.

        One row per scope × rule: domain, state_machine_arn (None for the domain row),
        state_machine_name, severity (page/ticket), long_window, short_window, threshold,
        long_executions, long_failed, long_burn, short_executions, short_failed, short_burn, firing
        (both burns at or above the threshold).
        """
        now_ts = _utc(now, "now") if now is not None else datetime.now(UTC)
        longest = max(r.long_window_s for r in sla.BURN_RULES)
        windows = sorted({w for r in sla.BURN_RULES for w in (r.long_window_s, r.short_window_s)})
        period = _period(now_ts - timedelta(seconds=longest), now_ts)
        counts = self._df(
            "burn_rates",
            domain=domain,
            window_starts=[now_ts - timedelta(seconds=w) for w in windows],
            **period,
            **_exclusion_params(config, period),
        )
        rows = []
        for r in counts.to_dict("records"):
            machine = None if _isna(r["state_machine_arn"]) else r["state_machine_arn"]  # NaN in a domain row
            obj = (
                config.for_domain(r["domain"])
                if machine is None
                else config.for_machine(machine, r["state_machine_name"], r["domain"])
            )
            window_s = sla.window_seconds(obj, now_ts)  # the whole window, never the part elapsed
            by_window = {w: (r["executions"][i], r["failed"][i]) for i, w in enumerate(windows)}
            for rule in sla.BURN_RULES:
                (ln, lf), (sn, sf) = by_window[rule.long_window_s], by_window[rule.short_window_s]
                threshold = rule.threshold(window_s)
                long_burn, short_burn = sla.burn_rate(lf, ln, obj.success), sla.burn_rate(sf, sn, obj.success)
                rows.append(
                    {
                        "domain": r["domain"],
                        "state_machine_arn": machine,
                        "state_machine_name": r["state_machine_name"] if machine else None,
                        "severity": rule.severity,
                        "long_window": _span(rule.long_window_s),
                        "short_window": _span(rule.short_window_s),
                        "threshold": round(threshold, 6),
                        "long_executions": ln,
                        "long_failed": lf,
                        "long_burn": long_burn,
                        "short_executions": sn,
                        "short_failed": sf,
                        "short_burn": short_burn,
                        "firing": sla.firing(long_burn, short_burn, threshold, lf, ln, obj),
                    }
                )
        cols = [
            "domain",
            "state_machine_arn",
            "state_machine_name",
            "severity",
            "long_window",
            "short_window",
            "threshold",
            "long_executions",
            "long_failed",
            "long_burn",
            "short_executions",
            "short_failed",
            "short_burn",
            "firing",
        ]
        return pd.DataFrame(rows, columns=cols)

    # -- failures --------------------------------------------------------------------------------
    def failures_by_machine_hour(
        self,
        start: datetime | date,
        end: datetime | date,
        domain: str | None = None,
        bucket_s: int | None = None,
    ) -> pd.DataFrame:
        """Heatmap cells [state_machine_arn, state_machine_name, domain, hour (0-23 UTC), bucket, failures]:
        per hour of day, or with `bucket_s`, per time bucket of that many seconds (`bucket`, its UTC start;
        `hour` is then empty), for a short period drawn in time order."""
        return self._failures(
            "failures_by_machine_hour",
            _period(start, end),
            domain,
            bucket_s=None if bucket_s is None else int(bucket_s),
        )

    def failures_by_state_day(
        self,
        start: datetime | date,
        end: datetime | date,
        domain: str | None = None,
        state_machine_arn: str | None = None,
    ) -> pd.DataFrame:
        """Heatmap cells [day, failed_state, failures] (the state where failed executions stopped)."""
        return self._failures(
            "failures_by_state_day", _period(start, end), domain, state_machine_arn=state_machine_arn
        )

    def failures_by_error_machine(
        self, start: datetime | date, end: datetime | date, domain: str | None = None
    ) -> pd.DataFrame:
        """Heatmap cells [error, state_machine_arn, state_machine_name, failures]."""
        return self._failures("failures_by_error_machine", _period(start, end), domain)

    def error_groups(
        self,
        start: datetime | date,
        end: datetime | date,
        domain: str | None = None,
        state_machine_arn: str | None = None,
    ) -> pd.DataFrame:
        """The period's failures grouped by the signature of their root failure (root error + root state +
        normalised cause): new groups first, then the biggest.

        Columns: signature, error, root_state, cause_pattern, sample_cause, count, machines, first_seen,
        last_seen (over the whole lake), counts (failures per bucket of the period, oldest first; the
        bucket's width in seconds is `df.attrs["bucket_s"]`), trend (see `trend`), is_new (first seen
        inside the period), sample_execution_arn.
        """
        p = _period(start, end)
        self._check_rollup("error_signatures", "failures")
        bucket_s, buckets, whole = trend_buckets(p["start"], p["end"])
        df = self._df(
            "error_groups",
            domain=domain,
            state_machine_arn=state_machine_arn,
            bucket_s=bucket_s,
            buckets=buckets,
            **p,
            **self._failure_files(p, domain),
        )
        df["trend"] = [trend(list(c)[:whole]) for c in df["counts"]]
        df.attrs["bucket_s"] = bucket_s
        return df

    def triage_list(
        self,
        start: datetime | date,
        end: datetime | date,
        domain: str | None = None,
        state_machine_arn: str | None = None,
        limit: int = 100,
        signature: str | None = None,
    ) -> pd.DataFrame:
        """Most recent failed/timed-out/aborted executions, newest first: root failure (root_state,
        root_path, root_error, root_cause) and its signature, terminal failed state, error and cause,
        duration, redrive. `signature`: only the failures of that error group."""
        period = _period(start, end)
        args: dict[str, Any] = {
            "state_machine_arn": state_machine_arn,
            "limit": int(limit),
            "signature": signature,
        }
        # Newest first: the last day alone usually holds `limit` failures, and then they are the answer
        # (everything before it started earlier), so read its partitions before the whole period's.
        recent = period["end"] - TRIAGE_FIRST_LOOK
        if recent > period["start"]:
            df = self._failures("triage_list", _period(recent, period["end"]), domain, **args)
            if len(df) >= args["limit"]:
                return df
        return self._failures("triage_list", period, domain, **args)

    def similar_failures(
        self, signature: str, domain: str | None = None, limit: int = 10, before: datetime | None = None
    ) -> pd.DataFrame:
        """The latest failures of one error group over the whole lake (started before `before`, if given),
        with triage_list's columns. Only the newest partitions that the error_signatures file says hold
        enough of them are read."""
        self._check_rollup("error_signatures", "failures")
        files, first, found = [], "9999-12-31", 0
        for dom, day, n in self._run("signature_days", signature=signature, domain=domain).fetchall():
            files.append(self.lake.partition_file("failures", dom, day))
            first, found = day, found + n
            if found > limit and before is None:
                break
        return self._df(
            "triage_list",
            failure_files=files or [self.source.empty_file("failures")],
            start=datetime.fromisoformat(first).replace(tzinfo=UTC),
            end=before or datetime.now(UTC) + timedelta(days=1),
            domain=domain,
            state_machine_arn=None,
            limit=int(limit),
            signature=signature,
        )

    # -- one execution ---------------------------------------------------------------------------
    def execution(
        self, arn: str, domain: str | None = None, day: date | None = None
    ) -> dict[str, Any] | None:
        """One execution's row (with `domain` and `date`), or None. `domain`/`day` hints make it faster;
        without them the machine's domain (from the ARN) narrows the search."""
        if domain is None:
            domain = self._machine_domain(_machine_arn_of(arn))
        df = self._df("execution", execution_arn=arn, domain=domain, day=day)
        if not len(df) and domain is not None:  # the hint was wrong: search everywhere
            df = self._df("execution", execution_arn=arn, domain=None, day=None)
        if not len(df):
            return None
        row = df.drop(columns=["is_failed", "is_succeeded", "is_terminal"]).iloc[0].to_dict()
        row["date"] = pd.Timestamp(row["date"]).date()
        self._locations[arn] = (row["domain"], row["date"])
        return {str(k): (None if _isna(v) else v) for k, v in row.items()}  # keys: the column names

    def _locate(self, arn: str) -> tuple[str, date] | None:
        if arn not in self._locations and self.execution(arn) is None:
            return None
        return self._locations[arn]

    def execution_state_runs(self, arn: str) -> pd.DataFrame:
        """The execution's state runs in event order (Map/Parallel children carry parent_state, iteration)."""
        loc = self._locate(arn)
        return self._df(
            "execution_state_runs",
            execution_arn=arn,
            domain=loc[0] if loc else None,
            day=loc[1] if loc else None,
        )

    def execution_events(self, arn: str) -> pd.DataFrame:
        """The execution's history events in id order."""
        loc = self._locate(arn)
        return self._df(
            "execution_events", execution_arn=arn, domain=loc[0] if loc else None, day=loc[1] if loc else None
        )

    # -- flow of one state machine ---------------------------------------------------------------
    def _flow(
        self, name: str, state_machine_arn: str, start: datetime | date, end: datetime | date, **extra: Any
    ) -> pd.DataFrame:
        return self._df(
            name,
            state_machine_arn=state_machine_arn,
            domain=self._machine_domain(state_machine_arn),
            **_period(start, end),
            **extra,
        )

    def flow_states(
        self, state_machine_arn: str, start: datetime | date, end: datetime | date
    ) -> pd.DataFrame:
        """Per state: visits, executions, failures, caught, retries, p50_ms, p95_ms (state runs entered in the period)."""
        return self._flow("flow_states", state_machine_arn, start, end)

    def flow_edges(
        self, state_machine_arn: str, start: datetime | date, end: datetime | date
    ) -> pd.DataFrame:
        """Transitions taken: [parent_state, from_state, to_state, count]."""
        return self._flow("flow_edges", state_machine_arn, start, end)

    def flow_paths(
        self, state_machine_arn: str, start: datetime | date, end: datetime | date, limit: int = 10
    ) -> pd.DataFrame:
        """Most common top-level paths: [path (states joined by ' → '), states, executions, share, failed,
        sample_execution_arn]."""
        return self._flow("flow_paths", state_machine_arn, start, end, limit=int(limit))

    def state_durations(
        self, state_machine_arn: str, start: datetime | date, end: datetime | date
    ) -> pd.DataFrame:
        """Per state: runs, mean_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms (exact)."""
        return self._flow("state_durations", state_machine_arn, start, end)

    def _known_domains(self, domain: str | None, machines: pd.DataFrame) -> set[str]:
        """Every domain of the lake; ValueError when `domain` (None = any) is not one of them."""
        known = set(machines["domain"].dropna()) | {d for d, _ in self.lake.partitions("executions")}
        if domain is not None and domain not in known:
            raise ValueError(
                f"no domain called {domain!r} in the lake (domains: {', '.join(sorted(known)) or 'none'})"
            )
        return known

    # -- audit and operations --------------------------------------------------------------------
    def _audit_params(
        self, domain: str, start: datetime | date, end: datetime | date, config: SlaConfig | None
    ) -> dict[str, Any]:
        from queries import sla_config

        config = config or sla_config.default()
        machines = self._machines(domain)
        self._known_domains(domain, machines)  # an unknown domain is an error, not an empty export
        objectives = {
            arn: config.for_machine(arn, name, dom)
            for arn, name, dom in machines[["state_machine_arn", "name", "domain"]].itertuples(index=False)
        }
        period = _period(start, end)
        return {
            "domain": domain,
            **period,
            **self._threshold_params(objectives, config.for_domain(domain)),
            **_exclusion_params(config, period),
        }

    def audit_rows(
        self,
        domain: str,
        start: datetime | date,
        end: datetime | date,
        config: SlaConfig | None = None,
        limit: int = AUDIT_PAGE_ROWS,
        after: tuple[datetime, str] | None = None,
    ) -> pd.DataFrame:
        """One page of the audit rows of a domain's executions started in the period, in
        (start_time, execution_arn) order: the first `limit` rows, or the first after `after`
        (the start_time and execution_arn of the previous page's last row).

        `sla_met`: succeeded within the machine's latency threshold (if any); None while not terminal
        or inside a maintenance exclusion. Without a config, the defaults apply. A page holds at most
        AUDIT_PAGE_MAX rows: a whole period is read with `audit_batches` (streamed), as the export does.
        """
        if not 0 <= int(limit) <= AUDIT_PAGE_MAX:
            raise ValueError(
                f"limit must be between 0 and {AUDIT_PAGE_MAX}, got {limit} "
                "(read a whole period with audit_batches)"
            )
        params = self._audit_params(domain, start, end, config)
        after_ts, after_arn = (None, None) if after is None else (_utc(after[0], "after"), str(after[1]))
        if after_ts is not None and after_ts > params["start"]:  # earlier partitions cannot hold the page
            params["d0"] = max(params["d0"], after_ts.date())
        return self._df("audit_rows", **params, limit=int(limit), after_ts=after_ts, after_arn=after_arn)

    def audit_count(self, domain: str, start: datetime | date, end: datetime | date) -> int:
        """How many rows `audit_rows` returns for the same domain and period, without reading them."""
        row = self._run("audit_count", domain=domain, **_period(start, end)).fetchone()
        return int(row[0]) if row else 0

    def audit_batches(
        self,
        domain: str,
        start: datetime | date,
        end: datetime | date,
        config: SlaConfig | None = None,
        batch_rows: int = STREAM_BATCH_ROWS,
    ) -> pa.RecordBatchReader:
        """`audit_rows` as Arrow record batches of at most `batch_rows` rows, read as they are consumed
        (what the export writes from, so a long period never sits in memory whole): straight from the
        period's executions files (queries/audit/rows.py), the repeated text columns as dictionaries."""
        if int(batch_rows) < 1:
            raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
        params = self._audit_params(domain, start, end, config)
        rule = audit_files.SlaRule(
            dict(zip(params["thr_keys"], params["thr_ms"], strict=True)),
            params["thr_default_ms"],
            list(zip(params["xd"], params["xm"], params["xs"], params["xe"], strict=True)),
        )
        batches = audit_files.audit_batches(
            self.lake, domain, params["start"], params["end"], rule, int(batch_rows)
        )
        return pa.RecordBatchReader.from_batches(audit_files.SCHEMA, batches)

    def log_coverage(self) -> pd.DataFrame:
        """Per machine read from CloudWatch Logs: name, domain, type, logging_level, include_execution_data,
        log_group_arn, last_collected_at, open_executions, partial_executions, last_error, judgeable (for an
        SLA) and why."""
        return log_coverage.with_judgement(self._df("log_coverage"))

    def collection_health(self, now: datetime | date | None = None) -> pd.DataFrame:
        """Per state machine: last_collected_at, watermark, open_executions, incomplete_histories,
        last_error, lag_s (now - last_collected_at). Empty for a lake never collected from AWS."""
        now_ts = _utc(now, "now") if now is not None else datetime.now(UTC)
        return self._df("collection_health", now=now_ts)

    def source_health(self, now: datetime | date | None = None) -> pd.DataFrame:
        """Per source: keys, oldest_collected_at, last_collected_at, lag_s (now - the oldest), failing_keys,
        an_error (one of their errors)."""
        now_ts = _utc(now, "now") if now is not None else datetime.now(UTC)
        return self._df("source_health", now=now_ts)

    def collection_runs(self, limit: int = 50) -> pd.DataFrame:
        """The newest `limit` collection runs, newest first: run_id, started_at, finished_at, source,
        errors (how many the run recorded). Empty for a lake without a run ledger."""
        return self._df("collection_runs", limit=int(limit))

    # -- versions --------------------------------------------------------------------------------
    def version_figures(
        self,
        state_machine_arn: str | None,
        start: datetime | date,
        end: datetime | date,
        domain: str | None = None,
        by_day: bool = False,
    ) -> pd.DataFrame:
        """Per version and alias of one state machine (or, with `state_machine_arn` None, of every
        machine of `domain`, None = all domains) over executions started in the period, by first start:
        state_machine_arn, state_machine_name, version_arn, alias_arn, executions (terminal), failed,
        failure_rate, p50_ms, p95_ms (exact, terminal executions), first_start, last_start (every
        execution started, running ones too). A null version_arn is the unqualified state machine.

        With `by_day`, the p95 per UTC day and version instead (aliases merged): day, state_machine_arn,
        version_arn, executions (terminal), p95_ms, by day.
        """
        if state_machine_arn and domain is None:
            domain = self._machine_domain(state_machine_arn)
        return self._df(
            "version_daily" if by_day else "version_figures",
            state_machine_arn=state_machine_arn or None,
            domain=domain,
            **_period(start, end),
        )


def _ms(seconds: float | None) -> int | None:
    return int(round(seconds * 1000)) if seconds is not None else None


def _edge_dates(period: dict[str, Any], exclusions: dict[str, Any]) -> list[date]:
    """Partition dates whose executions need their start time checked: the period's first and last, and
    every date an exclusion window touches (the other dates are wholly in or out; a key's own window
    start is the caller's)."""
    edge = {period["d0"], period["d1"]}
    for xs, xe in zip(exclusions["xs"], exclusions["xe"], strict=True):
        first = max(xs, period["start"]).astimezone(UTC).date()
        last = (min(xe, period["end"]) - timedelta(microseconds=1)).astimezone(UTC).date()
        edge.update(first + timedelta(days=i) for i in range((last - first).days + 1))
    return sorted(edge)


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# Bucket widths of a period's failure counts, by the period's length: about 12 to 90 buckets.
TREND_BUCKETS = ((2 * 3600, 300), (12 * 3600, 1800), (48 * 3600, 3600))
DAY_S = 86400


def trend_buckets(start: datetime, end: datetime) -> tuple[int, int, int]:
    """(bucket width in seconds, buckets that cover [start, end), whole buckets among them): buckets run
    from `start`; a last one cut short by `end` is not whole."""
    span = (end - start).total_seconds()
    width = next((w for limit, w in TREND_BUCKETS if span <= limit), DAY_S)
    return width, max(1, math.ceil(span / width)), int(span // width)


TREND_HELP = (
    "Rising or falling: failures in the second half of the period's whole buckets against the first "
    "half, only when the difference is beyond chance (more than two standard deviations of the counts, "
    "taken as Poisson); otherwise steady. A bucket cut short by the end of the period is left out."
)


def trend(counts: list[int]) -> str:
    """'rising', 'falling' or 'steady' (see TREND_HELP): with a = failures in the first half and b in the
    second, the difference is beyond noise when |b - a| > 2·sqrt(a + b)."""
    half = len(counts) // 2
    if half == 0:
        return "steady"
    a, b = sum(counts[:half]), sum(counts[-half:])
    if abs(b - a) <= 2 * math.sqrt(a + b):
        return "steady"
    return "rising" if b > a else "falling"


def _machine_arn_of(execution_arn: str) -> str:
    """arn:aws:states:r:a:execution:machine:name → arn:aws:states:r:a:stateMachine:machine."""
    parts = execution_arn.split(":")
    if len(parts) >= 8 and parts[5] in ("execution", "express"):
        return ":".join([*parts[:5], "stateMachine", parts[6]])
    return ""


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
