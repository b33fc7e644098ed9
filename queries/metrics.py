"""Questions asked of the `metrics` table (CloudWatch datapoints), alone or beside the executions:
the completeness ledger, headroom and throttling, the Lambda functions behind the Tasks, Express cost.

    m = queries.metrics.Metrics(queries.connect("demo-lake"))
    m.completeness_ledger(start, end)

Each method runs one question file of `queries/sql/` (ledger_*, metrics_*) on its own cursor of the
`Queries` it is given, with the same period rules (half-open, UTC, `date` partitions first). The
ledger, the functions and the Express costs add up days: they read the daily rollup (`metrics_daily`)
for the period's whole days and the datapoints only for its partial days at the edges (at 10M
executions a 30-day question reads ~9,000 rollup rows instead of ~8M datapoints). Headroom, throttles
and a function's series are drawn in buckets finer than a day, from the datapoints.

The ledger compares, per state machine and UTC day, the executions the lake holds that started that
day with the executions CloudWatch counted as started (Sum of ExecutionsStarted, which AWS emits twice
per execution, 1 then 0: a SampleCount would double it). Both sides count an execution once, on the
day it started, as the lake is partitioned, so a redrive (which starts nothing) changes neither; the
lake's side comes from file footers, with no column of the executions read. CloudWatch's terminal
counts are given beside it, each execution once on the day it first ended (the RedrivenExecutions*
a redrive emits again are taken off).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from lake.asl import Graph
from lake.derived import WEIGHTS
from lake.functions import machine_place, task_function
from lake.layout import NO_DOMAIN
from queries.api import Queries, _period

# Step Functions Express, us-east-1 (aws.amazon.com/step-functions/pricing): $1.00 per million
# requests and $0.00001667 per GB-second for the first tier of duration.
EXPRESS_GB_SECOND_USD = 0.00001667
EXPRESS_REQUEST_USD = 1.0 / 1_000_000
ACCOUNT = NO_DOMAIN  # the partitions of account-level series
# A limit is "near" from this share of it on.
NEAR_LIMIT = 0.8
# A history older than this when it was first listed is gone (ListExecutions and GetExecutionHistory
# keep 90 days after the execution closed).
HISTORY_DAYS = 90
# At most this many points per drawn series: the bucket is the first of these that keeps under it.
MAX_POINTS = 400
BUCKETS_S = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400)

HEADROOM_SERIES = ("open_executions", "open_map_runs", "transitions_per_s", "throttled_transitions")
HEADROOM_COLUMNS = ["bucket", "region", "series", "value", "limit", "use"]
LEDGER_COLUMNS = [
    "state_machine_arn",
    "name",
    "domain",
    "day",
    "lake",
    "cloudwatch_started",
    "missing",
    "cloudwatch_finished",
    "cloudwatch_redriven",
    "status",
    "cause",
    "explanation",
]
CAUSES = {
    "collection_lag": "collection lag: the histories were collected up to {watermark}",
    "expired_history": "expired history: over 90 days old when the machine was first collected",
    "not_tagged": "machine not tagged at the time: the lake has none of its executions before {first}",
    "unexplained": "not explained by the collection's cursors: collect this day again",
    "extra": "the lake holds more than CloudWatch counted (its counts are best effort)",
    "no_metrics": "no CloudWatch datapoints for this day: the metrics were not collected",
}


@dataclass(frozen=True)
class Completeness:
    """The ledger's total: executions collected of those CloudWatch counted, over days it counted."""

    collected: int
    counted: int
    missing: int  # executions CloudWatch counted that the lake lacks, over the days short of them
    gaps: int  # (machine, day) rows short of executions

    def text(self) -> str:
        return f"{self.collected:,} of {self.counted:,} executions collected"


def bucket_seconds(start: datetime, end: datetime) -> int:
    """The time bucket of a drawn series: the smallest of BUCKETS_S giving at most MAX_POINTS points."""
    span = (end - start).total_seconds()
    return next((b for b in BUCKETS_S if span / b <= MAX_POINTS), BUCKETS_S[-1])


