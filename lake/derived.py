"""Derived tables: what the questions read instead of the wide executions rows, rewritten with every
executions partition (the writer follows `TableSpec.derives`).

- `sla_facts`: the finished executions of a partition, narrow (state machine, succeeded, redriven,
  duration, start), sorted by state machine and duration. The file footer (SLA_RUNS_KEY) lists its
  runs, one per state machine in row order, with their counts (SLA_RUNS_COLUMNS): the SLA report
  takes a whole day's counts from the footer and its sorted durations from one column
  (queries/sla_runs.py says what that saves).
- `failures`: the partition's failed, timed-out and aborted executions (about 1 in 100), without
  payloads: the rows every failure question reads.
- `error_signatures`: the partition's failures counted per state machine and error signature of their
  root failure, with first and last start; one file for the whole lake (the writer replaces a
  partition's rows), so "first seen" and "new" look at all of history at the cost of one small read.

Derived from each `metrics` partition in the same way:

- `metrics_daily`: one row per series (the metrics key but the timestamp) and day, in one file for the
  whole lake (like error_signatures), what the metric questions read for the whole days of a period
  (one file of ~30,000 rows for the 90 days of the 10M-execution benchmark: a 30-day question reads it
  in ~5 ms, where 180 daily files took 60-100 ms); the partial days at its edges are summed the same way
  from their datapoints (queries/sql/base.sql `metric_days`). What it keeps, so that every figure stays
  what it was over the datapoints: every series its datapoints' count, sum, lowest and highest, so a
  Sum series (counts, billed duration) gives the day's exact total, an Average the mean of its periods,
  and a Maximum, p95 or p99 the highest datapoint of the day (a day's percentile cannot be made from
  its periods' percentiles; none is claimed). A series of WEIGHTS (Lambda Duration, Express billed
  memory) also keeps the sum of the count it is weighted by (Invocations, billed duration) at its
  datapoints' times, and of value x that count: "the periods' p95 weighted by invocations" and
  "GB-seconds of billed memory x duration" are those two sums. A day's ~290,000 datapoints of the
  benchmark become ~310 rows.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from lake.schema import ERROR_SIGNATURES, EXECUTIONS, FAILURES, METRICS_DAILY, SLA_FACTS
from lake.signature import cause_pattern, pattern_signature
from lake.status import SUCCEEDED, TERMINAL, UNSUCCESSFUL

# Footer key of a sla_facts file: its runs (one per state machine, in row order) and their counts.
SLA_RUNS_KEY = b"stepscope.sla_runs"
SLA_RUNS_COLUMNS = (
    "state_machine_arn",
    "state_machine_name",
    "rows",
    "durations",
    "succeeded",
    "first_attempt_succeeded",
    "redriven",
)
SLA_FACTS_ORDER = ("state_machine_arn", "duration_ms", "succeeded", "redriven")
PAYLOADS = ("input", "output")


def sla_facts(executions: pa.Table) -> pa.Table:
    """The `sla_facts` rows of one executions partition: its finished executions, sorted by state
    machine, then duration (missing durations last), with the runs in the footer."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(TERMINAL)))
    facts = pa.Table.from_arrays(
        [
            t.column("state_machine_arn"),
            t.column("state_machine_name"),
            pc.equal(t.column("status"), SUCCEEDED),
            pc.fill_null(pc.greater(t.column("redrive_count"), 0), False),
            t.column("duration_ms"),
            t.column("start_time"),
        ],
        schema=SLA_FACTS,
    )
    facts = facts.sort_by([(k, "ascending") for k in SLA_FACTS_ORDER])
    first = pc.and_(facts.column("succeeded"), pc.invert(facts.column("redriven")))
    runs = (
        facts.append_column("first", first)
        .group_by("state_machine_arn", use_threads=False)  # groups in order of first appearance
        .aggregate(
            [
                ("state_machine_name", "first"),
                ("state_machine_arn", "count", pc.CountOptions("all")),
                ("duration_ms", "count"),
                ("succeeded", "sum"),
                ("first", "sum"),
                ("redriven", "sum"),
            ]
        )
    )
    cols = [
        runs.column(c).to_pylist()
        for c in (
            "state_machine_arn",
            "state_machine_name_first",
            "state_machine_arn_count",
            "duration_ms_count",
            "succeeded_sum",
            "first_sum",
            "redriven_sum",
        )
    ]
    rows = [[r[0], r[1], *(int(x or 0) for x in r[2:])] for r in zip(*cols, strict=True)]
    meta = json.dumps({"columns": SLA_RUNS_COLUMNS, "runs": rows}, separators=(",", ":"))
    return facts.replace_schema_metadata({SLA_RUNS_KEY: meta.encode()})


