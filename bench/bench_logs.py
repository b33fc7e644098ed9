"""Histories per hour: from GetExecutionHistory (its quota) against from CloudWatch Logs, on the same records.

    python bench/bench_logs.py [--executions 3000]

The simulator's executions of one STANDARD machine (customer-care-ticket-triage, logging ALL) are written
as the CloudWatch Logs records Step Functions writes, put into a moto server's log group, and read back
by `stepscope collect --source logs --history-source logs` (the real source: FilterLogEvents, mapping,
normaliser, lake writes). Printed side by side:
- the history API's ceiling: each execution costs DescribeExecution (15/s) and a GetExecutionHistory call
  per 1,000 events (20/s); the collector paces at 80 % of both;
- the logs' ceiling: FilterLogEvents (5/s, paced at 80 %) returns up to 10,000 records a call;
- what this machine did: the logs collection's wall time on moto, and the normaliser alone on the same
  histories as the API returns them (what the API path costs here beyond its waiting).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from bench_collect import start_moto  # noqa: E402

from collectors.logs import SOURCE as LOGS  # noqa: E402
from collectors.ratelimit import RateLimiter  # noqa: E402
from collectors.run import collect  # noqa: E402
from collectors.simulate import records  # noqa: E402
from collectors.simulate.build import World, _days, make_plan  # noqa: E402
from collectors.simulate.express import log_messages  # noqa: E402
from collectors.source import CollectOptions  # noqa: E402
from collectors.stepfunctions import SOURCE as HISTORIES  # noqa: E402
from collectors.stepfunctions.normalize import normalize_execution  # noqa: E402

MACHINE = "customer-care-ticket-triage"
MARGIN = 0.8
PAGE_EVENTS, PAGE_RECORDS = 1000, 10_000  # GetExecutionHistory page, FilterLogEvents page
PUT_BATCH = 5000  # log events per PutLogEvents call (≤ 10,000 and 1 MB)


def simulated(n: int) -> tuple[list[tuple[dict, list[dict]]], dict]:
    """About `n` finished executions of MACHINE ending now: (DescribeExecution, history events) each."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = make_plan(tmp, days=1, executions=n * 8, seed=7, end=None, events="none")
        world = World(plan)
        m = next(i for i, s in enumerate(world.specs) if s.name == MACHINE)
        out = []
        for day_ms in _days(plan.start_ms, plan.end_ms):
            day = world.draw_day(day_ms)
            for i in (j for j in range(len(day["m"])) if day["m"][j] == m):
                desc, events, _ = world.raw(day, i)
                if desc["status"] != "RUNNING":
                    out.append((desc, events))
        return out[:n], world.sm_rows[m]


def put_records(executions: list[tuple[dict, list[dict]]], group: str) -> int:
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    items = sorted(
        (int(ev["timestamp"].timestamp() * 1000), msg)
        for desc, events in executions
        for ev, msg in zip(
            events, log_messages(desc["executionArn"], events, include_data=False), strict=True
        )
    )
    for i in range(0, len(items), PUT_BATCH):
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": ts, "message": m} for ts, m in items[i : i + PUT_BATCH]],
        )
    return len(items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executions", type=int, default=3000)
    args = ap.parse_args()
    for k, v in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ[k] = v
    executions, sm_row = simulated(args.executions)
    n = len(executions)
    n_events = sum(len(e) for _, e in executions)
    pages = sum(max(1, math.ceil(len(e) / PAGE_EVENTS)) for _, e in executions)

    t0 = time.perf_counter()
    for desc, events in executions:
        normalize_execution(desc, events, state_machine=sm_row, collected_at=records.ms_to_dt(0))
    normalize_s = time.perf_counter() - t0

    proc, url = start_moto()
    try:
        os.environ["AWS_ENDPOINT_URL"] = url
        group = f"/aws/vendedlogs/states/{MACHINE}"
        put = put_records(executions, group)
        sfn = boto3.client("stepfunctions")
        sfn.create_state_machine(
            name=MACHINE,
            definition=sm_row["definition"],
            roleArn=sm_row["role_arn"],
            loggingConfiguration={
                "level": "ALL",
                "includeExecutionData": False,
                "destinations": [
                    {
                        "cloudWatchLogsLogGroup": {
                            "logGroupArn": f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"
                        }
                    }
                ],
            },
            tags=[{"key": "domain", "value": sm_row["domain"]}],
        )
        with tempfile.TemporaryDirectory() as lake:
            opts = CollectOptions(
                lake=lake,
                sources=["logs"],
                history_source="logs",
                progress_every=0,
                since=records.ms_to_dt(0),
            )
            t0 = time.perf_counter()
            s = collect(opts, limiter=RateLimiter(MARGIN))
            logs_s = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    filter_calls = s.api["calls"].get("logs.FilterLogEvents", 0)
    collected = s.counts["log_new"]

    q = {**HISTORIES.quotas, **LOGS.quotas}
    hist_rate, desc_rate = (
        q[("stepfunctions", "GetExecutionHistory")][1],
        q[("stepfunctions", "DescribeExecution")][1],
    )
    filter_rate = q[("logs", "FilterLogEvents")][1]
    per_exec_api = pages / n  # GetExecutionHistory calls per execution
    api_quota = 3600 * min(hist_rate / per_exec_api, desc_rate)
    api_paced = MARGIN * api_quota
    rec_per_exec = put / n
    logs_quota = 3600 * filter_rate * PAGE_RECORDS / rec_per_exec
    logs_paced = MARGIN * logs_quota
    logs_here = 3600 * collected / logs_s
    api_cpu = 3600 * n / normalize_s

    print(
        f"{n:,} executions of {MACHINE}: {n_events:,} history events, {put:,} log records ({rec_per_exec:.1f} each)"
    )
    print(f"  history API: {pages:,} GetExecutionHistory pages + {n:,} DescribeExecution calls")
    print(f"  logs:        {filter_calls:,} FilterLogEvents calls (up to {PAGE_RECORDS:,} records each)")
    print()
    print(f"{'executions per hour':<44}{'history API':>16}{'CloudWatch Logs':>18}")
    print(f"{'  at the published quota':<44}{api_quota:>16,.0f}{logs_quota:>18,.0f}")
    print(f"{'  paced by the collector (80 %)':<44}{api_paced:>16,.0f}{logs_paced:>18,.0f}")
    print(f"{'  on this machine (normaliser / whole run)':<44}{api_cpu:>16,.0f}{logs_here:>18,.0f}")
    print(
        f"  logs collection on moto: {collected:,} executions in {logs_s:.1f} s; normaliser alone {normalize_s:.1f} s"
    )
    print(
        f"  ratio logs / API at the paced quotas: {logs_paced / api_paced:,.0f}x; the logs path is bound by "
        f"this machine's CPU ({logs_here / api_paced:,.1f}x the API's paced ceiling here)"
    )


if __name__ == "__main__":
    main()