class Metrics:
    """The metric questions of one lake, over a `Queries` (its connection and file locations)."""

    def __init__(self, q: Queries):
        self.q = q

    def _df(self, name: str, **params: Any) -> pd.DataFrame:
        return self.q._df(name, **params)

    def _metrics(self, name: str, part: str | None, **params: Any) -> pd.DataFrame:
        """A metric question over the `metrics` files of the period's days (`d0`..`d1`) only: of one
        domain (`part`), the account-level ones (ACCOUNT), or all (None). A list, not a glob: DuckDB
        opens just those files, with no listing or partition filter per query."""
        lake = self.q.lake
        files = [
            lake.partition_file("metrics", dom, day)
            for dom, day in lake.partitions("metrics", params["d0"].isoformat(), params["d1"].isoformat())
            if part is None or dom == part
        ]
        return self._df(name, metrics_files=files or [self.q.source.empty_file("metrics")], **params)

    def _metric_days(self, name: str, domain: str | None, p: dict[str, Any], **params: Any) -> pd.DataFrame:
        """A metric question over `metric_days` (base.sql) in the period `p` (`_period`), of one domain
        (None = all): its whole UTC days from the daily rollup (`days`), its partial days at the edges
        from their metrics files (`edge_files`; none for a period of whole days). A lake with metrics
        but no rollup is refused (LakeFormatError: rebuild-derived)."""
        self.q._check_rollup("metrics_daily", "metrics")
        lake = self.q.lake
        days, edges = set(), []
        for dom, day in lake.partitions("metrics", p["d0"].isoformat(), p["d1"].isoformat()):
            midnight = datetime.fromisoformat(day).replace(tzinfo=UTC)
            if p["start"] <= midnight and midnight + timedelta(days=1) <= p["end"]:
                days.add(midnight.date())
            elif domain is None or dom == domain:
                edges.append(lake.partition_file("metrics", dom, day))
        return self._df(
            name,
            days=sorted(days),
            edge_files=edges or [self.q.source.empty_file("metrics")],
            weighted=[f"{ns}/{metric}" for ns, metric in WEIGHTS],
            weights=list(WEIGHTS.values()),
            domain=domain,
            **p,
            **params,
        )

    # -- completeness ------------------------------------------------------------------------
    def completeness_ledger(
        self, start: datetime | date, end: datetime | date, domain: str | None = None
    ) -> pd.DataFrame:
        """Per state machine and UTC day of [start, end) (whole days), LEDGER_COLUMNS: executions in the
        lake that started that day, CloudWatch's started (Sum of ExecutionsStarted), missing (started −
        lake), CloudWatch's finished and redriven, status (complete / missing / extra / no_metrics) and,
        where it is not complete, the likely cause and its explanation. Only machines the lake knows."""
        p = _period(start, end)
        lake = self._lake_counts(p, domain)
        self.q._check_rollup("metrics_daily", "metrics")  # whole days: the rollup alone
        cw = self._df("ledger_cloudwatch", domain=domain, d0=p["d0"], d1=p["d1"])
        cw["day"] = pd.to_datetime(cw["day"]).dt.date
        rows = lake.merge(cw, on=["state_machine_arn", "day"], how="outer")
        machines = self.q.state_machines(domain)[["state_machine_arn", "name", "domain"]]
        rows = rows.drop(columns=["domain"], errors="ignore").merge(machines, on="state_machine_arn")
        rows["lake"] = rows["lake"].fillna(0).astype("int64")
        rows["missing"] = (rows["cloudwatch_started"] - rows["lake"]).astype("Float64")
        explained = _causes(rows, self._cursors(), self._first_days(rows))
        out = rows.assign(**explained).sort_values(["domain", "name", "day"], ignore_index=True)
        return out[LEDGER_COLUMNS]

    def _lake_counts(self, p: dict[str, Any], domain: str | None) -> pd.DataFrame:
        """[state_machine_arn, day, lake]: executions per machine and start day, from the footers (and the
        unfinished ones from the partitions that hold some)."""
        lake = self.q.lake
        d0, d1 = p["d0"].isoformat(), p["d1"].isoformat()
        parts = [k for k in lake.partitions("executions", d0, d1) if domain is None or k[0] == domain]
        have = set(lake.partitions("sla_facts", d0, d1))
        empty = {"facts_files": [self.q.source.empty_file("sla_facts")]}
        counts = self._df(
            "ledger_lake_counts",
            facts_files=[lake.partition_file("sla_facts", *k) for k in parts if k in have]
            or empty["facts_files"],
            execution_files=[lake.partition_file("executions", *k) for k in parts]
            or [self.q.source.empty_file("executions")],
        )
        counts["day"] = pd.to_datetime(counts["day"]).dt.date
        finished = counts[counts["state_machine_arn"].notna()]
        totals = counts[counts["state_machine_arn"].isna()]
        per_part = finished.groupby(["domain", "day"])["finished"].sum().to_dict()
        short: list[tuple[str, date]] = [
            (dom, day)
            for dom, day, n in zip(totals["domain"], totals["day"], totals["partition_rows"], strict=True)
            if n > per_part.get((dom, day), 0)
        ]
        out = finished[["state_machine_arn", "day", "finished"]].rename(columns={"finished": "lake"})
        if short:
            files = [lake.partition_file("executions", dom, day.isoformat()) for dom, day in short]
            unfinished = self._df("ledger_unfinished", files=files)
            unfinished["day"] = pd.to_datetime(unfinished["day"]).dt.date
            out = pd.concat(
                [
                    out,
                    unfinished[["state_machine_arn", "day", "unfinished"]].rename(
                        columns={"unfinished": "lake"}
                    ),
                ]
            )
        return pd.DataFrame(out.groupby(["state_machine_arn", "day"], as_index=False)["lake"].sum())

    def _cursors(self) -> pd.DataFrame:
        """The histories cursors: [state_machine_arn, watermark, last_collected_at]."""
        h = self.q.collection_health(datetime.now(UTC))
        return h[["state_machine_arn", "watermark", "last_collected_at"]]

    def _first_days(self, rows: pd.DataFrame) -> dict[str, date]:
        """The first day each machine has executions in the lake (within the ledger's rows)."""
        held = rows[rows["lake"] > 0]
        return {str(k): v for k, v in held.groupby("state_machine_arn")["day"].min().items()}

    # -- headroom and throttling -------------------------------------------------------------
    def headroom(self, start: datetime | date, end: datetime | date) -> pd.DataFrame:
        """Per Region, series (open_executions, open_map_runs, transitions_per_s, throttled_transitions)
        and time bucket: value and limit (the burst bucket for throttled transitions), and `use` =
        value / limit. The bucket's width in seconds is `df.attrs["bucket_s"]`."""
        p = _period(start, end)
        bucket = bucket_seconds(p["start"], p["end"])
        wide = self._metrics("metrics_headroom", ACCOUNT, **p, bucket_s=bucket)
        parts = [
            wide[["bucket", "region"]].assign(series=name, value=wide[name], limit=wide[f"{name}_limit"])
            for name in HEADROOM_SERIES
        ]
        df = pd.concat(parts, ignore_index=True) if len(wide) else pd.DataFrame(columns=HEADROOM_COLUMNS)
        df["use"] = df["value"] / df["limit"].where(df["limit"] > 0)
        df.loc[df["series"] == "throttled_transitions", "use"] = None
        df.attrs["bucket_s"] = bucket
        return df[HEADROOM_COLUMNS]

    def machine_throttles(
        self, start: datetime | date, end: datetime | date, domain: str | None = None
    ) -> pd.DataFrame:
        """[bucket, state_machine_arn, throttled]: ExecutionThrottled per machine and time bucket (only
        buckets with some); the bucket's width in seconds is `df.attrs["bucket_s"]`."""
        p = _period(start, end)
        bucket = bucket_seconds(p["start"], p["end"])
        df = self._metrics("metrics_machine_throttles", domain, **p, bucket_s=bucket, domain=domain)
        df.attrs["bucket_s"] = bucket
        return df

    # -- Lambda functions and Express ---------------------------------------------------------
    def functions(
        self, start: datetime | date, end: datetime | date, names: list[str] | None = None
    ) -> pd.DataFrame:
        """Per Lambda function (of `names`, None = all) over the period: invocations, errors, throttles,
        mean_ms, p95_ms (the periods' Average and p95 weighted by invocations), max_ms."""
        return self._metric_days("metrics_functions", None, _period(start, end), functions=names)

    def function_series(self, function: str, start: datetime | date, end: datetime | date) -> pd.DataFrame:
        """One function's datapoints: timestamp, period_s, invocations, errors, throttles, p95_ms, max_ms."""
        return self._metrics("metrics_function_series", None, **_period(start, end), function=function)

    def express_costs(
        self,
        start: datetime | date,
        end: datetime | date,
        domain: str | None = None,
        gb_second_usd: float = EXPRESS_GB_SECOND_USD,
        request_usd: float = EXPRESS_REQUEST_USD,
    ) -> pd.DataFrame:
        """Per Express machine: executions, billed_ms, memory_mb (weighted by billed duration), gb_seconds
        (billed duration x memory, period by period), estimated_cost_usd."""
        return self._metric_days(
            "metrics_express_costs",
            domain,
            _period(start, end),
            gb_second_usd=float(gb_second_usd),
            request_usd=float(request_usd),
        )


