"""Query benchmark: every question at lake scale, first call in a fresh process and warm call, peak
memory, against the naive way (pandas reads the table, then filters) side by side. Prints a table.

    python bench/bench_queries.py --lake /tmp/bench-lake --executions 10000000 [--builder simulate|columnar]
    python bench/bench_queries.py --lake /tmp/bench-lake --only 'sla|triage' --repeat 3 --no-naive

The lake is reused when it exists. By default it is built with the demo simulator (the same lake as
`stepscope demo --executions N --events sample`); `--builder columnar` writes simpler
executions and state runs straight from numpy instead (faster to build, no events table).
Figures on a shared machine are noisy: each row shows the load average it ran under.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from lake.layout import partition_dir  # noqa: E402
from lake.store import Lake  # noqa: E402
from lake.tables import TABLES  # noqa: E402

END = datetime(2025, 3, 31, tzinfo=UTC)
DOMAINS = ("payments", "customer-care", "ai-inference", "risk-compliance", "supply-chain")
SM = "arn:aws:states:us-east-1:111122223333:stateMachine:"
EX = "arn:aws:states:us-east-1:111122223333:execution:"
ERRORS = ("States.TaskFailed", "Lambda.ServiceException", "States.Timeout", "Bedrock.ThrottlingException")
STATES = ("Validate", "Enrich", "Call", "Notify")


# -- lake builders ----------------------------------------------------------------------------------
def build_columnar(path: str, executions: int, days: int = 90, seed: int = 7) -> None:
    """Executions and state runs for 5 domains × 3 machines over `days` days, written per partition."""
    rng = np.random.default_rng(seed)
    lake = Lake(path)
    machines = [(d, f"{d}-flow-{k}") for d in DOMAINS for k in range(3)]
    lake.write(
        "state_machines",
        [
            {
                "state_machine_arn": SM + n,
                "name": n,
                "domain": d,
                "type": "STANDARD",
                "account_id": "111122223333",
                "region": "us-east-1",
                "definition": "{}",
            }
            for d, n in machines
        ],
    )
    per_part = executions // (len(DOMAINS) * days)
    start0 = END - timedelta(days=days)
    serial = 0
    for day in range(days):
        day_start = start0 + timedelta(days=day)
        date = day_start.strftime("%Y-%m-%d")
        for d in DOMAINS:
            n = per_part
            m_idx = rng.integers(0, 3, n)
            names = np.array([f"{d}-flow-{k}" for k in range(3)], dtype=object)[m_idx]
            start_ms = np.sort(rng.integers(0, 86_400_000, n)) + int(day_start.timestamp() * 1000)
            # bimodal durations: fast path and a slow human/batch path
            dur = np.where(rng.random(n) < 0.8, rng.lognormal(8, 0.6, n), rng.lognormal(11.5, 0.5, n)).astype(
                np.int64
            )
            u = rng.random(n)
            status = np.where(
                u < 0.02,
                "FAILED",
                np.where(
                    u < 0.025,
                    "TIMED_OUT",
                    np.where(u < 0.027, "ABORTED", np.where(u < 0.03, "RUNNING", "SUCCEEDED")),
                ),
            ).astype(object)
            failed = np.isin(status, ["FAILED", "TIMED_OUT", "ABORTED"])
            ids = np.arange(serial, serial + n)
            serial += n
            sm_arn = pc.binary_join_element_wise(SM, pa.array(names), "")
            ex_name = pc.binary_join_element_wise("e", pc.cast(pa.array(ids), pa.string()), "")
            ex_arn = pc.binary_join_element_wise(EX, pa.array(names), ":", ex_name, "")
            err_i = rng.integers(0, len(ERRORS), n)
            err = np.where(failed, np.array(ERRORS, dtype=object)[err_i], None)
            fstate = np.where(failed, np.array(STATES, dtype=object)[rng.integers(0, 4, n)], None)
            cause = pc.if_else(
                pa.array(failed),
                pc.binary_join_element_wise(
                    "Request ",
                    pc.cast(pa.array(rng.integers(1, 10**9, n)), pa.string()),
                    " failed for order ",
                    pc.cast(pa.array(ids), pa.string()),
                    "",
                ),
                pa.scalar(None, pa.string()),
            )
            running = status == "RUNNING"
            ts = pa.array(start_ms, pa.timestamp("ms", tz="UTC"))
            stop = pa.array(np.where(running, 0, start_ms + dur), pa.timestamp("ms", tz="UTC"), mask=running)
            t = pa.table(
                {
                    "execution_arn": ex_arn,
                    "state_machine_arn": sm_arn,
                    "state_machine_name": pa.array(names),
                    "account_id": pa.array(["111122223333"] * n),
                    "region": pa.array(["us-east-1"] * n),
                    "name": ex_name,
                    "status": pa.array(status),
                    "start_time": ts,
                    "stop_time": stop,
                    "duration_ms": pa.array(dur, mask=running),
                    "error": pa.array(err, pa.string()),
                    "cause": cause,
                    "failed_state": pa.array(fstate, pa.string()),
                    "redrive_count": pa.array((rng.random(n) < 0.005).astype(np.int32)),
                    "event_count": pa.array(np.full(n, 12, np.int32)),
                    "history_complete": pa.array(np.ones(n, bool)),
                }
            )
            _write(lake, "executions", t, d, date)
            # three top-level state runs per execution: Validate → Call → Notify
            k = 3
            rep = np.repeat(np.arange(n), k)
            sdur = rng.lognormal(6, 1, n * k).astype(np.int64)
            st = np.tile(np.array(["Validate", "Call", "Notify"], dtype=object), n)
            nxt = np.tile(np.array(["Call", "Notify", None], dtype=object), n)
            sr_fail = np.zeros(n * k, bool)
            sr_fail[rep * 0 + np.arange(n * k)] = False
            sr_fail[np.arange(n)[failed] * k + 1] = True
            sr = pa.table(
                {
                    "execution_arn": pc.take(ex_arn, pa.array(rep)),
                    "entered_event_id": pa.array(np.tile(np.array([2, 5, 8]), n)),
                    "state_machine_arn": pc.take(sm_arn, pa.array(rep)),
                    "state_name": pa.array(st),
                    "state_type": pa.array(["Task"] * (n * k)),
                    "entered_time": pa.array(
                        start_ms[rep] + np.tile([0, 100, 200], n), pa.timestamp("ms", tz="UTC")
                    ),
                    "duration_ms": pa.array(sdur),
                    "attempts": pa.array(rng.integers(1, 3, n * k).astype(np.int32)),
                    "status": pa.array(np.where(sr_fail, "FAILED", "SUCCEEDED")),
                    "next_state": pa.array(nxt, pa.string()),
                }
            )
            _write(lake, "state_runs", sr, d, date)
    lake.write_meta(source="demo")
    lake.rebuild_derived()  # written straight to files above, so the derived tables are made here


def _write(lake: Lake, table: str, t: pa.Table, domain: str, date: str) -> None:
    schema = TABLES[table].schema
    cols = [
        t.column(f.name).cast(f.type) if f.name in t.column_names else pa.nulls(len(t), f.type)
        for f in schema
    ]
    path = lake.path(partition_dir(table, domain, date))
    os.makedirs(path, exist_ok=True)
    pq.write_table(
        pa.Table.from_arrays(cols, schema=schema),
        f"{path}/part-0.parquet",
        compression="zstd",
        row_group_size=128 * 1024,
    )


def build_simulated(path: str, executions: int) -> None:
    from collectors.simulate import build_demo

    build_demo(path, days=90, executions=executions, seed=7, events="sample", progress=sys.stderr)


# -- one measurement, run in a fresh process ---------------------------------------------------------
def questions(lake: str) -> dict[str, str]:
    """Question name → Python expression over `q` (queries) and `cfg`; periods relative to the lake end."""
    info = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--probe", lake], capture_output=True, text=True, check=True
        ).stdout
    )
    sm = info["sm"]
    return {
        "lake_info": "q.lake_info()",
        "domains": "q.domains()",
        "state_machines": "q.state_machines()",
        "collection_health": "q.collection_health(E)",
        "sla_report(domain)": "q.sla_report(cfg, S30, E, by='domain')",
        "sla_report(machine)": "q.sla_report(cfg, S30, E, by='state_machine')",
        "sla_report(rolling)": "q.sla_report(cfg, end=E, by='state_machine')",
        "sla_attainment_series": "q.sla_attainment_series(cfg, S30, E, domain=D)",
        "budget_burndown": "q.budget_burndown(cfg, E, domain=D)",
        "burn_rate_alerts": "q.burn_rate_alerts(cfg, E)",
        "failures_by_machine_hour": "q.failures_by_machine_hour(S7, E)",
        "failures_by_machine_hour(24h, hourly)": "q.failures_by_machine_hour(E - timedelta(hours=24), E, bucket_s=3600)",
        "failures_by_state_day": "q.failures_by_state_day(S30, E, domain=D)",
        "failures_by_error_machine": "q.failures_by_error_machine(S7, E)",
        "error_groups": "q.error_groups(S7, E, domain=D)",
        "error_groups(30d, all)": "q.error_groups(S30, E)",
        "error_groups(1h)": "q.error_groups(E - timedelta(hours=1), E)",
        "triage_list(100)": "q.triage_list(S7, E, limit=100)",
        "triage_list(1h)": "q.triage_list(E - timedelta(hours=1), E, limit=200)",
        "similar_failures": f"q.similar_failures({info['signature']!r})",
        "execution(arn)": f"q.execution({info['arn']!r})",
        "execution(arn, hints)": f"q.execution({info['arn']!r}, domain={info['domain']!r}, day=DAY)",
        "flow_states": f"q.flow_states({sm!r}, S7, E)",
        "flow_edges": f"q.flow_edges({sm!r}, S7, E)",
        "flow_paths": f"q.flow_paths({sm!r}, S7, E)",
        "state_durations": f"q.state_durations({sm!r}, S7, E)",
        "version_figures(30d)": f"q.version_figures({sm!r}, S30, E)",
        "version_figures(30d, by day)": f"q.version_figures({sm!r}, S30, E, by_day=True)",
        "audit_rows(30d, page 1)": "q.audit_rows(D, S30, E, cfg)",
        "audit_rows(30d, mid page)": "q.audit_rows(D, S30, E, cfg, after=(E - timedelta(days=15), ''))",
        "audit_count(30d)": "q.audit_count(D, S30, E)",
        "audit_export(30d)": "export_audit(q.audit_batches(D, S30, E, cfg), TMP, D, explicit(S30, E), {})",
    } | {"_info": json.dumps(info)}


# pandas reads the executions (or state_runs) table, then filters and aggregates in memory; it reads
# only the columns a question needs where that is simple (a kinder baseline, and lighter on memory)
_IN30 = "(X.start_time >= S30) & (X.start_time < E)"
_IN7 = "(X.start_time >= S7) & (X.start_time < E)"
_R7 = "R[(R.entered_time >= S7) & (R.entered_time < E) & (R.state_machine_arn == SMA)]"
_SLA = (
    "f = X[{w} & X.status.isin(TERM)]; f.groupby({by}).agg(n=('status', 'size'), "
    "ok=('status', lambda s: (s == 'SUCCEEDED').sum()), "
    "p=('duration_ms', lambda s: s.quantile([.5, .95, .99]).tolist()))"
)
NAIVE = {
    "lake_info": "ex(['start_time', 'domain']); (len(X), X.start_time.min(), X.start_time.max(), X.domain.nunique())",
    "domains": "ex(['domain']); X.groupby('domain').size()",
    "sla_report(domain)": "ex(SLA); " + _SLA.format(w=_IN30, by="'domain'"),
    "sla_report(machine)": "ex(SLA); " + _SLA.format(w=_IN30, by="'state_machine_arn'"),
    "sla_report(rolling)": "ex(SLA); " + _SLA.format(w=_IN30, by="'state_machine_arn'"),
    "sla_attainment_series": f"ex(SLA); f = X[{_IN30} & X.status.isin(TERM) & (X.domain == D)]; "
    "f.groupby(f.start_time.dt.floor('D')).agg(n=('status', 'size'), "
    "p95=('duration_ms', lambda s: s.quantile(.95)))",
    "budget_burndown": f"ex(SLA); f = X[{_IN30} & X.status.isin(TERM) & (X.domain == D)]; "
    "f.groupby(f.start_time.dt.floor('D')).status.apply(lambda s: (s != 'SUCCEEDED').sum()).cumsum()",
    "burn_rate_alerts": "ex(SLA); f = X[(X.start_time >= E - timedelta(days=3)) & (X.start_time < E) & X.status.isin(TERM)]; "
    "[f[f.start_time >= E - timedelta(seconds=w)].groupby(['domain', 'state_machine_arn']).size() "
    "for w in (300, 1800, 3600, 21600, 259200)]",
    "failures_by_machine_hour": f"ex(FAILS); f = X[{_IN7} & X.status.isin(FAIL)]; "
    "f.groupby([f.state_machine_arn, f.start_time.dt.hour]).size()",
    "failures_by_machine_hour(24h, hourly)": "ex(FAILS); f = X[(X.start_time >= E - timedelta(hours=24)) & "
    "(X.start_time < E) & X.status.isin(FAIL)]; f.groupby([f.state_machine_arn, f.start_time.dt.floor('h')]).size()",
    "failures_by_state_day": f"ex(FAILS); f = X[{_IN30} & X.status.isin(FAIL) & (X.domain == D)]; "
    "f.groupby([f.start_time.dt.floor('D'), f.root_state]).size()",
    "failures_by_error_machine": f"ex(FAILS); f = X[{_IN7} & X.status.isin(FAIL)]; f.groupby(['root_error', 'state_machine_arn']).size()",
    "error_groups": f"ex(FAILS); f = X[{_IN7} & X.status.isin(FAIL) & (X.domain == D)]; "
    "f.assign(p=f.root_cause.fillna('').str.replace(r'\\d+', '<n>', regex=True)).groupby(['root_error', 'root_state', 'p']).size()",
    "triage_list(100)": f"ex(None); f = X[{_IN7} & X.status.isin(FAIL)]; f.nlargest(100, 'start_time')",
    "execution(arn)": "ex(None); X[X.execution_arn == ARN]",
    "execution(arn, hints)": "ex(None); X[X.execution_arn == ARN]",
    "flow_states": f"sr(); f = {_R7}; f.groupby('state_name').duration_ms.quantile([.5, .95])",
    "flow_edges": f"sr(); f = {_R7}; f.groupby(['state_name', 'next_state']).size()",
    "flow_paths": f"sr(); f = {_R7}; f.sort_values('entered_event_id').groupby('execution_arn').state_name.agg(' → '.join).value_counts().head(10)",
    "state_durations": f"sr(); f = {_R7}; f.groupby('state_name').duration_ms.quantile([.5, .9, .95, .99])",
    "audit_rows(30d, page 1)": f"ex(None); X[(X.domain == D) & {_IN30}].sort_values(['start_time', 'execution_arn']).head(1000)",
    "audit_rows(30d, mid page)": "ex(None); X[(X.domain == D) & (X.start_time > E - timedelta(days=15)) & (X.start_time < E)]"
    ".sort_values(['start_time', 'execution_arn']).head(1000)",
    "audit_count(30d)": f"ex(['domain', 'start_time']); int(((X.domain == D) & {_IN30}).sum())",
    "audit_export(30d)": f"ex(None); X[(X.domain == D) & {_IN30}].sort_values(['start_time', 'execution_arn'])"
    ".to_csv(TMP + '/naive.csv', index=False)",
}

PRELUDE = """
import json, sys, time, resource
from datetime import datetime, timedelta, timezone
info = json.loads(sys.argv[2]); lake = sys.argv[1]
E = datetime.fromisoformat(info['end']); S30 = E - timedelta(days=30); S7 = E - timedelta(days=7)
D = info['domain']; DAY = datetime.fromisoformat(info['day']).date(); ARN = info['arn']; SMA = info['sm']
TERM = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']; FAIL = TERM[1:]
import atexit, shutil, tempfile
TMP = tempfile.mkdtemp(prefix='bench-queries-'); atexit.register(shutil.rmtree, TMP, True)
"""

RUN_FAST = (
    PRELUDE
    + """
