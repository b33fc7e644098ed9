"""Build a demo (or benchmark) lake: day by day, through the collectors' normalizer and lake writer."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import shutil
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.cloudwatch.collect import SOURCE as METRICS
from collectors.cloudwatch.queries import NAMESPACES
from collectors.logs.collect import SOURCE as LOGS
from collectors.simulate import cloudwatch, express, records, scenario, traces
from collectors.simulate.definitions import enterprise
from collectors.simulate.model import ACCOUNT_ID, DOMAIN_TAG, MachineSpec
from collectors.simulate.replicate import (
    Template,
    build_template,
    draw_times,
    drop_rows,
    expand,
    payload_hashes,
    raw_records,
)
from collectors.simulate.scenario import DAY_MS, Incidents, Regime
from collectors.simulate.truth import ground_truth
from collectors.simulate.walker import Walker
from collectors.stepfunctions import fetch as sf
from collectors.stepfunctions.collect import SOURCE as HISTORIES
from lake.schema import EXECUTIONS, STATE_RUNS
from lake.store import Lake
from lake.tables import TABLES, to_table

GROUND_TRUTH_FILE = "_ground_truth.json"
EVENTS_MODES = ("all", "sample", "none")
SAMPLE_EVERY = 100  # --events sample keeps the events of one execution in this many
CATALOG_MIN, CATALOG_MAX = 200, 1500
PARALLEL_FROM = 20_000  # below this many executions one process is faster than two


@dataclass
class Summary:
    """What a build produced."""

    lake: str
    seed: int
    start: datetime
    end: datetime
    executions: int
    rows: dict[str, int]
    running: int
    templates: int
    seconds: float
    bytes_on_disk: int
    ground_truth: str
    by_status: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in self.rows.items())
        status = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_status.items()))
        return (
            f"demo lake {self.lake}: {self.executions:,} executions "
            f"{self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M} UTC (seed {self.seed})\n"
            f"  status: {status}; still running {self.running:,}\n"
            f"  rows: {rows}\n"
            f"  {self.templates:,} path templates (per process), {self.seconds:.1f} s, "
            f"{self.bytes_on_disk / 1e6:.1f} MB on disk\n"
            f"  ground truth: {self.ground_truth}"
        )


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to build any day (picklable, deterministic)."""

    lake: str
    seed: int
    start_ms: int
    end_ms: int
    events: str
    per_day: float  # expected executions of an ordinary weekday, all machines
    catalog_sizes: tuple[int, ...]
    inc: Incidents
    gap: scenario.CollectionGap | None = None  # executions CloudWatch counted that the lake misses