def completeness(ledger: pd.DataFrame) -> Completeness:
    """The ledger's total over the days CloudWatch counted."""
    counted = ledger[ledger["cloudwatch_started"].notna()]
    short = counted[counted["missing"] > 0]
    return Completeness(
        int(counted["lake"].sum()),
        int(counted["cloudwatch_started"].sum()),
        int(short["missing"].sum()),
        len(short),
    )


def near_limit(headroom: pd.DataFrame, share: float = NEAR_LIMIT) -> list[str]:
    """One plain sentence per Region and series whose use reached `share` of its limit in the period."""
    names = {
        "open_executions": "open executions",
        "open_map_runs": "open distributed map runs",
        "transitions_per_s": "state transitions per second",
    }
    out = []
    used = headroom[headroom["use"].notna()]
    for (region, series), g in used.groupby(["region", "series"], sort=True):
        top = g.sort_values("use").iloc[-1]
        if top["use"] >= share:
            when = pd.Timestamp(top["bucket"]).strftime("%Y-%m-%d %H:%M")
            out.append(
                f"{region}: {names.get(str(series), str(series))} reached {top['use']:.0%} of the limit "
                f"({top['value']:,.0f} of {top['limit']:,.0f}) at {when} UTC."
            )
    return out


def _causes(rows: pd.DataFrame, cursors: pd.DataFrame, first: dict[str, date]) -> dict[str, list[Any]]:
    """Status, cause and explanation of each ledger row."""
    marks = {str(r["state_machine_arn"]): r for r in cursors.to_dict("records")}
    status, cause, text = [], [], []
    for r in rows.itertuples():
        arn = str(r.state_machine_arn)
        s, k, t = _cause(r, marks.get(arn), first.get(arn))
        status.append(s)
        cause.append(k)
        text.append(t)
    return {"status": status, "cause": cause, "explanation": text}


