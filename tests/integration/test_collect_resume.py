"""A run killed part way and re-run equals one clean run; throttling loses and duplicates nothing."""

from __future__ import annotations

import itertools
import json
import os
import threading
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse
from lakecheck import contents, run

from collectors.aws import targets
from collectors.ratelimit import RateLimiter
from lake import store as lake_mod
from lake.store import Lake

pytestmark = pytest.mark.integration


class Killed(BaseException):
    """Stands for the process dying: nothing in the collector may catch it."""


def test_killed_after_n_partition_writes_then_rerun_equals_a_clean_run(env, tmp_path: Path, monkeypatch):
    real_write = Lake.write
    writes = {"n": 0, "limit": 10**9}

    def crashing_write(self, *a, **kw):
        writes["n"] += 1
        if writes["n"] > writes["limit"]:
            raise Killed()
        return real_write(self, *a, **kw)

    # A clean run counts the writes of a whole run; then crash at points spread over it.
    monkeypatch.setattr(Lake, "write", crashing_write)
    run(tmp_path / "clean", batch_size=3)
    clean = contents(tmp_path / "clean")
    total = writes["n"]
    assert total > 20  # state machines, per-batch partitions, watermarks, run row
    for limit in sorted({2, total // 2, total - 2}):
        lake = tmp_path / f"crash-{limit}"
        writes.update(n=0, limit=limit)
        with pytest.raises(Killed):
            run(lake, batch_size=3)
        writes["limit"] = 10**9
        summary = run(lake, batch_size=3)
        assert not summary.errors
        assert contents(lake) == clean, f"crash after {limit} writes"


def test_killed_between_temp_file_and_rename(env, tmp_path: Path, monkeypatch):
    run(tmp_path / "clean", batch_size=4)
    calls = itertools.count(1)
    real_replace = os.replace

    def dying_replace(src, dst):
        if next(calls) == 9:
            raise Killed()
        return real_replace(src, dst)

    monkeypatch.setattr(lake_mod.os, "replace", dying_replace)
    with pytest.raises(Killed):
        run(tmp_path / "lake", batch_size=4)
    monkeypatch.setattr(lake_mod.os, "replace", real_replace)
    run(tmp_path / "lake", batch_size=4)
    assert contents(tmp_path / "lake") == contents(tmp_path / "clean")


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data


def test_throttling_storm_loses_and_duplicates_nothing(env, tmp_path: Path):
    # One domain keeps it short: after a throttle botocore's adaptive mode slows the client
    # down to its measured rate, which is low this early in a run.
    run(tmp_path / "clean", domains=["payments"])
    limiter = RateLimiter()
    tgts = targets(["us-east-1"], [], limiter)
    injected = {"n": 0}
    lock = threading.Lock()
    seen = itertools.count()

    def throttle_every_third(request, event_name, **_):
        op = event_name.rsplit(".", 1)[-1]
        if op not in ("GetExecutionHistory", "DescribeExecution"):
            return None
        if next(seen) % 3:
            return None
        with lock:
            injected["n"] += 1
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return AWSResponse(
            request.url,
            400,
            {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "throttled"},
            _Body(body),
        )

    # Registered last: the pacing handler still runs first, as it would for a real request.
    tgts[0].sfn.meta.events.register("before-send.sfn", throttle_every_third)
    summary = run(tmp_path / "storm", limiter=limiter, targets=tgts, domains=["payments"])
    assert not summary.errors
    assert injected["n"] >= 4
    assert sum(summary.api["throttles"].values()) == injected["n"]
    assert contents(tmp_path / "storm") == contents(tmp_path / "clean")