def _end_ms(end: datetime | date | str | None) -> int:
    if end is None:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        return int(now.timestamp() * 1000)
    if isinstance(end, str):
        try:
            end = datetime.fromisoformat(end.strip())
        except ValueError:
            raise ValueError(
                f"bad end {end!r}: use an ISO date or time in UTC (2025-06-30, 2025-06-30T12:00Z)"
            ) from None
    if not isinstance(end, datetime):
        end = datetime(end.year, end.month, end.day, tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return int(end.timestamp() * 1000)


def make_plan(lake: str, *, days: int, executions: int, seed: int, end: Any, events: str) -> Plan:
    """Calibrate the traffic so the window holds about `executions` executions."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if executions < 1:
        raise ValueError(f"executions must be at least 1, got {executions}")
    if events not in EVENTS_MODES:
        raise ValueError(f"events must be one of {', '.join(EVENTS_MODES)}, got {events!r}")
    end_ms = _end_ms(end)
    start_ms = end_ms - days * DAY_MS
    specs = enterprise()
    shares = scenario.machine_shares(len(specs))
    weight = sum(
        shares[i] * scenario.day_weight(d, start_ms, end_ms, s.schedule)
        for d in _days(start_ms, end_ms)
        for i, s in enumerate(specs)
    )
    sizes = tuple(int(np.clip(executions * shares[i], CATALOG_MIN, CATALOG_MAX)) for i in range(len(specs)))
    return Plan(
        lake,
        seed,
        start_ms,
        end_ms,
        events,
        executions / weight,
        sizes,
        scenario.plan_incidents(start_ms, end_ms),
        scenario.plan_gap(start_ms, end_ms),
    )


def _days(start_ms: int, end_ms: int) -> list[int]:
    return list(range(start_ms // DAY_MS * DAY_MS, end_ms, DAY_MS))


@dataclass
class _Catalog:
    probs: np.ndarray
    keys: list[tuple]  # the decisions of each distinct path
    templates: list[Template | None]
    walker: Walker  # replays a key into its events


class World:
    """Per-process state: the machines, their catalogs of paths and the templates built so far."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.specs: list[MachineSpec] = enterprise()
        self.shares = scenario.machine_shares(len(self.specs))
        self.lake = Lake(plan.lake, durable=False, rollups=False)  # days are written in parallel
        collected = records.ms_to_dt(plan.end_ms)
        self.sm_rows = [
            sf.state_machine_row(
                records.describe_state_machine(s, plan.start_ms - 200 * DAY_MS),
                sf.Machine(s.arn(), records.tags(s)),
                DOMAIN_TAG,
                ACCOUNT_ID,
                s.region,
                collected,
            )
            for s in self.specs
        ]
        self.catalogs: dict[tuple[int, int], _Catalog] = {}
        self.inputs = [records.input_pool(s) for s in self.specs]
        self.outputs = [records.output_pool(s) for s in self.specs]
        self.in_hash = _hash_table(self.inputs)  # (sha256 [machine, variant], bytes [machine, variant])
        self.out_hash = _hash_table(self.outputs)
        self.exec_prefix = [f"{s.arn().replace(':stateMachine:', ':execution:')}:" for s in self.specs]
        self.timeouts = [float(s.definition.get("TimeoutSeconds") or 0) * 1000 for s in self.specs]
        self.n_templates = 0
        self.account = cloudwatch.Account(self.specs)

    # -- catalogs ------------------------------------------------------------------------------
    def catalog(self, m: int, code: int) -> _Catalog:
        """The paths machine `m` takes under regime `code` and their odds (seeded walks)."""
        cat = self.catalogs.get((m, code))
        if cat is None:
            cat = self.install(m, code, *self.sample(m, code))
        return cat

    def _walker(self, m: int, code: int) -> Walker:
        spec = self.specs[m]
        regime = scenario.decode_regime(m, code)
        normal = scenario.behaviours(spec, Regime(m, regime.version), self.plan.inc)
        return Walker(
            spec,
            scenario.behaviours(spec, regime, self.plan.inc),
            version_arn=records.version_arn(spec, regime.version),
            alias_arn=records.alias_arn(spec),
            region=spec.region,
            redrive_behaviours=normal,
        )

    def sample(self, m: int, code: int) -> tuple[list[tuple], np.ndarray]:
        """Distinct paths (their decision keys) and how often each came up in the seeded walks."""
        walker = self._walker(m, code)
        rng = random.Random(zlib.crc32(f"{self.plan.seed}:{self.specs[m].name}:{code}".encode()))
        counts: Counter = Counter(
            walker.walk(rng, record=False).key for _ in range(self.plan.catalog_sizes[m])
        )
        return list(counts), np.array(list(counts.values()), np.float64)

    def install(self, m: int, code: int, keys: list[tuple], counts: np.ndarray) -> _Catalog:
        cat = self.catalogs[(m, code)] = _Catalog(
            counts / counts.sum(), keys, [None] * len(keys), self._walker(m, code)
        )
        return cat

    def template(self, m: int, code: int, k: int) -> Template:
        cat = self.catalog(m, code)
        t = cat.templates[k]
        if t is None:
            version = scenario.decode_regime(m, code).version
            path = cat.walker.walk(None, script=cat.keys[k])
            assert path.key == cat.keys[k]
            t = cat.templates[k] = build_template(self.specs[m], m, self.sm_rows[m], path, version)
            self.n_templates += 1
        return t

    # -- one day -------------------------------------------------------------------------------
    def draw_day(self, day_ms: int) -> dict[str, Any]:
        """Every execution started on one day: machine, start, template and per-execution values."""
        plan = self.plan
        rng = np.random.default_rng([plan.seed, day_ms // DAY_MS])
        ms, starts = [], []
        for i, s in enumerate(self.specs):
            lam = (
                plan.per_day
                * self.shares[i]
                * scenario.day_weight(day_ms, plan.start_ms, plan.end_ms, s.schedule)
            )
            st = scenario.start_times(rng, int(rng.poisson(lam)), day_ms, s.schedule)
            st = np.sort(st[(st >= plan.start_ms) & (st < plan.end_ms)])
            ms.append(np.full(len(st), i, np.int64))
            starts.append(st)
        m = np.concatenate(ms)
        start = np.concatenate(starts)
        code = scenario.regimes_for(self.specs, plan.inc, m, start)
        keys: dict[tuple[int, int, int], int] = {}
        tmpls: list[Template] = []
        tix = np.zeros(len(m), np.int64)
        for group in np.unique(m * 1000 + code).tolist():
            mi, c = divmod(group, 1000)
            sel = np.flatnonzero(m * 1000 + code == group)
            cat = self.catalog(mi, c)
            picks = rng.choice(len(cat.probs), size=len(sel), p=cat.probs)
            uniq, inverse = np.unique(picks, return_inverse=True)
            ids = []
            for k in uniq.tolist():
                if (mi, c, k) not in keys:
                    keys[(mi, c, k)] = len(tmpls)
                    tmpls.append(self.template(mi, c, k))
                ids.append(keys[(mi, c, k)])
            tix[sel] = np.array(ids, np.int64)[inverse]
        n = len(m)
        raw = rng.bytes(16 * n)
        hexes = raw.hex()
        # UUID version 4 text, as SDK callers name executions
        names = [
            f"{hexes[i : i + 8]}-{hexes[i + 8 : i + 12]}-4{hexes[i + 13 : i + 16]}-"
            f"{'89ab'[int(hexes[i + 16], 16) & 3]}{hexes[i + 17 : i + 20]}-{hexes[i + 20 : i + 32]}"
            for i in range(0, 32 * n, 32)
        ]
        trace_bits = rng.bytes(20 * n).hex()
        headers: list[str | None] = [None] * n
        roots: list[str | None] = [None] * n
        secs = (start // 1000).tolist()
        for i in np.flatnonzero(np.array([s.tracing for s in self.specs])[m]).tolist():
            roots[i] = f"1-{secs[i]:08x}-{trace_bits[40 * i : 40 * i + 24]}"
            headers[i] = f"Root={roots[i]};Parent={trace_bits[40 * i + 24 : 40 * i + 40]};Sampled=1"
        return {
            "m": m,
            "start": start,
            "code": code,
            "tix": tix,
            "tmpls": tmpls,
            "names": names,
            "name_bits": np.frombuffer(raw, dtype=">u4")[::4].astype(np.int64)
            if n
            else np.zeros(0, np.int64),
            "traces": headers,
            "roots": roots,
            "in_idx": rng.integers(0, 16, n),
            "out_idx": rng.integers(0, 16, n),
            "times": draw_times(rng, tmpls, tix, start, np.array([self.timeouts[t.machine] for t in tmpls])),
        }

    def raw(self, day: dict[str, Any], i: int) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        """boto3-shaped records of execution `i` of a drawn day, and its state machine row."""
        m = int(day["m"][i])
        ts, base = day["times"]
        t = day["tmpls"][day["tix"][i]]
        desc, events = raw_records(
            self.specs[m],
            t,
            name=day["names"][i],
            start_ms=int(day["start"][i]),
            ts_ms=[int(x) for x in ts[base[i] : base[i + 1]]],
            trace_header=day["traces"][i],
            input_text=self.inputs[m][day["in_idx"][i]],
            output_text=self.outputs[m][day["out_idx"][i]],
            collected_ms=self.plan.end_ms,
        )
        return desc, events, self.sm_rows[m]

    def rows_for_day(self, day: dict[str, Any]) -> tuple[pa.Table, pa.Table, pa.Table | None, int]:
        """The day's executions, state_runs and events tables (with domain and date columns)."""
        plan = self.plan
        m, tix, tmpls, start, names = day["m"], day["tix"], day["tmpls"], day["start"], day["names"]
        ts, base = day["times"]
        n = len(m)
        arns = np.array(
            [records.execution_arn(self.specs[a], nm) for a, nm in zip(m.tolist(), names, strict=True)],
            dtype=object,
        )
        in_idx, out_idx = day["in_idx"], day["out_idx"]
        mask = None
        if plan.events == "none":
            mask = np.zeros(n, bool)
        elif plan.events == "sample":  # a property of the execution's name: the same ones in every build
            mask = day["name_bits"] % SAMPLE_EVERY == 0
        stop = ts[base[1:] - 1]
        running = np.flatnonzero(stop > plan.end_ms)
        done = np.setdiff1d(np.arange(n), running)
        sub_ts, sub_base = _subset_times(ts, base, done)
        md = m[done]
        out = expand(
            tmpls,
            tix[done],
            sub_ts,
            sub_base,
            start[done],
            arns=arns[done],
            names=np.array(names, dtype=object)[done],
            traces=np.array(day["roots"], dtype=object)[done],
            in_hash=self.in_hash[0][md, in_idx[done]],
            in_bytes=self.in_hash[1][md, in_idx[done]],
            out_hash=self.out_hash[0][md, out_idx[done]],
            out_bytes=self.out_hash[1][md, out_idx[done]],
            collected_ms=plan.end_ms,
            events_mask=None if mask is None else mask[done],
        )
        date = records.ms_to_dt(int(start[0]) if n else plan.start_ms).strftime("%Y-%m-%d")
        dom = pa.array([s.domain for s in self.specs], pa.string()).take(pa.array(m[done]))
        ex = _with_partition(express.as_logged(out.executions, self.specs, m[done]), dom, date)
        runs = _with_partition(out.state_runs, dom.take(pa.array(out.run_exec)), date)
        evs = (
            _with_partition(out.events, dom.take(pa.array(out.event_exec)), date)
            if out.events is not None
            else None
        )
        if len(running):  # still going at the end of the window: the real normalizer, one by one
            norm = [
                express.normalize_as_collected(
                    self.specs[m[i]],
                    *self.raw(day, int(i))[:2],
                    state_machine=self.sm_rows[m[i]],
                    collected_at=records.ms_to_dt(plan.end_ms),
                )
                for i in running
            ]
            ex = pa.concat_tables([ex, _rows(ex.schema, [x.execution for x in norm])])
            runs = pa.concat_tables([runs, _rows(runs.schema, [r for x in norm for r in x.state_runs])])
            keep = [x for i, x in zip(running, norm, strict=True) if mask is None or mask[i]]
            if keep:
                more = _rows((evs or _empty_events()).schema, [e for x in keep for e in x.events])
                evs = more if evs is None else pa.concat_tables([evs, more])
            still = sum(x.execution["status"] == "RUNNING" for x in norm)
        else:
            still = 0
        return ex, runs, evs, still


def _hash_table(pools: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [payload_hashes(p) for p in pools]
    return np.array([h for h, _ in pairs], dtype=object), np.array([b for _, b in pairs], np.int64)


def _empty_events() -> pa.Table:
    t = TABLES["events"].schema.empty_table()
    return t.append_column("domain", pa.array([], pa.string())).append_column(
        "date", pa.array([], pa.string())
    )


def _rows(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def _subset_times(ts: np.ndarray, base: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = (base[1:] - base[:-1])[keep]
    sub_base = np.zeros(len(keep) + 1, np.int64)
    np.cumsum(counts, out=sub_base[1:])
    idx = np.repeat(base[:-1][keep], counts) + (
        np.arange(int(sub_base[-1])) - np.repeat(sub_base[:-1], counts)
    )
    return ts[idx], sub_base


def _with_partition(t: pa.Table, domain: pa.Array, date: str) -> pa.Table:
    """The `domain` and `date` columns `Lake.write_partitioned` splits by."""
    return t.append_column("domain", domain).append_column("date", pa.array([date] * len(t), pa.string()))


# -- workers ---------------------------------------------------------------------------------
_WORLD: World | None = None


def _init(plan: Plan, catalogs: dict[tuple[int, int], tuple[list[tuple], np.ndarray]] | None = None) -> None:
    global _WORLD
    pa.set_cpu_count(1)  # the processes are the parallelism: Arrow thread pools would only contend
    _WORLD = World(plan)
    for (m, code), (keys, counts) in (catalogs or {}).items():
        _WORLD.install(m, code, keys, counts)


def _sample(job: tuple[int, int]) -> tuple[int, int, list[tuple], np.ndarray]:
    assert _WORLD is not None
    return (*job, *_WORLD.sample(*job))


def regime_codes(specs: list[MachineSpec], inc: Incidents) -> list[tuple[int, int]]:
    """(machine, regime code) pairs a build can meet: every machine normal, plus the incidents'."""
    names = [s.name for s in specs]
    out = [(i, 0) for i in range(len(specs))]
    out += [(names.index(n), 1) for n in inc.outage_machines]
    out += [(names.index(inc.degr_machine), 10 + lvl) for lvl in range(1, scenario.DEGRADATION_LEVELS + 1)]
    out.append((names.index(inc.deploy_machine), 100))
    return out


def _build_day(day_ms: int) -> dict[str, Any]:
    """Draw, expand and write one day; returns its figures for the summary and ground truth."""
    w = _WORLD
    assert w is not None
    day = w.draw_day(day_ms)
    if len(day["m"]):
        ex, runs, evs, running = w.rows_for_day(day)
    else:  # nothing started that day (the first, partial day of a demo that ends early in its day)
        ex, runs, evs, running = EXECUTIONS.empty_table(), STATE_RUNS.empty_table(), None, 0
    ex, runs, evs, running, missed = _collection_gap(w.plan.gap, ex, runs, evs, running)
    if evs is not None and len(evs):
        w.lake.write_partitioned("events", evs)
    if len(runs):
        w.lake.write_partitioned("state_runs", runs)
    if len(ex):
        w.lake.write_partitioned("executions", ex)
    traces.day_traces(
        w.lake, traces.tracers(w.specs), ex, runs, evs if w.plan.events != "all" else None, w.plan.end_ms
    )
    figures = _day_figures(w, day, ex, runs, evs, running)
    figures["missed"] = missed
    figures["metrics"] = cloudwatch.day_emissions(w.account, day, w.plan.end_ms)
    return figures


def _collection_gap(
    gap: scenario.CollectionGap | None, ex: pa.Table, runs: pa.Table, evs: pa.Table | None, running: int
) -> tuple[pa.Table, pa.Table, pa.Table | None, int, Counter]:
    """The day's rows without the executions the collection missed, and how many it missed per day."""
    if gap is None or not len(ex):
        return ex, runs, evs, running, Counter()
    start = pc.cast(ex.column("start_time"), pa.int64())
    hit = pc.and_(
        pc.equal(ex.column("state_machine_name"), gap.machine),
        pc.and_(pc.greater_equal(start, gap.start_ms), pc.less(start, gap.end_ms)),
    )
    lost = ex.filter(hit)
    if not len(lost):
        return ex, runs, evs, running, Counter()
    arns = lost.column("execution_arn").to_pylist()
    days = Counter(
        records.ms_to_dt(int(t)).strftime("%Y-%m-%d")
        for t in pc.cast(lost.column("start_time"), pa.int64()).to_pylist()
    )
    still = running - pc.sum(pc.equal(lost.column("status"), "RUNNING")).as_py()
    evs = drop_rows(evs, "execution_arn", arns) if evs is not None else None
    return ex.filter(pc.invert(hit)), drop_rows(runs, "execution_arn", arns), evs, still, days


def _day_figures(
    w: World, day: dict[str, Any], ex: pa.Table, runs: pa.Table, evs: pa.Table | None, running: int
) -> dict[str, Any]:
    inc = w.plan.inc
    counts = ex.group_by(["state_machine_name", "status"]).aggregate([([], "count_all")]).to_pylist()
    status = Counter({(r["state_machine_name"], r["status"]): r["count_all"] for r in counts})
    red = (
        ex.filter(pc.greater(ex.column("redrive_count"), 0))
        .group_by("state_machine_name")
        .aggregate([([], "count_all")])
        .to_pylist()
    )
    redriven = Counter({r["state_machine_name"]: r["count_all"] for r in red})
    m = day["m"]
    collected = ex.group_by("state_machine_name").aggregate([("start_time", "max")]).to_pylist()
    newest = {r["state_machine_name"]: int(r["start_time_max"].timestamp() * 1000) for r in collected}
    outage: Counter = Counter()
    hit_rows = np.flatnonzero(day["code"] % 100 == 1)
    if len(hit_rows):
        by_arn = dict(
            zip(ex.column("execution_arn").to_pylist(), ex.column("status").to_pylist(), strict=True)
        )
        for i in hit_rows:
            spec = w.specs[m[i]]
            t = day["tmpls"][day["tix"][i]]
            outage[(spec.name, "executions")] += 1
            outage[(spec.name, "state_failed")] += (inc.outage_state, inc.outage_error) in t.state_errors
            arn = f"{spec.arn().replace(':stateMachine:', ':execution:')}:{day['names'][i]}"
            outage[(spec.name, "execution_not_succeeded")] += by_arn.get(arn) not in (
                "SUCCEEDED",
                "RUNNING",
                None,
            )
    return {
        "status": status,
        "rows": {
            "executions": len(ex),
            "state_runs": len(runs),
            "events": len(evs) if evs is not None else 0,
        },
        "running": running,
        "newest": newest,
        "outage": outage,
        "redriven": redriven,
        "templates": w.n_templates,
    }


# -- the build -------------------------------------------------------------------------------
DEFAULT_DAYS, DEFAULT_EXECUTIONS = 90, 100_000


def build_demo(
    lake_uri: str,
    *,
    days: int = DEFAULT_DAYS,
    executions: int = DEFAULT_EXECUTIONS,
    seed: int = 7,
    end: datetime | date | str | None = None,
    events: str = "all",
    workers: int | None = None,
    progress: TextIO | None = None,
) -> Summary:
    """Build a simulated lake at `lake_uri` (replacing an earlier demo there) and its ground truth."""
    t0 = time.perf_counter()
    plan = make_plan(lake_uri, days=days, executions=executions, seed=seed, end=end, events=events)
    lake = Lake(lake_uri, durable=False)
    _reset(lake)
    world = World(plan)
    day_list = _days(plan.start_ms, plan.end_ms)
    n_workers = (
        workers
        if workers is not None
        else (min(2, os.cpu_count() or 1) if executions >= PARALLEL_FROM else 1)
    )
    figures: list[dict[str, Any]] = []
    total = 0
    last_print = 0.0

    def report(f: dict[str, Any], k: int) -> None:
        nonlocal total, last_print
        figures.append(f)
        total += f["rows"]["executions"]
        now = time.perf_counter()
        if progress is not None and (now - last_print > 1.0 or k == len(day_list)):
            last_print = now
            progress.write(f"  day {k}/{len(day_list)}: {total:,} executions, {now - t0:.1f} s\n")
            progress.flush()

    if n_workers <= 1:
        global _WORLD
        _WORLD = world
        for k, d in enumerate(day_list, 1):
            report(_build_day(d), k)
    else:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        # Sample the path catalogs once, spread over the workers, then hand them to every day worker.
        with ctx.Pool(n_workers, initializer=_init, initargs=(plan,)) as pool:
            catalogs = {
                (m, c): (keys, counts)
                for m, c, keys, counts in pool.imap_unordered(_sample, regime_codes(world.specs, plan.inc))
            }
        with ctx.Pool(n_workers, initializer=_init, initargs=(plan, catalogs)) as pool:
            for k, f in enumerate(pool.imap_unordered(_build_day, day_list), 1):
                report(f, k)
    lake.rebuild_rollups()
    cloudwatch.write_metrics(
        lake_uri,
        world.account,
        world.sm_rows,
        [f.pop("metrics") for f in figures],
        plan.start_ms,
        plan.end_ms,
        n_workers,
    )
    _write_small_tables(lake, world, plan, figures, t0)
    truth = ground_truth(world.specs, plan.inc, plan.start_ms, plan.end_ms, plan.seed, figures, plan.gap)
    if (days, executions) == (DEFAULT_DAYS, DEFAULT_EXECUTIONS):
        truth["expected_sla"] = {
            "config": "slas.yaml",
            "at": "window_end",
            "domains": {d: {"status": st, "reason": why} for d, (st, why) in scenario.EXPECTED_SLA.items()},
        }
    truth_path = lake.path(GROUND_TRUTH_FILE)
    lake.write_bytes(GROUND_TRUTH_FILE, json.dumps(truth, indent=2, sort_keys=True).encode())
    rows = {t: sum(f["rows"][t] for f in figures) for t in ("executions", "state_runs", "events")}
    by_status: Counter = Counter()
    for f in figures:
        for (_, st), c in f["status"].items():
            by_status[st] += c
    lake.write_meta(
        source="demo",
        seed=seed,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        window_start=records.ms_to_dt(plan.start_ms).isoformat(),
        window_end=records.ms_to_dt(plan.end_ms).isoformat(),
        days=days,
        executions=rows["executions"],
        events_mode=events,
        ground_truth=GROUND_TRUTH_FILE,
    )
    return Summary(
        lake_uri,
        seed,
        records.ms_to_dt(plan.start_ms),
        records.ms_to_dt(plan.end_ms),
        rows["executions"],
        rows,
        sum(f["running"] for f in figures),
        max((f["templates"] for f in figures), default=0),
        time.perf_counter() - t0,
        _disk_bytes(lake),
        truth_path,
        dict(by_status),
    )


def _reset(lake: Lake) -> None:
    """Clear an earlier demo at this location; refuse to touch a lake of real data."""
    meta = lake.read_meta()
    if meta is not None and meta.get("source") != "demo":
        raise ValueError(
            f"{lake.uri} holds collected data (source {meta.get('source')!r}): "
            "build the demo in another place"
        )
    for name in [*TABLES, GROUND_TRUTH_FILE, "_stepscope.json"]:
        path = lake.path(name)
        if lake.local:
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
        else:
            lake.fs.delete_dir_contents(path, missing_dir_ok=True)


def _write_small_tables(
    lake: Lake, world: World, plan: Plan, figures: list[dict[str, Any]], t0: float
) -> None:
    lake.write("state_machines", to_table("state_machines", world.sm_rows))
    newest: dict[str, int] = {}
    for f in figures:
        for k, v in f["newest"].items():
            newest[k] = max(newest.get(k, 0), v)
    collected = records.ms_to_dt(plan.end_ms)
    # Executions still going at the end of the window: what a collector would revisit next run.
    running: Counter = Counter()
    for f in figures:
        running.update({name: c for (name, st), c in f["status"].items() if st == "RUNNING"})
    cursors = [
        {
            "source": LOGS if s.type == express.EXPRESS else HISTORIES,
            "account_id": ACCOUNT_ID,
            "region": s.region,
            "key": s.arn(),
            "domain": s.domain,
            "watermark": records.ms_to_dt(newest[s.name]) if s.name in newest else None,
            "last_collected_at": collected,
            "open_items": running[s.name],
            "incomplete_items": 0,
            "last_error": None,
        }
        for s in world.specs
    ]
    # The metrics collection of each Region and namespace, up to the window's last minute.
    cursors += [
        {
            "source": METRICS,
            "account_id": ACCOUNT_ID,
            "region": region,
            "key": ns,
            "watermark": records.ms_to_dt(plan.end_ms // 60_000 * 60_000),
            "last_collected_at": collected,
            "open_items": 0,
            "incomplete_items": 0,
        }
        for region in world.account.regions
        for ns in NAMESPACES
    ]
    cursors += traces.cursors(world.specs, plan.end_ms)
    lake.write("cursors", to_table("cursors", cursors))
    summary = {
        "source": "demo",
        "seed": plan.seed,
        "executions": sum(f["rows"]["executions"] for f in figures),
    }
    lake.write(
        "collection_runs",
        to_table(
            "collection_runs",
            [
                {
                    "run_id": f"demo-{plan.seed}-{plan.end_ms}",
                    "started_at": collected,
                    "finished_at": collected,
                    "source": "demo",
                    "summary_json": json.dumps(summary, sort_keys=True),
                }
            ],
        ),
    )


def _disk_bytes(lake: Lake) -> int:
    if not lake.local:
        return 0
    total = 0
    for root, _, files in os.walk(lake.root):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def main_demo(
    lake: str,
    *,
    days: int,
    executions: int,
    seed: int,
    end: str | None,
    events: str,
    workers: int | None,
    out: TextIO | None = None,
) -> Summary:
    """CLI body: build and print progress and the summary (to stderr by default)."""
    out = out or sys.stderr
    out.write(f"building demo lake {lake}: ~{executions:,} executions over {days} days (seed {seed})\n")
    s = build_demo(
        lake,
        days=days,
        executions=executions,
        seed=seed,
        end=end,
        events=events,
        workers=workers,
        progress=out,
    )
    out.write(s.text() + "\n")
    return s
