"""Path templates: one execution path normalised once by the real normalizer, replicated with numpy.

A template is a machine's path (its events and the law of each gap between events) pushed through
`collectors.stepfunctions.normalize.normalize_execution` with placeholder times. Rows of many executions that took
the same path differ only in a few columns (ARN, name, times, durations, trace id, payload hashes,
redrive status); `expand` rebuilds those columns for a whole day at once. `raw_records` renders the
boto3-shaped records of any single execution, so tests can check that both routes agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.simulate import records
from collectors.simulate.express import normalize_as_collected
from collectors.simulate.model import MachineSpec
from collectors.simulate.scenario import DAY_MS
from collectors.simulate.walker import EXEC_NAME, Path
from lake.schema import EVENTS, EXECUTIONS, STATE_RUNS, TS

T0 = 1_000_000_000_000  # placeholder start (ms); event k of a template happens at T0 + k s
KIND = {"c": 0, "l": 1, "abs": 2}
EXEC_VARYING = (
    "execution_arn",
    "name",
    "start_time",
    "stop_time",
    "duration_ms",
    "redrive_status",
    "redrive_status_reason",
    "redrive_date",
    "trace_id",
    "input_sha256",
    "input_bytes",
    "output_sha256",
    "output_bytes",
    "collected_at",
)
RUN_VARYING = ("execution_arn", "entered_time", "exited_time", "duration_ms")
EVENT_VARYING = ("execution_arn", "timestamp")


@dataclass
class Template:
    """One path of one machine under one regime, normalised once."""

    machine: int
    version: int
    path: Path
    slots: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # kind, a, b, cap per event
    execution: pa.Table  # 1 row, exact EXECUTIONS schema
    runs: pa.Table  # exact STATE_RUNS schema
    run_entered: np.ndarray  # event index of each run's entered event
    run_ended: np.ndarray  # event index that ended the run, -1 if none
    events: pa.Table  # exact EVENTS schema
    named_events: np.ndarray  # event indexes whose details carry the execution name (map run ARN)
    redrive_event: int  # index of ExecutionRedriven, -1 if none
    state_errors: frozenset[tuple[str, str]]  # (state, error) pairs of the runs

    @property
    def n_events(self) -> int:
        return len(self.path.events)


def build_template(
    spec: MachineSpec, machine: int, sm_row: dict[str, Any], path: Path, version: int
) -> Template:
    """Normalise `path` once through the real normalizer with placeholder values."""
    n = len(path.events)
    ts = [T0 + k * 1000 for k in range(n)]
    desc = records.describe_execution(
        spec,
        path,
        name="TEMPLATE",
        start_ms=T0,
        ts_ms=ts,
        version=version,
        trace_header=None,
        input_text="{}",
        output_text="{}",
        collected_ms=T0,
    )
    events = records.render_events(path.events, ts, "TEMPLATE")
    norm = normalize_as_collected(spec, desc, events, state_machine=sm_row, collected_at=records.ms_to_dt(T0))
    runs = norm.state_runs
    kind = np.array([KIND[e.slot[0]] for e in path.events], np.int8)
    a = np.array([e.slot[1] for e in path.events], np.float64)
    b = np.array([e.slot[2] for e in path.events], np.float64)
    cap = np.array([e.slot[3] for e in path.events], np.float64)
    named = np.array(
        [i for i, e in enumerate(path.events) if e.details and EXEC_NAME in str(e.details)], np.int64
    )
    redrive = next((i for i, e in enumerate(path.events) if e.type == "ExecutionRedriven"), -1)
    return Template(
        machine,
        version,
        path,
        (kind, a, b, cap),
        pa.Table.from_pylist([{f.name: norm.execution.get(f.name) for f in EXECUTIONS}], schema=EXECUTIONS),
        pa.Table.from_pylist([{f.name: r.get(f.name) for f in STATE_RUNS} for r in runs], schema=STATE_RUNS),
        np.array([_time_index(r["entered_time"]) for r in runs], np.int64),
        np.array(
            [_time_index(r["exited_time"]) if r["exited_time"] is not None else -1 for r in runs], np.int64
        ),
        pa.Table.from_pylist([{f.name: r.get(f.name) for f in EVENTS} for r in norm.events], schema=EVENTS),
        named,
        redrive,
        frozenset((r["state_name"], r["error"]) for r in runs if r["error"]),
    )


def _time_index(ts: Any) -> int:
    ms = int(ts.timestamp() * 1000)
    k, rem = divmod(ms - T0, 1000)
    if rem:
        raise ValueError("template time does not fall on an event")
    return k


def draw_times(
    rng: np.random.Generator,
    tmpls: list[Template],
    tix: np.ndarray,
    start: np.ndarray,
    timeout_ms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Event times (ms) of every execution, flattened, and each execution's offset into them."""
    if not len(tix):  # a day without executions (the first, partial day of a demo ending early in it)
        return np.zeros(0, np.int64), np.zeros(1, np.int64)
    n_ev = np.array([t.n_events for t in tmpls], np.int64)
    counts = n_ev[tix]
    base = np.zeros(len(tix) + 1, np.int64)
    np.cumsum(counts, out=base[1:])
    total = int(base[-1])
    # per used template, its slot arrays concatenated; each execution points at its template's block
    sl_off = np.zeros(len(tmpls) + 1, np.int64)
    np.cumsum(n_ev, out=sl_off[1:])
    kind = np.concatenate([t.slots[0] for t in tmpls])
    a = np.concatenate([t.slots[1] for t in tmpls])
    b = np.concatenate([t.slots[2] for t in tmpls])
    cap = np.concatenate([t.slots[3] for t in tmpls])
    exec_of = np.repeat(np.arange(len(tix)), counts)
    within = np.arange(total) - base[exec_of]
    g = sl_off[tix][exec_of] + within
    k, a, b, cap = kind[g], a[g], b[g], cap[g]
    z = rng.standard_normal(total)
    gap = np.where(k == 1, a * np.exp(b * z), np.where(k == 0, a, 0.0))
    gap = np.where((cap > 0) & (gap > cap), cap, gap)
    gap = np.rint(gap).astype(np.int64)
    ts = np.cumsum(gap)
    ts -= np.repeat(ts[base[:-1]] - gap[base[:-1]], counts)  # restart the running sum per execution
    ts += start[exec_of]
    absolute = np.flatnonzero(k == 2)
    if len(absolute):  # an execution timeout ends the run at start + TimeoutSeconds (never before)
        prev = np.where(within[absolute] > 0, ts[absolute - 1], start[exec_of[absolute]])
        ts[absolute] = np.maximum(prev, start[exec_of[absolute]] + timeout_ms[tix[exec_of[absolute]]])
    return ts, base


