"""A tiny lake of executions and CloudWatch datapoints for the metric questions; the datapoints go through
the collector's normalizer. Every expected figure in test_metrics_queries.py is worked out from here.

Days D1 = 2025-03-03 and D2 = 2025-03-04 (UTC); machines A and B (domain pay), C (domain care), E (an
EXPRESS machine of pay: two executions, billed 20 s at 64 MB and 30 s at 128 MB).

A  D1: a1 succeeded, a2 failed, a3 failed at 23:55, was redriven on D2 00:30 and succeeded at 00:40,
       a4 still running: 4 in the lake, 4 started in CloudWatch (each ExecutionsStarted twice: 1, then 0,
       so its SampleCount is 8).
   D2: a5 succeeded; CloudWatch counted 3 started: the histories were collected up to D2 09:00, the
       two started at 10:00 are missing (collection lag).
B  D1: CloudWatch counted 2, the lake has none of B's executions before D2 (not tagged then).
   D2: b1, counted once.
C  D1: c1 and c2 in the lake, CloudWatch counted 1 (extra). D2: c3, no CloudWatch datapoints at all.

Lambda function f (domain pay) has datapoints on D1 14:00-14:01 and D2 09:00-09:02, so a period can take
D1 whole and D2 in part, or the other way round; E's Express datapoints are on D1 14:00-14:01.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.cloudwatch.normalize import metric_table
from collectors.cloudwatch.queries import MetricQuery
from lake.store import Lake

ACCT, REGION = "111122223333", "us-east-1"
SM = f"arn:aws:states:{REGION}:{ACCT}:stateMachine:"
EX = f"arn:aws:states:{REGION}:{ACCT}:execution:"
A, B, C, E = SM + "a", SM + "b", SM + "c", SM + "e"
DOMAIN = {A: "pay", B: "pay", C: "care", E: "pay"}
D1, D2 = datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


def _ex(machine: str, name: str, start: datetime, status: str, stop: datetime | None, **kw: Any) -> dict:
    return {
        "execution_arn": f"{EX}{machine.rsplit(':', 1)[1]}:{name}",
        "state_machine_arn": machine,
        "state_machine_name": machine.rsplit(":", 1)[1],
        "account_id": ACCT,
        "region": REGION,
        "name": name,
        "status": status,
        "start_time": start,
        "stop_time": stop,
        "duration_ms": int((stop - start).total_seconds() * 1000) if stop else None,
        "redrive_count": 0,
        "redrive_date": None,
        "history_complete": True,
        "domain": DOMAIN[machine],
        "date": start.strftime("%Y-%m-%d"),
        **kw,
    }


def executions() -> list[dict]:
    return [
        _ex(A, "a1", at(D1, 10), "SUCCEEDED", at(D1, 10, 1)),
        _ex(A, "a2", at(D1, 11), "FAILED", at(D1, 11, 5)),
        _ex(A, "a3", at(D1, 23, 50), "SUCCEEDED", at(D2, 0, 40), redrive_count=1, redrive_date=at(D2, 0, 30)),
        _ex(A, "a4", at(D1, 12), "RUNNING", None),
        _ex(A, "a5", at(D2, 9), "SUCCEEDED", at(D2, 9, 5)),
        _ex(B, "b1", at(D2, 8), "SUCCEEDED", at(D2, 8, 1)),
        _ex(C, "c1", at(D1, 9), "SUCCEEDED", at(D1, 9, 1)),
        _ex(C, "c2", at(D1, 9, 30), "SUCCEEDED", at(D1, 9, 31)),
        _ex(C, "c3", at(D2, 9), "SUCCEEDED", at(D2, 9, 1)),
        _ex(E, "e1", at(D1, 14), "SUCCEEDED", at(D1, 14, 0) + timedelta(seconds=20)),
        _ex(E, "e2", at(D1, 14, 1), "SUCCEEDED", at(D1, 14, 1) + timedelta(seconds=30)),
    ]


# (machine, metric, stat) → datapoints (minute, value): what CloudWatch answered
STATES: dict[tuple[str, str, str], list[tuple[datetime, float]]] = {
    (A, "ExecutionsStarted", "Sum"): [
        (at(D1, 10), 1),
        (at(D1, 11), 1),
        (at(D1, 12), 1),
        (at(D1, 23, 50), 1),
        (at(D2, 9), 1),
        (at(D2, 10), 2),
    ],
    (A, "ExecutionsStarted", "SampleCount"): [
        (at(D1, 10), 2),
        (at(D1, 11), 2),
        (at(D1, 12), 2),
        (at(D1, 23, 50), 2),
        (at(D2, 9), 2),
        (at(D2, 10), 4),
    ],
    (A, "ExecutionsSucceeded", "Sum"): [(at(D1, 10, 1), 1), (at(D2, 0, 40), 1), (at(D2, 9, 5), 1)],
    (A, "ExecutionsFailed", "Sum"): [(at(D1, 11, 5), 1), (at(D1, 23, 55), 1)],
    (A, "ExecutionsRedriven", "Sum"): [(at(D2, 0, 30), 1)],
    (A, "RedrivenExecutionsSucceeded", "Sum"): [(at(D2, 0, 40), 1)],
    (B, "ExecutionsStarted", "Sum"): [(at(D1, 8), 2), (at(D2, 8), 1)],
    (B, "ExecutionsSucceeded", "Sum"): [(at(D1, 8, 1), 2), (at(D2, 8, 1), 1)],
    (C, "ExecutionsStarted", "Sum"): [(at(D1, 9), 1)],
    (E, "ExecutionsStarted", "Sum"): [(at(D1, 14), 1), (at(D1, 14, 1), 1)],
    (E, "ExpressExecutionBilledDuration", "Sum"): [(at(D1, 14), 20_000), (at(D1, 14, 1), 30_000)],
    (E, "ExpressExecutionBilledMemory", "Average"): [(at(D1, 14), 64), (at(D1, 14, 1), 128)],
}
# account level, us-east-1: (metric, dimensions) → datapoints
ACCOUNT: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[datetime, float]]] = {
    ("OpenExecutionCount", "Maximum", ()): [
        (at(D1, 14), 100),
        (at(D1, 14, 1), 850_000),
        (at(D1, 14, 2), 200),
    ],
    ("OpenExecutionLimit", "Maximum", ()): [(at(D1, 14, m), 1_000_000) for m in range(3)],
    ("ConsumedCapacity", "Sum", (("ServiceMetric", "StateTransition"),)): [
        (at(D1, 14), 60_000),
        (at(D1, 14, 1), 12_000),
    ],
    ("ProvisionedRefillRate", "Minimum", (("ServiceMetric", "StateTransition"),)): [
        (at(D1, 14, m), 5_000) for m in range(3)
    ],
    ("ProvisionedBucketSize", "Minimum", (("ServiceMetric", "StateTransition"),)): [
        (at(D1, 14, m), 5_000) for m in range(3)
    ],
    ("ThrottledEvents", "Sum", (("ServiceMetric", "StateTransition"),)): [
        (at(D1, 14), 5),
        (at(D1, 14, 2), 7),
    ],
}
# Lambda function f: (metric, stat) → datapoints
FUNCTION = "f"


def minutes(day: datetime, hour: int, values: list[float]) -> list[tuple[datetime, float]]:
    """Datapoints at `hour`:00, :01, ... of `day`."""
    return [(at(day, hour, m), v) for m, v in enumerate(values)]


# On D2 09:02 a duration came back without its Invocations datapoint: it weighs nothing.
LAMBDA: dict[tuple[str, str], list[tuple[datetime, float]]] = {
    ("Invocations", "Sum"): minutes(D1, 14, [10, 30]) + minutes(D2, 9, [20, 5]),
    ("Errors", "Sum"): [(at(D1, 14), 1), (at(D2, 9, 1), 3)],
    ("Throttles", "Sum"): [(at(D1, 14, 1), 2)],
    ("Duration", "Average"): minutes(D1, 14, [50, 80]) + minutes(D2, 9, [60, 90, 70]),
    ("Duration", "p95"): minutes(D1, 14, [100, 200]) + minutes(D2, 9, [120, 300, 500]),
    ("Duration", "Maximum"): minutes(D1, 14, [150, 400]) + minutes(D2, 9, [130, 350, 600]),
}


def _results() -> tuple[list[MetricQuery], list[dict[str, Any]]]:
    queries, results = [], []

    def add(points: list[tuple[datetime, float]], **q: Any) -> None:
        query = MetricQuery(f"q{len(queries)}", period_s=60, **q)
        queries.append(query)
        results.append(
            {
                "Id": query.id,
                "Timestamps": [t for t, _ in points],
                "Values": [v for _, v in points],
                "StatusCode": "Complete",
            }
        )

    for (sm, metric, stat), points in STATES.items():
        dims = (("StateMachineArn", sm),)
        add(points, namespace="AWS/States", metric_name=metric, stat=stat, dimensions=dims,
            state_machine_arn=sm, domain=DOMAIN[sm])  # fmt: skip
    for (metric, stat, dims), points in ACCOUNT.items():
        add(points, namespace="AWS/States", metric_name=metric, stat=stat, dimensions=dims)
    for (metric, stat), points in LAMBDA.items():
        add(points, namespace="AWS/Lambda", metric_name=metric, stat=stat,
            dimensions=(("FunctionName", FUNCTION),), function_name=FUNCTION, domain="pay")  # fmt: skip
    return queries, results


def build(path: str) -> Lake:
    lake = Lake(path)
    lake.write_meta(source="aws")
    machines = [
        {
            "state_machine_arn": arn,
            "account_id": ACCT,
            "region": REGION,
            "name": arn.rsplit(":", 1)[1],
            "type": "EXPRESS" if arn == E else "STANDARD",
            "domain": dom,
        }  # fmt: skip
        for arn, dom in DOMAIN.items()
    ]
    lake.write("state_machines", machines)
    lake.write_partitioned("executions", executions())
    lake.write(
        "cursors",
        [
            {
                "source": "histories",
                "account_id": ACCT,
                "region": REGION,
                "key": arn,
                "domain": DOMAIN[arn],
                "watermark": at(D2, 9) if arn != B else at(D2, 8),
                "last_collected_at": at(D2, 12),
            }  # fmt: skip
            for arn in (A, B, C)
        ],
    )
    queries, results = _results()
    lake.write_partitioned("metrics", metric_table(queries, results, account_id=ACCT, region=REGION))
    return lake