import os
t0 = time.perf_counter()
import queries
from queries import sla_config
from queries.audit.job import export_audit
from queries.audit.period import explicit
q = queries.connect(lake)
cfg = sla_config.load(sys.argv[4]) if len(sys.argv) > 4 else sla_config.default()
t1 = time.perf_counter(); r = EXPR; t2 = time.perf_counter(); r = EXPR; t3 = time.perf_counter()
print(json.dumps({"first_ms": (t2 - t1) * 1000, "warm_ms": (t3 - t2) * 1000, "connect_ms": (t1 - t0) * 1000,
                  "rows": r["rows"] if isinstance(r, dict) and "rows" in r else r if isinstance(r, int) else len(r) if r is not None else 0,
                  "load": os.getloadavg()[0],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
)

RUN_NAIVE = (
    PRELUDE
    + """
import pandas as pd
X = R = None
SLA = ['domain', 'state_machine_arn', 'status', 'start_time', 'duration_ms']
FAILS = SLA + ['root_error', 'root_state', 'root_cause']
def ex(columns):  # the whole table, or the columns the question needs (None = all)
    global X
    X = pd.read_parquet(lake + '/executions', columns=columns)
def sr():
    global R
    R = pd.read_parquet(lake + '/state_runs', columns=['state_machine_arn', 'execution_arn', 'entered_event_id',
                                                      'state_name', 'next_state', 'entered_time', 'duration_ms'])
t1 = time.perf_counter()
EXPR
t2 = time.perf_counter()
print(json.dumps({"ms": (t2 - t1) * 1000, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
)


def run(code: str, lake: str, info: str, *extra: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, lake, info, *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    if out.returncode:
        return {
            "error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def probe(lake: str) -> None:
    import queries

    q = queries.connect(lake)
    info = q.lake_info()
    end = info["last_start"].astimezone(UTC) + timedelta(seconds=1)
    dom = q.domains().sort_values("executions").iloc[-1]["domain"]
    tl = q.triage_list(end - timedelta(days=10), end, domain=dom, limit=1)
    ex = q.execution(tl["execution_arn"].iloc[0])
    print(
        json.dumps(
            {
                "end": end.isoformat(),
                "domain": dom,
                "arn": ex["execution_arn"],
                "sm": ex["state_machine_arn"],
                "day": str(ex["date"]),
                "signature": tl["signature"].iloc[0],
                "executions": info["executions"],
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lake", default="/tmp/stepscope-bench-lake")
    p.add_argument("--executions", type=int, default=10_000_000)
    p.add_argument(
        "--builder",
        choices=("simulate", "columnar"),
        default="simulate",
        help="how to build a missing lake (default: the demo simulator)",
    )
    p.add_argument("--config", default=os.path.join(ROOT, "slas.yaml"))
    p.add_argument("--no-naive", action="store_true", help="skip the pandas side (it reads whole tables)")
    p.add_argument("--only", help="regular expression: run only the questions whose name matches")
    p.add_argument("--repeat", type=int, default=1, help="fresh processes per question (median reported)")
    p.add_argument("--probe")
    a = p.parse_args()
    if a.probe:
        probe(a.probe)
        return
    if not os.path.exists(os.path.join(a.lake, "_stepscope.json")):
        builder = a.builder or "simulate"
        t0 = time.perf_counter()
        (build_simulated if builder == "simulate" else build_columnar)(a.lake, a.executions)
        print(f"built {a.lake} with {builder} in {time.perf_counter() - t0:.0f} s")
    qs = questions(a.lake)
    info = qs.pop("_info")
    if a.only:
        qs = {k: v for k, v in qs.items() if re.search(a.only, k)}
    print(
        f"lake {a.lake}: {json.loads(info)['executions']:,} executions; {os.cpu_count()} cores; "
        f"load average {_load()} at start"
    )
    head = (
        f"{'question':26} {'first ms':>8} {'warm ms':>8} {'peak MiB':>8} {'rows':>7} {'load':>5} | "
        f"{'naive ms':>8} {'naive MiB':>9} {'speed-up':>8}"
    )
    print(head + "\n" + "-" * len(head), flush=True)
    for name, expr in qs.items():
        # Each repeat is a fresh process; the median damps the noise of a shared machine.
        runs = [run(RUN_FAST.replace("EXPR", expr), a.lake, info, "x", a.config) for _ in range(a.repeat)]
        bad = [r for r in runs if "error" in r]
        if bad:
            print(f"{name:26} ERROR {bad[0]['error']}", flush=True)
            continue
        first = statistics.median(r["first_ms"] for r in runs)
        warm = statistics.median(r["warm_ms"] for r in runs)
        peak = max(r["peak_mib"] for r in runs)
        load = statistics.median(r["load"] for r in runs)
        line = f"{name:26} {first:8.0f} {warm:8.0f} {peak:8.0f} {runs[0]['rows']:7d} {load:5.1f} |"
        if name in NAIVE and not a.no_naive:
            naive = run(RUN_NAIVE.replace("EXPR", NAIVE[name]), a.lake, info)
            if "error" in naive:
                line += f" naive error: {naive['error']}"
            else:
                line += f" {naive['ms']:8.0f} {naive['peak_mib']:9.0f} {naive['ms'] / first:7.1f}×"
        print(line, flush=True)
    print(
        f"first = first call in a fresh process after connect (median of {a.repeat}); warm = the same call again; "
        f"peak = max RSS of that process (Python + pandas + DuckDB); load = 1-min load average when it ran; "
        f"naive = pandas reads the whole table, then filters; speed-up = naive ms / first ms.\n"
        f"load average {_load()} at end, {time.strftime('%F %T')}; "
        f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime:.0f} s CPU in children"
    )


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