def _ts(ms: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(ms, type=pa.int64(), mask=mask).cast(TS)


def _take(tables: list[pa.Table], which: np.ndarray) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Rows of the used templates, concatenated, taken for each execution in order."""
    sizes = np.array([len(t) for t in tables], np.int64)
    off = np.zeros(len(tables) + 1, np.int64)
    np.cumsum(sizes, out=off[1:])
    counts = sizes[which]
    exec_of = np.repeat(np.arange(len(which)), counts)
    starts = np.zeros(len(which) + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    local = np.arange(int(starts[-1])) - starts[exec_of]
    idx = off[which][exec_of] + local
    return pa.concat_tables(tables).take(pa.array(idx)), exec_of, local


def _replace(t: pa.Table, name: str, arr: pa.Array) -> pa.Table:
    return t.set_column(t.schema.get_field_index(name), t.schema.field(name), arr)


@dataclass
class Expanded:
    executions: pa.Table
    state_runs: pa.Table
    events: pa.Table | None
    run_exec: np.ndarray  # execution index of each state_runs row
    event_exec: np.ndarray  # execution index of each events row


def expand(
    tmpls: list[Template],
    tix: np.ndarray,
    ts: np.ndarray,
    base: np.ndarray,
    start: np.ndarray,
    *,
    arns: np.ndarray,
    names: np.ndarray,
    traces: np.ndarray,
    in_hash: np.ndarray,
    in_bytes: np.ndarray,
    out_hash: np.ndarray,
    out_bytes: np.ndarray,
    collected_ms: int,
    events_mask: np.ndarray | None,
) -> Expanded:
    """Rows of every execution (tix = its template) with the per-execution columns rebuilt."""
    n = len(tix)
    stop = ts[base[1:] - 1]
    ex = pa.concat_tables([t.execution for t in tmpls]).take(pa.array(tix))
    status = ex.column("status").to_numpy(zero_copy_only=False)
    ok = status == "SUCCEEDED"
    old = (collected_ms - stop) > records.REDRIVE_DAYS * DAY_MS
    r_status = np.where(ok | old, "NOT_REDRIVABLE", "REDRIVABLE")
    too_old = "Execution can no longer be redriven: it stopped more than 14 days ago"
    reason = np.where(
        ok,
        "Execution is SUCCEEDED and cannot be redriven",
        # numpy's stubs take no None here; np.where makes it an object scalar (a null reason).
        np.where(old, too_old, None),  # type: ignore[call-overload]
    )
    red_idx = np.array([t.redrive_event for t in tmpls], np.int64)[tix]
    has_red = red_idx >= 0
    red_ms = np.where(has_red, ts[base[:-1] + np.maximum(red_idx, 0)], 0)
    cols = {
        "execution_arn": pa.array(arns, pa.string()),
        "name": pa.array(names, pa.string()),
        "start_time": _ts(start),
        "stop_time": _ts(stop),
        "duration_ms": pa.array(stop - start, pa.int64()),
        "redrive_status": pa.array(r_status, pa.string()),
        "redrive_status_reason": pa.array(reason, pa.string()),
        "redrive_date": _ts(red_ms, ~has_red),
        "trace_id": pa.array(traces, pa.string()),
        "input_sha256": pa.array(in_hash, pa.string()),
        "input_bytes": pa.array(in_bytes, pa.int64()),
        "output_sha256": pa.array(out_hash, pa.string(), mask=~ok),
        "output_bytes": pa.array(out_bytes, pa.int64(), mask=~ok),
        "collected_at": _ts(np.full(n, collected_ms, np.int64)),
    }
    for k, v in cols.items():
        ex = _replace(ex, k, v)
    arn_arr = cols["execution_arn"]

    runs, r_exec, r_local = _take([t.runs for t in tmpls], tix)
    ent = np.concatenate([t.run_entered for t in tmpls])
    end = np.concatenate([t.run_ended for t in tmpls])
    r_off = np.zeros(len(tmpls) + 1, np.int64)
    np.cumsum([len(t.runs) for t in tmpls], out=r_off[1:])
    ri = r_off[tix][r_exec] + r_local
    e_ms = ts[base[r_exec] + ent[ri]]
    has_end = end[ri] >= 0
    x_ms = ts[base[r_exec] + np.maximum(end[ri], 0)]
    runs = _replace(runs, "execution_arn", arn_arr.take(pa.array(r_exec)))
    runs = _replace(runs, "entered_time", _ts(e_ms))
    runs = _replace(runs, "exited_time", _ts(x_ms, ~has_end))
    runs = _replace(runs, "duration_ms", pa.array(x_ms - e_ms, pa.int64(), mask=~has_end))

    events, v_exec = None, np.zeros(0, np.int64)
    if events_mask is None or events_mask.any():
        keep = np.arange(n) if events_mask is None else np.flatnonzero(events_mask)
        evs, v_exec_local, v_local = _take([t.events for t in tmpls], tix[keep])
        v_exec = keep[v_exec_local]
        evs = _replace(evs, "execution_arn", arn_arr.take(pa.array(v_exec)))
        evs = _replace(evs, "timestamp", _ts(ts[base[v_exec] + v_local]))
        evs = _fill_names(evs, tmpls, tix, v_exec, v_local, names)
        events = evs
    return Expanded(ex, runs, events, r_exec, v_exec)


def _fill_names(
    evs: pa.Table,
    tmpls: list[Template],
    tix: np.ndarray,
    v_exec: np.ndarray,
    v_local: np.ndarray,
    names: np.ndarray,
) -> pa.Table:
    """Events whose details name the execution (map run ARNs) get this execution's name."""
    if not any(len(t.named_events) for t in tmpls):
        return evs
    flagged = np.zeros(len(evs), bool)
    for i, t in enumerate(tmpls):
        if len(t.named_events):
            flagged |= (tix[v_exec] == i) & np.isin(v_local, t.named_events)
    rows = np.flatnonzero(flagged)
    if not len(rows):
        return evs
    details = evs.column("details_json").to_pylist()
    for r in rows:
        details[r] = details[r].replace("TEMPLATE", names[v_exec[r]])
    return _replace(evs, "details_json", pa.array(details, pa.string()))


def payload_hashes(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """SHA-256 hex and byte size of each payload (as the normalizer computes them)."""
    raw = [t.encode() for t in texts]
    return [hashlib.sha256(r).hexdigest() for r in raw], np.array([len(r) for r in raw], np.int64)


def raw_records(
    spec: MachineSpec,
    tmpl: Template,
    *,
    name: str,
    start_ms: int,
    ts_ms: list[int],
    trace_header: str | None,
    input_text: str,
    output_text: str | None,
    collected_ms: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The DescribeExecution response and GetExecutionHistory events of one execution.

    An execution still going at `collected_ms` is RUNNING and its history stops there.
    """
    path = tmpl.path
    running = ts_ms[-1] > collected_ms
    keep = sum(1 for t in ts_ms if t <= collected_ms) if running else len(ts_ms)
    last = path.events[keep - 1]
    if running and last.type in TERMINAL_TYPES:  # failed, and the redrive has not happened yet
        d = last.details or {}
        path = Path(path.key, path.events[:keep], TERMINAL_TYPES[last.type], d.get("error"), d.get("cause"))
        running = False
    desc = records.describe_execution(
        spec,
        path,
        name=name,
        start_ms=start_ms,
        ts_ms=ts_ms[:keep] if path is not tmpl.path else ts_ms,
        version=tmpl.version,
        trace_header=trace_header,
        input_text=input_text,
        output_text=output_text,
        collected_ms=collected_ms,
        running=running,
    )
    return desc, records.render_events(tmpl.path.events[:keep], ts_ms[:keep], name)


TERMINAL_TYPES = {
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


def drop_rows(t: pa.Table, column: str, values: list[str]) -> pa.Table:
    """Rows of `t` whose `column` is not in `values`."""
    if not values:
        return t
    return t.filter(pc.invert(pc.is_in(t.column(column), value_set=pa.array(values, pa.string()))))