def failures(executions: pa.Table) -> pa.Table:
    """The `failures` rows of one executions partition: its failed, timed-out and aborted executions,
    in their order, without payloads (no failure question reads them; they are not copied), with the
    signature of their root failure."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(UNSUCCESSFUL)))
    cols = [pa.nulls(len(t), f.type) if f.name in PAYLOADS else t.column(f.name) for f in EXECUTIONS]
    sigs = [s for s, _ in _signatures(t)]
    return pa.Table.from_arrays([*cols, pa.array(sigs, pa.string())], schema=FAILURES)


def _signatures(failed: pa.Table) -> list[tuple[str, str]]:
    """(signature, cause pattern) of each row's root failure; the masking runs once per distinct cause."""
    patterns: dict[str | None, str] = {}
    out = []
    cols = (failed.column(c).to_pylist() for c in ("root_error", "root_state", "root_cause"))
    for error, state, cause in zip(*cols, strict=True):
        pattern = patterns.get(cause)
        if pattern is None:
            pattern = patterns[cause] = cause_pattern(cause)
        out.append((pattern_signature(error, state, pattern), pattern))
    return out


def error_signatures(executions: pa.Table) -> pa.Table:
    """The `error_signatures` rows of one executions (or failures) partition, without its domain and date
    (the writer adds them): failures per state machine and root-failure signature, sorted by both."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(UNSUCCESSFUL)))
    groups: dict[tuple[str, str], list] = {}
    cols = ("state_machine_arn", "root_error", "root_state", "start_time")
    rows = zip(*(t.column(c).to_pylist() for c in cols), _signatures(t), strict=True)
    for sm, error, state, start, (sig, pattern) in rows:
        g = groups.get((sm, sig))
        if g is None:
            groups[(sm, sig)] = [sm, sig, error, state, pattern, 1, start, start]
        else:
            g[5] += 1
            g[6], g[7] = min(g[6], start), max(g[7], start)
    out = [groups[k] for k in sorted(groups)]
    names = ERROR_SIGNATURES.names[2:]
    return pa.Table.from_arrays(
        [pa.array([r[i] for r in out], ERROR_SIGNATURES.field(n).type) for i, n in enumerate(names)],
        names=names,
    )


# A metrics_daily row is one series of one day: the metrics key but the timestamp.
METRICS_DAILY_KEY = ("account_id", "region", "namespace", "metric_name", "dimensions", "stat", "period_s")
# Weighted series, (namespace, metric) → the count each datapoint is weighted by: the Sum datapoint of
# that metric with the same account, Region, dimensions, period and timestamp.
WEIGHTS = {
    ("AWS/Lambda", "Duration"): "Invocations",
    ("AWS/States", "ExpressExecutionBilledMemory"): "ExpressExecutionBilledDuration",
}
_SAME_POINT = ["account_id", "region", "namespace", "dimensions", "period_s", "timestamp"]
_DAY_SERIES = [*METRICS_DAILY_KEY, "unit", "state_machine_arn", "function_name"]


def metrics_daily(metrics: pa.Table) -> pa.Table:
    """The `metrics_daily` rows of one metrics partition (one UTC day), without its domain and date (the
    writer adds them): per series, its datapoints, their sum, lowest and highest and, for a weighted
    series (WEIGHTS), the sums of its weight and of value x weight. Sorted by the series key; each sum
    is taken in the partition's order (a rebuild writes the same bytes)."""
    series = pc.binary_join_element_wise(metrics.column("namespace"), metrics.column("metric_name"), "/")
    weight_names = pa.array(list(WEIGHTS.values()))
    weight_of = pc.take(
        weight_names, pc.index_in(series, value_set=pa.array([f"{n}/{m}" for n, m in WEIGHTS]))
    )
    points = metrics.select([*_DAY_SERIES, "timestamp", "value"])
    is_weight = pc.and_(
        pc.equal(metrics.column("stat"), "Sum"),
        pc.is_in(metrics.column("metric_name"), value_set=weight_names),
    )
    weights = metrics.filter(is_weight).select([*_SAME_POINT, "metric_name", "value"])
    weights = weights.rename_columns([*_SAME_POINT, "weight_metric", "weight"])
    # Only the weighted series' datapoints are joined to their weights (the point's key is unique in a
    # partition, so a left join keeps each once), then put back in partition order.
    weighted = pc.is_valid(weight_of)
    paired = (
        points.filter(weighted)
        .append_column("weight_metric", weight_of.filter(weighted))
        .append_column("row", pa.array(range(pc.sum(weighted).as_py() or 0), pa.int64()))
        .join(weights, keys=[*_SAME_POINT, "weight_metric"], join_type="left outer", use_threads=False)
        .sort_by("row")
    )
    rest = points.filter(pc.invert(weighted))
    none = pa.nulls(len(rest), pa.float64())
    t = pa.concat_tables(
        [
            rest.append_column("weight", none).append_column("weighted", none),
            paired.select([*rest.column_names, "weight"]).append_column(
                "weighted", pc.multiply(paired.column("value"), paired.column("weight"))
            ),
        ]
    )
    stats = [("value", "count"), ("value", "sum"), ("value", "min"), ("value", "max")]
    days = t.group_by(_DAY_SERIES, use_threads=False).aggregate(
        [*stats, ("weight", "sum"), ("weighted", "sum")]
    )
    names = ["datapoints", "value_sum", "value_min", "value_max", "weight_sum", "weighted_sum"]
    days = days.rename_columns([*_DAY_SERIES, *names])
    fields = list(METRICS_DAILY)[2:]  # the writer adds the partition's domain and date
    out = pa.Table.from_arrays([days.column(f.name).cast(f.type) for f in fields], schema=pa.schema(fields))
    return out.sort_by([(k, "ascending") for k in METRICS_DAILY_KEY])