def _cause(r: Any, cursor: Any, first: date | None) -> tuple[str, str | None, str | None]:
    if pd.isna(r.cloudwatch_started):
        return ("no_metrics", "no_metrics", CAUSES["no_metrics"]) if r.lake else ("complete", None, None)
    if r.missing == 0:
        return "complete", None, None
    if r.missing < 0:
        return "extra", "extra", CAUSES["extra"]
    watermark = cursor["watermark"] if cursor is not None else None
    if watermark is not None and pd.notna(watermark) and r.day >= pd.Timestamp(watermark).date():
        at = pd.Timestamp(watermark).strftime("%Y-%m-%d %H:%M UTC")
        return "missing", "collection_lag", CAUSES["collection_lag"].format(watermark=at)
    collected = cursor["last_collected_at"] if cursor is not None else None
    if collected is not None and pd.notna(collected):
        if r.day < (pd.Timestamp(collected) - timedelta(days=HISTORY_DAYS)).date():
            return "missing", "expired_history", CAUSES["expired_history"]
    if first is None or r.day < first:
        when = first.isoformat() if first else "this period's end"
        return "missing", "not_tagged", CAUSES["not_tagged"].format(first=when)
    return "missing", "unexplained", CAUSES["unexplained"]


def task_functions(graph: Graph, state_machine_arn: str) -> dict[str, str]:
    """Task state name → the Lambda function it calls (only those the definition names)."""
    region, account = machine_place(state_machine_arn)
    out = {}
    for st in graph:
        found = task_function(st, region, account)
        if found is not None and found[0] is not None:
            out[st.name] = found[0]
    return out
