"""Token bucket and rate limiter logic, driven by an injected clock (no real time)."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.stub import Stubber

from collectors.ratelimit import Quotas, RateLimiter, TokenBucket, default_quotas

SF = "stepfunctions"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_is_free_then_callers_queue_at_the_refill_rate():
    clock = FakeClock()
    b = TokenBucket(3, 2.0, clock=clock)
    assert [b.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    # 4th, 5th callers borrow: they wait 0.5 s and 1.0 s (2 tokens per second).
    assert b.reserve() == pytest.approx(0.5)
    assert b.reserve() == pytest.approx(1.0)


def test_refill_is_capped_at_capacity():
    clock = FakeClock()
    b = TokenBucket(5, 1.0, clock=clock)
    for _ in range(5):
        b.reserve()
    clock.now += 3
    assert b.tokens == pytest.approx(3)
    clock.now += 100
    assert b.tokens == pytest.approx(5)
    assert [b.reserve() for _ in range(5)] == [0.0] * 5
    assert b.reserve() == pytest.approx(1.0)


def test_debt_is_repaid_by_time():
    clock = FakeClock()
    b = TokenBucket(1, 4.0, clock=clock)
    b.reserve()
    assert b.reserve() == pytest.approx(0.25)
    clock.now += 0.25  # the borrowed token has been refilled
    assert b.tokens == pytest.approx(0.0)
    assert b.reserve() == pytest.approx(0.25)


def test_bucket_rejects_nonsense():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)


def test_threads_never_overdraw():
    clock = FakeClock()
    b = TokenBucket(100, 10.0, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(50):
            w = b.reserve()
            with lock:
                waits.append(w)

    ts = [threading.Thread(target=worker) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    # 400 reservations at a frozen clock: exactly 100 free, the rest queued 0.1 s apart.
    assert sum(1 for w in waits if w == 0) == 100
    assert sorted(w for w in waits if w > 0) == pytest.approx([i / 10 for i in range(1, 301)])


def test_published_quotas_and_small_regions():
    """The quotas the Step Functions source declares, per (service, operation) and Region size."""
    q = default_quotas()
    assert q.get("stepfunctions", "GetExecutionHistory", "us-east-1") == (400, 20)
    assert q.get("stepfunctions", "ListExecutions", "us-east-1") == (200, 5)
    assert q.get("stepfunctions", "ListExecutions", "ap-southeast-2") == (100, 2)
    assert q.get("stepfunctions", "DescribeExecution", "eu-west-1") == (300, 15)
    assert q.get("stepfunctions", "StartExecution", "us-east-1") is None
    # Another service's operation of the same name is not paced by the Step Functions quota.
    assert q.get("stepfunctions", "ListTagsForResource", "us-east-1") == (100, 1)
    assert q.get("cloudwatch", "ListTagsForResource", "us-east-1") is None


def test_buckets_are_keyed_by_service_too():
    """CloudWatch's ListTagsForResource does not drain the Step Functions one's bucket."""
    quotas = Quotas(
        {("stepfunctions", "ListTagsForResource"): (2, 1), ("cloudwatch", "ListTagsForResource"): (2, 1)}
    )
    slept: list[float] = []
    lim = RateLimiter(1.0, quotas=quotas, clock=FakeClock(), sleep=slept.append)
    for _ in range(2):
        assert lim.acquire("111", "us-east-1", "stepfunctions", "ListTagsForResource") == 0
    assert lim.acquire("111", "us-east-1", "cloudwatch", "ListTagsForResource") == 0
    assert lim.acquire("111", "us-east-1", "stepfunctions", "ListTagsForResource") == pytest.approx(1.0)
    assert lim.bucket("111", "us-east-1", "xray", "ListTagsForResource") is None


def test_limiter_keeps_one_bucket_per_account_region_api_with_margin():
    clock = FakeClock()
    slept: list[float] = []
    lim = RateLimiter(0.5, clock=clock, sleep=slept.append)
    b = lim.bucket("111", "us-east-1", SF, "ListExecutions")
    assert (b.capacity, b.rate) == (100, 2.5)
    assert lim.bucket("111", "us-east-1", SF, "ListExecutions") is b
    assert lim.bucket("222", "us-east-1", SF, "ListExecutions") is not b
    assert lim.bucket("111", "eu-central-1", SF, "ListExecutions").capacity == 50
    for _ in range(100):
        assert lim.acquire("111", "us-east-1", SF, "ListExecutions") == 0
    assert slept == []
    assert lim.acquire("111", "us-east-1", SF, "ListExecutions") == pytest.approx(0.4)
    assert slept == [pytest.approx(0.4)]
    assert lim.stats.snapshot()["paced_seconds"] == pytest.approx(0.4)
    # Another account is not slowed down by the first one's debt.
    assert lim.acquire("222", "us-east-1", SF, "ListExecutions") == 0


def test_attach_counts_calls_per_operation():
    lim = RateLimiter(clock=FakeClock(), sleep=lambda s: None)
    client = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    lim.attach(client, "123456789012", "us-east-1")
    with Stubber(client) as stub:
        stub.add_response("list_state_machines", {"stateMachines": []})
        stub.add_response("list_state_machines", {"stateMachines": []})
        client.list_state_machines()
        client.list_state_machines()
    assert lim.stats.snapshot()["calls"] == {"stepfunctions.ListStateMachines": 2}
