"""Collector figures: a collect run against a moto server, and a 25,000-event history via Stubber.

    .venv/bin/python bench/bench_collect.py [--executions 300] [--concurrency 8]

Prints: executions/s and API calls/s of a first run, the cost of a re-run (incremental) next to
a full re-collect of the same window (what a collector without the lake comparison would do),
and pages/s, events/s and peak memory for one 25,000-event history.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from collectors.ratelimit import RateLimiter  # noqa: E402
from collectors.run import collect  # noqa: E402
from collectors.source import CollectOptions  # noqa: E402
from collectors.stepfunctions import fetch as sf  # noqa: E402
from collectors.stepfunctions.normalize import normalize_execution  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/bench"
FLOWS = {
    "triage": (
        "exceptions",
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}}},
    ),
    "resolve": (
        "exceptions",
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}},
                        {"StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": True}}},
                    ],
                    "End": True,
                }
            },
        },
    ),
    "infer": (
        "inference",
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}},
                    "End": True,
                }
            },
        },
    ),
}


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "MOTO_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/moto-api/config", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    body = json.dumps(
        {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    ).encode()
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/config", data=body, method="POST")).read()
    return proc, url


def populate(n: int) -> int:
    sfn = boto3.client("stepfunctions")
    arns = []
    for name, (domain, d) in FLOWS.items():
        sm = sfn.create_state_machine(
            name=name, definition=json.dumps(d), roleArn=ROLE, tags=[{"key": "domain", "value": domain}]
        )["stateMachineArn"]
        arns.append(sm)
    started = []
    for i in range(n):
        sm = arns[i % len(arns)]
        started.append(
            sfn.start_execution(stateMachineArn=sm, name=f"x{i}", input=json.dumps({"items": [1, 2, 3]}))[
                "executionArn"
            ]
        )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = sum(
            len(sfn.list_executions(stateMachineArn=sm, statusFilter="RUNNING")["executions"]) for sm in arns
        )
        if not running:
            break
        time.sleep(0.5)
    return len(started)


def timed_collect(lake: str, concurrency: int) -> tuple[float, dict]:
    t0 = time.perf_counter()
    s = collect(CollectOptions(lake=lake, concurrency=concurrency, progress_every=0), limiter=RateLimiter())
    return time.perf_counter() - t0, s.as_dict()


def bench_moto(n: int, concurrency: int) -> None:
    proc, url = start_moto()
    os.environ.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    try:
        t0 = time.perf_counter()
        total = populate(n)
        print(f"moto: {total} executions of 3 flows ran in {time.perf_counter() - t0:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            secs, first = timed_collect(f"{tmp}/lake", concurrency)
            calls = sum(first["api"]["calls"].values())
            print(
                f"first run : {first['new']} executions, {first['pages']} history pages, {first['events']} events, "
                f"{calls} API calls in {secs:.2f} s -> {first['new'] / secs:.0f} executions/s, "
                f"{calls / secs:.0f} calls/s, paced {first['api']['paced_seconds']:.1f} s"
            )
            secs2, again = timed_collect(f"{tmp}/lake", concurrency)
            calls2 = sum(again["api"]["calls"].values())
            secs3, full = timed_collect(f"{tmp}/fresh", concurrency)
            calls3 = sum(full["api"]["calls"].values())
            print(
                f"re-run    : {calls2} API calls ({again['api']['calls'].get('GetExecutionHistory', 0)} "
                f"GetExecutionHistory) in {secs2:.2f} s"
            )
            print(
                f"full re-collect of the same window: {calls3} API calls in {secs3:.2f} s "
                f"-> incremental is {secs3 / secs2:.1f}x faster, {calls3 / max(calls2, 1):.1f}x fewer calls"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def bench_big_history(n_events: int = 25_000) -> None:
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    arn = "arn:aws:states:us-east-1:123456789012:execution:big:e1"
    events = [
        {
            "id": 1,
            "previousEventId": 0,
            "type": "ExecutionStarted",
            "timestamp": t0,
            "executionStartedEventDetails": {"roleArn": ROLE, "input": "{}"},
        }
    ]
    for i in range(2, n_events):
        ts = t0 + timedelta(milliseconds=i)
        if i % 2:
            events.append(
                {
                    "id": i,
                    "previousEventId": i - 1,
                    "type": "PassStateExited",
                    "timestamp": ts,
                    "stateExitedEventDetails": {"name": f"S{i - 1}", "output": '{"ok": true}'},
                }
            )
        else:
            events.append(
                {
                    "id": i,
                    "previousEventId": i - 1,
                    "type": "PassStateEntered",
                    "timestamp": ts,
                    "stateEnteredEventDetails": {"name": f"S{i}", "input": "{}"},
                }
            )
    events.append(
        {
            "id": n_events,
            "previousEventId": n_events - 1,
            "type": "ExecutionSucceeded",
            "timestamp": t0 + timedelta(milliseconds=n_events),
            "executionSucceededEventDetails": {},
        }
    )
    sfn = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    pages = [events[i : i + 1000] for i in range(0, len(events), 1000)]
    item = {
        "executionArn": arn,
        "stateMachineArn": arn,
        "name": "e1",
        "status": "SUCCEEDED",
        "startDate": t0,
        "stopDate": t0 + timedelta(seconds=30),
    }
    with Stubber(sfn) as stub:
        stub.add_response("describe_execution", item)
        for k, p in enumerate(pages):
            stub.add_response(
                "get_execution_history",
                {"events": p, **({"nextToken": f"t{k + 1}"} if k + 1 < len(pages) else {})},
            )
        tracemalloc.start()
        t = time.perf_counter()
        fetched = sf.fetch_execution(sfn, item)
        fetch_s = time.perf_counter() - t
        t = time.perf_counter()
        n = normalize_execution(
            fetched.execution, fetched.events, state_machine={"domain": "bench"}, collected_at=t0
        )
        norm_s = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(
        f"25k history (Stubber): {fetched.pages} pages read in {fetch_s:.2f} s -> {fetched.pages / fetch_s:.0f} pages/s, "
        f"{len(fetched.events) / fetch_s:,.0f} events/s (botocore parse + validation)"
    )
    print(
        f"  normalised to {len(n.state_runs):,} state runs + {len(n.events):,} event rows in {norm_s:.2f} s; "
        f"peak Python memory {peak / 2**20:.0f} MiB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executions", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    bench_moto(args.executions, args.concurrency)
    bench_big_history()


if __name__ == "__main__":
    main()
