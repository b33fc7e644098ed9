"""The simulated account's CloudWatch: AWS/States and AWS/Lambda datapoints of the executions a build
draws, answered to the collector's own queries (`collectors.cloudwatch.queries.plan`) as
GetMetricData results and written through its normalizer (`metric_table`), as one collection at the
end of the window would get them: periods by age (`segments`: 60 s for the last 15 days, then 300 s,
then 3600 s).

What each series counts, as AWS emits it:

- ExecutionsStarted: 1 per execution at its start (AWS emits a 0 right after it, so its SampleCount
  is twice the executions: the collector asks for Sum).
- Executions{Succeeded,Failed,Aborted,TimedOut}: 1 each time an execution ends. A redriven one ends
  twice (its first failure, then the end of its redrive, when RedrivenExecutions<Status> is emitted
  too); ExecutionsRedriven at the redrive. ExecutionTime: start to each end, in ms.
- ExecutionThrottled, ThrottledEvents: none (nothing is throttled at the Step Functions level).
- OpenExecutionCount / ApproximateOpenMapRunCount: the most executions / distributed map runs open at
  once in the period, with their limits (1,000,000 and 1,000). StateTransition: ConsumedCapacity =
  states entered in the period, ProvisionedBucketSize and ProvisionedRefillRate 5,000.
- AWS/Lambda, per function a Task calls: Invocations = attempts that ran (not throttled), Errors =
  attempts that failed with a function error, Throttles = attempts refused with
  Lambda.TooManyRequestsException, Duration = TaskStarted to the attempt's end (a timed-out attempt
  has none), ConcurrentExecutions = the most attempts running at once; at the attempt's start.

Percentiles are nearest-rank over a period's values. Counts with nothing to count have no datapoint
(a missing count is 0); gauges have one in every period (only while running, for concurrency).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from collectors.cloudwatch.calls import called
from collectors.cloudwatch.collect import segments
from collectors.cloudwatch.normalize import metric_table
from collectors.cloudwatch.queries import LAMBDA, NAMESPACES, Listed, MetricQuery, plan
from collectors.simulate.model import ACCOUNT_ID, MachineSpec
from collectors.simulate.replicate import Template
from collectors.simulate.scenario import DAY_MS, ms_to_dt
from lake.asl import parse_definition
from lake.functions import task_function
from lake.store import Lake

MINUTE_MS = 60_000
OPEN_EXECUTION_LIMIT = 1_000_000
OPEN_MAP_RUN_LIMIT = 1_000
STATE_TRANSITION_BUCKET = 5_000  # bucket size and refill rate per second (the large Regions)
# Count series: code → metric name (per machine 0-9, per function 10-12, per Region 13).
COUNTS = {
    0: "ExecutionsStarted",
    1: "ExecutionsSucceeded",
    2: "ExecutionsFailed",
    3: "ExecutionsAborted",
    4: "ExecutionsTimedOut",
    5: "ExecutionsRedriven",
    6: "RedrivenExecutionsSucceeded",
    7: "RedrivenExecutionsFailed",
    8: "RedrivenExecutionsAborted",
    9: "RedrivenExecutionsTimedOut",
    10: "Invocations",
    11: "Errors",
    12: "Throttles",
    13: "ConsumedCapacity",
}
COUNT_CODE = {v: k for k, v in COUNTS.items()}
EXEC_TIME, DURATION = 20, 21  # value series: per machine, per function
OPEN, MAP_RUNS, CONCURRENT = 30, 31, 32  # interval series: per Region, per Region, per function
KEY = 10_000  # series code = kind * KEY + machine, function or Region index
ENDS = {"ExecutionSucceeded": 0, "ExecutionFailed": 1, "ExecutionAborted": 2, "ExecutionTimedOut": 3}
MAP_RUN_ENDS = ("MapRunSucceeded", "MapRunFailed", "MapRunAborted")
# Failed attempts that are not the function's doing: the service refused or broke the invocation.
THROTTLED = "Lambda.TooManyRequestsException"
SERVICE_ERRORS = frozenset(
    {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"}
)
OK, FUNCTION_ERROR, THROTTLE, SERVICE, TIMED_OUT = range(5)
# What a day's emissions hold, per family: the series code first.
FAMILIES = {"count": ("series", "minute", "n"), "value": ("series", "a", "b"), "span": ("series", "a", "b")}


@dataclass(frozen=True)
class Signals:
    """The event indexes of one template that CloudWatch counts."""

    ends: np.ndarray  # terminal events
    end_status: np.ndarray  # 0 succeeded, 1 failed, 2 aborted, 3 timed out
    redrive: int  # ExecutionRedriven, -1 if none
    entered: np.ndarray  # *StateEntered events (state transitions)
    map_starts: np.ndarray  # MapRunStarted
    map_ends: np.ndarray  # its end (-1: open until the execution ends)
    fn: np.ndarray  # Lambda attempts: function index
    attempt_start: np.ndarray  # TaskStarted
    attempt_end: np.ndarray  # TaskSucceeded / TaskFailed / TaskTimedOut
    outcome: np.ndarray  # OK, FUNCTION_ERROR, THROTTLE, SERVICE, TIMED_OUT


class Account:
    """The simulated account's Regions and the functions its machines' Tasks call."""

    def __init__(self, specs: Sequence[MachineSpec]):
        self.specs = list(specs)
        self.regions = sorted({s.region for s in specs})
        self.region_of = np.array([self.regions.index(s.region) for s in specs], np.int64)
        self.state_fn: list[dict[str, str]] = []  # per machine: Task state name → function
        names: set[str] = set()
        for s in specs:
            found = {
                st.name: task_function(st, s.region, ACCOUNT_ID) for st in parse_definition(s.definition)
            }
            fns = {k: v[0] for k, v in found.items() if v is not None and v[0] is not None}
            self.state_fn.append(fns)
            names.update(fns.values())
        self.functions = sorted(names)
        self._fn_index = {f: i for i, f in enumerate(self.functions)}
        self._signals: dict[int, Signals] = {}

    def signals(self, t: Template) -> Signals:
        """What CloudWatch counts in a template (computed once per template)."""
        got = self._signals.get(id(t))
        if got is None:
            got = self._signals[id(t)] = self._read(t)
        return got

    def _read(self, t: Template) -> Signals:
        fns = self.state_fn[t.machine]
        ends, status, entered, map_starts, map_ends = [], [], [], [], []
        fn, a_start, a_end, outcome = [], [], [], []
        state: str | None = None
        started = -1
        for i, e in enumerate(t.path.events):
            d = e.details or {}
            if e.type in ENDS:
                ends.append(i)
                status.append(ENDS[e.type])
            elif e.type.endswith("StateEntered"):
                entered.append(i)
                state = d.get("name")
            elif e.type == "MapRunStarted":
                map_starts.append(i)
                map_ends.append(-1)
            elif e.type in MAP_RUN_ENDS and map_ends:
                map_ends[-1] = i
            elif e.type == "TaskStarted":
                started = i
            elif e.type in ("TaskSucceeded", "TaskFailed", "TaskTimedOut") and state in fns:
                fn.append(self._fn_index[fns[state]])
                a_start.append(started)
                a_end.append(i)
                outcome.append(_outcome(e.type, d.get("error")))
        i64 = lambda v: np.array(v, np.int64)  # noqa: E731
        return Signals(
            i64(ends),
            i64(status),
            t.redrive_event,
            i64(entered),
            i64(map_starts),
            i64(map_ends),
            i64(fn),
            i64(a_start),
            i64(a_end),
            i64(outcome),
        )


def _outcome(event_type: str, error: str | None) -> int:
    if event_type == "TaskSucceeded":
        return OK
    if event_type == "TaskTimedOut":
        return TIMED_OUT
    if error == THROTTLED:
        return THROTTLE
    return SERVICE if error in SERVICE_ERRORS else FUNCTION_ERROR


# -- one day's executions ------------------------------------------------------------------------
def day_emissions(account: Account, day: dict[str, Any], end_ms: int) -> dict[str, np.ndarray]:
    """What the executions started on one drawn day emit before `end_ms`: counts per (series, minute),
    values (execution times, durations) and intervals (open executions, map runs, running attempts)."""
    ts, base = day["times"]
    m_all, start_all, tix = day["m"], day["start"], day["tix"]
    counts: list[tuple[np.ndarray, np.ndarray]] = [(COUNT_CODE["ExecutionsStarted"] * KEY + m_all, start_all)]
    values: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    spans: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    stop_all = ts[base[1:] - 1]
    region = account.region_of[m_all]
    spans.append((OPEN * KEY + region, start_all, np.where(stop_all <= end_ms, stop_all, end_ms + 1)))
    for k, t in enumerate(day["tmpls"]):
        sel = np.flatnonzero(tix == k)
        if not len(sel):
            continue
        sig = account.signals(t)
        first = base[sel][:, None]  # each execution's first event
        m, start, reg = m_all[sel], start_all[sel], region[sel]
        if len(sig.ends):
            at = ts[first + sig.ends[None, :]]
            codes = 1 + np.broadcast_to(sig.end_status, at.shape)
            mm = np.broadcast_to(m[:, None], at.shape)
            counts.append((codes * KEY + mm, at))
            values.append((EXEC_TIME * KEY + mm, at, at - start[:, None]))
            if sig.redrive >= 0:
                last = sig.ends > sig.redrive
                counts.append((np.full(len(sel), 5) * KEY + m, ts[base[sel] + sig.redrive]))
                re_at = at[:, last]
                counts.append(((6 + sig.end_status[last])[None, :] * KEY + m[:, None], re_at))
        if len(sig.entered):
            at = ts[first + sig.entered[None, :]]
            counts.append((np.broadcast_to((13 * KEY + reg)[:, None], at.shape), at))
        if len(sig.map_starts):
            a = ts[first + sig.map_starts[None, :]]
            stop = ts[base[sel + 1] - 1][:, None]
            b = np.where(sig.map_ends[None, :] >= 0, ts[first + np.maximum(sig.map_ends, 0)[None, :]], stop)
            spans.append((np.broadcast_to((MAP_RUNS * KEY + reg)[:, None], a.shape), a, b))
        if len(sig.fn):
            a = ts[first + sig.attempt_start[None, :]]
            b = ts[first + sig.attempt_end[None, :]]
            fn = np.broadcast_to(sig.fn[None, :], a.shape)
            out = np.broadcast_to(sig.outcome[None, :], a.shape)
            ran = out != THROTTLE
            ran &= out != SERVICE
            counts.append((10 * KEY + fn[ran], a[ran]))
            counts.append((11 * KEY + fn[out == FUNCTION_ERROR], a[out == FUNCTION_ERROR]))
            counts.append((12 * KEY + fn[out == THROTTLE], a[out == THROTTLE]))
            timed = ran & (out != TIMED_OUT)
            values.append((DURATION * KEY + fn[timed], a[timed], (b - a)[timed]))
            spans.append((CONCURRENT * KEY + fn[ran], a[ran], b[ran]))
    return {
        **_minute_counts(counts, end_ms),
        **_flat("value", values, end_ms),
        **_flat("span", spans, end_ms),
    }


def _minute_counts(parts: list[tuple[np.ndarray, np.ndarray]], end_ms: int) -> dict[str, np.ndarray]:
    series = np.concatenate([np.ravel(s) for s, _ in parts]).astype(np.int64)
    at = np.concatenate([np.ravel(t) for _, t in parts]).astype(np.int64)
    keep = at < end_ms
    key = series[keep] * (1 << 32) + at[keep] // MINUTE_MS
    uniq, n = np.unique(key, return_counts=True)
    return {"count_series": uniq >> 32, "count_minute": uniq & ((1 << 32) - 1), "count_n": n}


def _flat(
    name: str, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], end_ms: int
) -> dict[str, np.ndarray]:
    if not parts:
        z = np.zeros(0, np.int64)
        return {f"{name}_series": z, f"{name}_a": z, f"{name}_b": z}
    series, a, b = (np.concatenate([np.ravel(p[i]) for p in parts]).astype(np.int64) for i in range(3))
    keep = a < end_ms
    return {f"{name}_series": series[keep], f"{name}_a": a[keep], f"{name}_b": b[keep]}


# -- the whole window ----------------------------------------------------------------------------
def write_metrics(
    lake_uri: str,
    account: Account,
    sm_rows: Sequence[dict[str, Any]],
    days: Sequence[dict[str, np.ndarray]],
    start_ms: int,
    end_ms: int,
    workers: int = 1,
) -> int:
    """Answer every query of one collection at `end_ms` over [start_ms, end_ms) from the days'
    emissions and write the rows, one UTC day of datapoints at a time (a day is its own partitions, so
    `workers` processes write days side by side), then the daily rollup of them all in one pass;
    returns the number of datapoints."""
    global _JOB
    _JOB = _Job(lake_uri, account, list(sm_rows), _Series(days), start_ms, end_ms)
    first = start_ms // DAY_MS * DAY_MS
    chunks = [(d, min(d + DAY_MS, end_ms)) for d in range(first, end_ms, DAY_MS)]
    try:
        if workers <= 1 or "fork" not in mp.get_all_start_methods():
            n = sum(_write_day(c) for c in chunks)
        else:  # forked workers share the emissions read-only
            with mp.get_context("fork").Pool(workers) as pool:
                n = sum(pool.imap_unordered(_write_day, chunks))
    finally:
        _JOB = None
    Lake(lake_uri, durable=False).rebuild_rollups(["metrics_daily"])
    return n


@dataclass(frozen=True)
class _Job:
    lake_uri: str
    account: Account
    sm_rows: list[dict[str, Any]]
    series: _Series
    start_ms: int
    end_ms: int


_JOB: _Job | None = None


def _write_day(chunk: tuple[int, int]) -> int:
    """Every query's datapoints of one day ([c0, c1)) and their rows, written."""
    job = _JOB
    assert job is not None
    c0, c1 = chunk
    account = job.account
    index = {
        "machine": {s.arn(): i for i, s in enumerate(account.specs)},
        "function": {f: i for i, f in enumerate(account.functions)},
    }
    window_end = ms_to_dt(job.end_ms // MINUTE_MS * MINUTE_MS)
    tables: list[pa.Table] = []
    for r, region in enumerate(account.regions):
        machines = [row for row in job.sm_rows if row["region"] == region]
        functions = called(machines, region, ACCOUNT_ID).functions
        for a, b, period in segments(ms_to_dt(job.start_ms), window_end, ms_to_dt(job.end_ms)):
            lo, hi = max(_ms(a), c0), min(_ms(b), c1)  # midnights fall on every period's edges
            if lo >= hi:
                continue
            for ns in NAMESPACES:
                queries = plan(ns, period, machines, functions, Listed())
                results = [job.series.result(q, r, index, (lo, hi, period)) for q in queries]
                tables.append(metric_table(queries, results, account_id=ACCOUNT_ID, region=region))
    rows = pa.concat_tables(tables) if tables else None
    if rows is not None and len(rows):
        # the whole-lake rollup is left to write_metrics: days are written side by side
        Lake(job.lake_uri, durable=False, rollups=False).write_partitioned("metrics", rows)
    return len(rows) if rows is not None else 0


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


class _Series:
    """The datapoints of any query over a window, from a build's emissions."""

    def __init__(self, days: Sequence[dict[str, np.ndarray]]):
        # each family (count, value, span) sorted by series once: a query takes its slice
        self.cols: dict[str, np.ndarray] = {}
        self.slices: dict[str, dict[int, slice]] = {}
        for family, names in FAMILIES.items():
            cols = [
                np.concatenate([d[f"{family}_{n}"] for d in days]) if days else np.zeros(0, np.int64)
                for n in names
            ]
            order = np.argsort(cols[0], kind="stable")
            cols = [c[order] for c in cols]
            uniq, first, n = np.unique(cols[0], return_index=True, return_counts=True)
            self.slices[family] = {
                int(u): slice(int(f), int(f + k)) for u, f, k in zip(uniq, first, n, strict=True)
            }
            for name, c in zip(names, cols, strict=True):
                self.cols[f"{family}_{name}"] = c

    def _take(self, family: str, series: int, *names: str) -> list[np.ndarray]:
        sl = self.slices[family].get(series, slice(0, 0))
        return [self.cols[f"{family}_{n}"][sl] for n in names]

    def result(
        self, q: MetricQuery, region: int, index: dict[str, dict[str, int]], window: tuple[int, int, int]
    ) -> dict[str, Any]:
        """The GetMetricData result of one query (every datapoint: one call, one page), its timestamps and
        values as numpy arrays (the normalizer takes them as they are: no datetime per datapoint)."""
        stamps, values = self._datapoints(q, region, index, window)
        return {
            "Id": q.id,
            "Label": q.metric_name,
            "Timestamps": stamps.astype("datetime64[ms]"),
            "Values": values.astype(np.float64),
            "StatusCode": "Complete",
        }

    def _datapoints(
        self, q: MetricQuery, region: int, index: dict[str, dict[str, int]], window: tuple[int, int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        dims = dict(q.dimensions)
        if q.namespace == LAMBDA:
            key = index["function"].get(dims.get("FunctionName", ""))
            if key is None:
                return _none()
            if q.metric_name == "Duration":
                return self._stat(DURATION * KEY + key, q.stat, window)
            if q.metric_name == "ConcurrentExecutions":
                return self._peak(CONCURRENT * KEY + key, window, always=False)
            return self._count(COUNT_CODE.get(q.metric_name), key, window)
        if "StateMachineArn" in dims:
            key = index["machine"].get(dims["StateMachineArn"])
            if key is None:
                return _none()
            if q.metric_name == "ExecutionTime":
                return self._stat(EXEC_TIME * KEY + key, q.stat, window)
            return self._count(COUNT_CODE.get(q.metric_name), key, window)
        return self._account(q.metric_name, region, window)

    def _account(
        self, metric: str, region: int, window: tuple[int, int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        constant = {
            "OpenExecutionLimit": OPEN_EXECUTION_LIMIT,
            "OpenMapRunLimit": OPEN_MAP_RUN_LIMIT,
            "ProvisionedBucketSize": STATE_TRANSITION_BUCKET,
            "ProvisionedRefillRate": STATE_TRANSITION_BUCKET,
        }
        if metric in constant:
            a, b, p = window
            stamps = np.arange(a, b, p * 1000, dtype=np.int64)
            return stamps, np.full(len(stamps), float(constant[metric]))
        if metric == "OpenExecutionCount":
            return self._peak(OPEN * KEY + region, window, always=True)
        if metric == "ApproximateOpenMapRunCount":
            return self._peak(MAP_RUNS * KEY + region, window, always=True)
        return self._count(COUNT_CODE.get(metric), region, window)

    def _count(
        self, code: int | None, key: int, window: tuple[int, int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        if code is None:
            return _none()
        a, b, p = window
        minute, n = self._take("count", code * KEY + key, "minute", "n")
        at = minute * MINUTE_MS
        inside = (at >= a) & (at < b)
        buckets, inv = np.unique(at[inside] // (p * 1000), return_inverse=True)
        return buckets * p * 1000, np.bincount(inv, weights=n[inside]).astype(np.float64)

    def _stat(self, series: int, stat: str, window: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        a, b, p = window
        at, v = self._take("value", series, "a", "b")
        v = v.astype(np.float64)
        inside = (at >= a) & (at < b)
        bucket = at[inside] // (p * 1000)
        v = v[inside]
        order = np.lexsort((v, bucket))
        bucket, v = bucket[order], v[order]
        buckets, first, n = np.unique(bucket, return_index=True, return_counts=True)
        return buckets * p * 1000, STATS[stat](v, first, n)

    def _peak(self, series: int, window: tuple[int, int, int], always: bool) -> tuple[np.ndarray, np.ndarray]:
        """The most spans open at once in each period (spans are [a, b) in ms)."""
        a0, b0, p = window
        width = p * 1000
        sa, sb = self._take("span", series, "a", "b")
        stamps = np.arange(a0, b0, width, dtype=np.int64)
        at = np.concatenate([sa, sb])
        step = np.concatenate([np.ones(len(sa), np.int64), -np.ones(len(sb), np.int64)])
        order = np.lexsort((step, at))  # an end before a start at the same ms: not open together
        at, level = at[order], np.cumsum(step[order])
        # open at each period's start, then the highest level reached inside it
        peak = np.concatenate([[0], level])[np.searchsorted(at, stamps, side="left")]
        inside = (at >= a0) & (at < b0)
        np.maximum.at(peak, (at[inside] - a0) // width, level[inside])
        keep = np.ones(len(stamps), bool) if always else peak > 0
        return stamps[keep], peak[keep].astype(np.float64)


def _none() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros(0, np.float64)


def _nearest_rank(q: float) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    def f(v: np.ndarray, first: np.ndarray, n: np.ndarray) -> np.ndarray:
        return v[first + np.ceil(q * n).astype(np.int64) - 1]

    return f


STATS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "Average": lambda v, first, n: np.add.reduceat(v, first) / n if len(v) else v,
    "Maximum": lambda v, first, n: v[first + n - 1],
    "Minimum": lambda v, first, n: v[first],
    "Sum": lambda v, first, n: np.add.reduceat(v, first) if len(v) else v,
    "p95": _nearest_rank(0.95),
    "p99": _nearest_rank(0.99),
}
