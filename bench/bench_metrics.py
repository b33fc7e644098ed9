"""Metrics source figures: a worst-case CloudWatch collection of a simulated account, then its re-run.

    .venv/bin/python bench/bench_metrics.py [--days 30]

A simulated account of 14 state machines (2 of them EXPRESS) whose definitions call 18 Lambda
functions is collected by the real run (`collectors.run.Run` with the metrics source: discovery,
ListMetrics, the query plan, GetMetricData paging, the normalizer, the lake writes) into a temporary
lake. AWS is answered in-process by a botocore `before-call` hook on the run's own clients, with
responses already parsed (as botocore's Stubber hands them over; timestamps made by botocore's own
`parse_timestamp`, as its parser makes them): a datapoint in every period of every series, the worst
case, in pages of at most MaxDatapoints (100,800 unless the request says otherwise), each series
getting an equal share of a page and `PartialData` plus a NextToken while it has more, like
GetMetricData. The source's datapoint pacing is recorded rather than slept.

Prints, for a first run over --days and a second run 5 minutes later (incremental: from the cursor
minus the look-back): series per run, GetMetricData calls, queries billed, datapoints, seconds (and
how much of them the in-process CloudWatch took), datapoints/s, the wait the datapoint quota would
add, peak memory, lake size; then the monthly cost of collecting every 5 minutes at the per-metric
price, as the collector's summary reports it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.compat import HTTPHeaders  # noqa: E402
from botocore.utils import parse_timestamp  # noqa: E402

from collectors.aws import Target  # noqa: E402
from collectors.cloudwatch.fetch import MAX_DATAPOINTS  # noqa: E402
from collectors.cloudwatch.queries import CAPACITY, INTEGRATION, STATES  # noqa: E402
from collectors.ratelimit import RateLimiter  # noqa: E402
from collectors.run import Run, Summary  # noqa: E402
from collectors.source import CollectOptions  # noqa: E402

ACCT, REGION = "123456789012", "us-east-1"
NOW = datetime(2025, 6, 16, 9, 30, tzinfo=UTC)  # fixed, so every run prints the same counts
LATER = timedelta(minutes=5)
DOMAINS = ("payments", "customer-care", "ai-inference", "risk-compliance", "supply-chain")
N_MACHINES, EXPRESS_AT, N_FUNCTIONS = 14, (4, 11), 18
# APIName values ListMetrics finds (capacity metrics per API), and the integrations it has metrics for:
# the two the definitions use, Region- and account-qualified as AWS lists them, and one they do not.
API_NAMES = (
    "StartExecution",
    "StartSyncExecution",
    "DescribeExecution",
    "GetExecutionHistory",
    "SendTaskSuccess",
)
INTEGRATIONS = tuple(
    f"arn:aws:states:{REGION}:{ACCT}:{r}" for r in ("lambda:invoke", "sns:publish", "dynamodb:putItem")
)


def definition(functions: tuple[str, str, str]) -> str:
    """Three Lambda Tasks, one of each way of naming a function (ARN with alias, name:alias through
    lambda:invoke, full ARN through lambda:invoke), then an SNS notification."""
    a, b, c = functions
    arn = f"arn:aws:lambda:{REGION}:{ACCT}:function"
    invoke = "arn:aws:states:::lambda:invoke"
    states = {
        "Score": {"Type": "Task", "Resource": f"{arn}:{a}:live", "Next": "Ground"},
        "Ground": {
            "Type": "Task",
            "Resource": invoke,
            "Parameters": {"FunctionName": f"{b}:prod", "Payload.$": "$"},
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Task",
            "Resource": invoke,
            "Parameters": {"FunctionName": f"{arn}:{c}", "Payload.$": "$"},
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": f"arn:aws:sns:{REGION}:{ACCT}:outcomes", "Message.$": "$"},
            "End": True,
        },
    }
    return json.dumps({"StartAt": "Score", "States": states})


class Account:
    """The simulated account's Step Functions, tagging API and CloudWatch, answering a client's calls
    through botocore's events; `seconds` is the time spent making the answers."""

    def __init__(self) -> None:
        fns = [f"fn-{j:02d}" for j in range(N_FUNCTIONS)]
        self.machines: dict[str, dict[str, Any]] = {}
        for i in range(N_MACHINES):
            domain = DOMAINS[i % len(DOMAINS)]
            name = f"{domain}-flow-{i:02d}"
            arn = f"arn:aws:states:{REGION}:{ACCT}:stateMachine:{name}"
            calls = (fns[i % N_FUNCTIONS], fns[(i + 1) % N_FUNCTIONS], fns[(i + 4) % N_FUNCTIONS])
            self.machines[arn] = {
                "stateMachineArn": arn,
                "name": name,
                "type": "EXPRESS" if i in EXPRESS_AT else "STANDARD",
                "status": "ACTIVE",
                "definition": definition(calls),
                "roleArn": f"arn:aws:iam::{ACCT}:role/flows",
                "creationDate": NOW - timedelta(days=400),
                "domain": domain,
            }
        self.seconds = 0.0
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "GetResources": self.get_resources,
            "DescribeStateMachine": self.describe_state_machine,
            "ListMetrics": self.list_metrics,
            "GetMetricData": self.get_metric_data,
        }

    def attach(self, session: boto3.Session) -> None:
        """Answer every call of the clients `session` creates from now on."""
        session.events.register("before-parameter-build.*.*", self._keep_params)
        # A before-call handler's return value answers the call (the stubs type handlers as returning None).
        session.events.register("before-call.*.*", self._answer)  # type: ignore[arg-type]

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params  # the call's parameters as given, before serialisation

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        handler = self.handlers.get(model.name)
        if handler is None:
            raise RuntimeError(f"the simulated account does not answer {model.name}")
        t0 = time.perf_counter()
        parsed = handler(context["bench_params"])
        self.seconds += time.perf_counter() - t0
        return AWSResponse("", 200, HTTPHeaders(), None), parsed

    def get_resources(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ResourceTagMappingList": [
                {"ResourceARN": arn, "Tags": [{"Key": "domain", "Value": m["domain"]}]}
                for arn, m in self.machines.items()
            ]
        }

    def describe_state_machine(self, p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in self.machines[p["stateMachineArn"]].items() if k != "domain"}

    def list_metrics(self, p: dict[str, Any]) -> dict[str, Any]:
        dim = p["Dimensions"][0]["Name"]
        values, specs = (API_NAMES, CAPACITY) if dim == "APIName" else (INTEGRATIONS, INTEGRATION)
        return {
            "Metrics": [
                {"Namespace": STATES, "MetricName": m, "Dimensions": [{"Name": dim, "Value": v}]}
                for v in values
                for m, *_ in specs
            ]
        }

    def get_metric_data(self, p: dict[str, Any]) -> dict[str, Any]:
        """A datapoint in every period of [StartTime, EndTime) for every query, values scattered (so the
        lake's compression is not flattered); each page gives every series an equal share of
        MaxDatapoints, the NextToken saying which share comes next."""
        queries = p["MetricDataQueries"]
        share = max(1, p.get("MaxDatapoints", MAX_DATAPOINTS) // len(queries))
        page = int(p.get("NextToken") or 0)
        start, end = int(p["StartTime"].timestamp()), int(p["EndTime"].timestamp())
        results, more = [], False
        for j, q in enumerate(queries):
            period, salt = q["MetricStat"]["Period"], j * 40_503
            every = range(-(-start // period) * period, end, period)
            stamps = every[page * share : (page + 1) * share]
            partial = len(every) > (page + 1) * share
            more |= partial
            results.append(
                {
                    "Id": q["Id"],
                    "Label": q["MetricStat"]["Metric"]["MetricName"],
                    # botocore's CBOR parser hands it epoch numbers (its stubs say str)
                    "Timestamps": [parse_timestamp(t) for t in stamps],  # type: ignore[arg-type]
                    "Values": [float((t // period * 2654435761 + salt) % 100_003) / 8 for t in stamps],
                    "StatusCode": "PartialData" if partial else "Complete",
                }
            )
        return {
            "MetricDataResults": results,
            "Messages": [],
            **({"NextToken": str(page + 1)} if more else {}),
        }


def collect_once(account: Account, lake: str, now: datetime, since: datetime | None) -> dict[str, Any]:
    """One collect run of the metrics source at `now`; its figures."""
    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION)
    account.attach(session)
    limiter = RateLimiter()
    waits: list[float] = []
    opts = CollectOptions(lake=lake, sources=["metrics"], progress_every=0, since=since)
    answered = account.seconds
    t0 = time.perf_counter()
    s: Summary = Run(
        opts, [Target(ACCT, REGION, session, limiter)], limiter, now=lambda: now, sleep=waits.append
    ).run()
    secs = time.perf_counter() - t0
    if s.errors:
        raise SystemExit("bench_metrics: the collection reported errors:\n  " + "\n  ".join(s.errors))
    c = s.as_dict()
    files = [f for f in Path(lake).rglob("*") if f.is_file()]
    return {
        **c,
        "calls": s.api["calls"].get("cloudwatch.GetMetricData", 0),
        "wall_s": secs,
        "answer_s": account.seconds - answered,
        # Waits are not slept, so each is the whole debt so far: the largest is what pacing would add.
        "quota_wait_s": max(waits, default=0.0),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "lake_mib": sum(f.stat().st_size for f in files) / 2**20,
        "lake_rows": sum(
            pq.ParquetFile(f).metadata.num_rows for f in Path(lake, "metrics").rglob("*.parquet")
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30, help="the first run's window, ending now (default 30)")
    args = ap.parse_args()
    account = Account()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        lake = f"{tmp}/lake"
        first = collect_once(account, lake, NOW, NOW - timedelta(days=args.days))
        again = collect_once(account, lake, NOW + LATER, None)
    express = sum(m["type"] == "EXPRESS" for m in account.machines.values())
    print(
        f"simulated account: {first['machines']} state machines ({express} EXPRESS), {first['functions']} Lambda "
        f"functions called; CloudWatch answers a datapoint in every period of every series"
    )
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("series per run", lambda r: f"{r['metric_series']:,}"),
        ("GetMetricData calls (pages)", lambda r: f"{r['calls']:,}"),
        ("queries billed", lambda r: f"{r['metric_queries']:,}"),
        ("datapoints", lambda r: f"{r['datapoints']:,}"),
        ("seconds", lambda r: f"{r['wall_s']:.2f}"),
        ("  of which CloudWatch, in-process", lambda r: f"{r['answer_s']:.2f}"),
        ("datapoints/s", lambda r: f"{r['datapoints'] / r['wall_s']:,.0f}"),
        ("  the collector alone", lambda r: f"{r['datapoints'] / (r['wall_s'] - r['answer_s']):,.0f}"),
        ("datapoint quota (80 %) would add, s", lambda r: f"{r['quota_wait_s']:.1f}"),
        # ru_maxrss is the process's peak so far: the second run's own is not separable from the first's.
        (
            "peak MiB (before the runs)",
            lambda r: f"{r['peak_mib']:.0f} ({before:.0f})" if r is first else "-",
        ),
        ("lake MiB", lambda r: f"{r['lake_mib']:.1f}"),
        ("lake metrics rows", lambda r: f"{r['lake_rows']:,}"),
    ]
    head = (f"first run ({args.days} d)", "5 min later")
    print(f"{'':<40}{head[0]:>20}{head[1]:>20}")
    for label, cell in rows:
        print(f"{label:<40}{cell(first):>20}{cell(again):>20}")
    print(
        f"collected every {again['schedule_s'] / 60:g} min at ${again['metric_price']} per 1,000 metrics: about "
        f"${again['metric_cost_month_usd']:,.2f} a month (the collector's summary figure; "
        f"{again['metric_series']:,} series and {again['list_metrics_calls']} ListMetrics calls a run)"
    )


if __name__ == "__main__":
    main()
