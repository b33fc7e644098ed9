"""No overlapping runs: `stepscope collect` takes the lake's lock (a flock on a folder, a lease object on
S3 through the moto server), a second run exits 6 or waits with --wait, and a holder killed with
kill -9 blocks nobody (folder) or only until its lease expires (S3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lakecheck import contents, run

from lake.lock import LakeLocked, LockLost, lake_lock
from lake.store import Lake

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STEPSCOPE = [sys.executable, "-m", "stepscope"]
BUCKET = "lock-lake"


def collect(lake: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *STEPSCOPE,
            "collect",
            "--lake",
            lake,
            "--region",
            "us-east-1",
            "--source",
            "histories",
            "--quiet",
            *extra,
        ],
        env=dict(os.environ),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


@pytest.fixture(params=["folder", "s3"])
def lake_uri(request, env, tmp_path: Path) -> str:
    """A fresh lake: a folder, or a prefix of a bucket on the moto server (boto3 points at it)."""
    if request.param == "folder":
        return str(tmp_path / "lake")
    import boto3

    s3 = boto3.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    return f"s3://{BUCKET}/{tmp_path.name}"


@pytest.fixture
def killed_holder(lake_uri: str) -> Iterator[tuple[str, int]]:
    """A process that took the lake's lock (a 6 s lease) and was then killed with SIGKILL."""
    code = (
        "import sys, time\n"
        "from lake.lock import lake_lock\n"
        "with lake_lock(sys.argv[1], command='holder', ttl=6):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, lake_uri],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    yield lake_uri, proc.pid


def test_two_concurrent_collects_take_turns(env, tmp_path: Path):
    lake_uri = str(tmp_path / "lake")  # on S3 the same lock refuses a second run: the test below
    runs = [collect(lake_uri, "--wait", "120s") for _ in range(2)]
    results = [finish(p) for p in runs]
    assert [rc for rc, _ in results] == [0, 0], [err for _, err in results]
    waited = [err for _, err in results if "waiting up to 120 s for the lock" in err]
    assert len(waited) == 1, [err for _, err in results]  # they did overlap: one waited for the other
    spans = sorted(
        (r["started_at"], r["finished_at"]) for r in Lake(lake_uri).read("collection_runs").to_pylist()
    )
    assert len(spans) == 2 and spans[0][1] <= spans[1][0]  # one after the other, never at once
    run(tmp_path / "clean", sources=["histories"])
    both, clean = contents(lake_uri), contents(tmp_path / "clean")
    assert both.pop("collection_runs") != clean.pop("collection_runs")  # two runs recorded, one
    assert both == clean  # and the same lake as one clean run


def test_a_held_lake_exits_6_at_once_and_wait_waits_for_it(lake_uri: str):
    with lake_lock(lake_uri, command="test holder", ttl=30):
        t0 = time.monotonic()
        rc, err = finish(collect(lake_uri))
        assert rc == 6 and time.monotonic() - t0 < 30
        [line] = err.strip().splitlines()
        holder = f"test holder, pid {os.getpid()} on {os.uname().nodename} since "
        assert line.startswith(f"stepscope: another run holds the lock on the lake at {lake_uri}: {holder}")
        assert line.endswith(" (--wait waits for it)")
        assert not Lake(lake_uri).exists("collection_runs")  # it wrote nothing
        waiting = collect(lake_uri, "--wait", "60s")
        assert waiting.stderr is not None
        first = waiting.stderr.readline()  # the lock comes before anything else the run says
        assert first.startswith("stepscope: waiting up to 60 s for the lock") and "test holder" in first
        time.sleep(1.5)
        assert waiting.poll() is None  # still waiting while the lock is held
    rc, err = finish(waiting)
    assert rc == 0, err
    assert "collect into" in err and "waiting" not in err  # once released, it ran
    assert len(Lake(lake_uri).read("collection_runs")) == 1


def test_a_killed_holder_blocks_a_folder_not_at_all_and_s3_until_its_lease_expires(killed_holder):
    lake_uri, pid = killed_holder
    if not lake_uri.startswith("s3://"):  # the kernel dropped the dead process's flock
        rc, err = finish(collect(lake_uri))
        assert rc == 0, err
        return
    rc, err = finish(collect(lake_uri))  # the dead holder's lease (6 s) is still live
    assert rc == 6 and f"holder, pid {pid}" in err
    t0 = time.monotonic()
    rc, err = finish(collect(lake_uri, "--wait", "60s"))
    assert rc == 0, err
    assert f"took over the lock on {lake_uri}/_stepscope.lock" in err and f"from holder, pid {pid}" in err
    assert time.monotonic() - t0 < 30
    assert len(Lake(lake_uri).read("collection_runs")) == 1


def test_a_live_holder_renews_its_lease_past_the_ttl(env, tmp_path: Path):
    import boto3

    boto3.client("s3").create_bucket(Bucket="renew-lake")
    uri = "s3://renew-lake/lake"
    with lake_lock(uri, command="long run", ttl=1.5):
        time.sleep(3.5)  # more than twice the lease: only its renewals keep it
        with pytest.raises(LakeLocked, match="long run"):
            with lake_lock(uri, command="second", ttl=1.5):
                pass
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket="renew-lake")  # released: deleted
    with lake_lock(uri, command="next", ttl=1.5):  # and free at once
        pass


def test_a_lease_lost_under_a_live_run_is_reported(env):
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lost-lake")
    with pytest.raises(LockLost, match="run collect again"):
        with lake_lock("s3://lost-lake/lake", command="run", ttl=1.5):
            s3.delete_object(Bucket="lost-lake", Key="lake/_stepscope.lock")  # as if another took it over
            time.sleep(1.5)
    assert "Contents" not in s3.list_objects_v2(Bucket="lost-lake")


APPENDER = """
import sys
from datetime import UTC, datetime
from queries.audit.access_log import record_export
lake, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()  # both start appending at once
day = datetime(2026, 11, 30, tzinfo=UTC)
for i in range(n):
    record_export(lake, who=who, domain="payments", start=day, end=day, file=f"{who}-{i}.csv", rows=i,
                  sha256="0" * 64, at=day)
"""


def test_access_log_appends_from_two_servers_lose_nothing(lake_uri: str):
    """Two dashboards (processes) append to the same access-log partition at once; every entry lands,
    and neither waits for a collection run holding the lake's own lock."""
    n = 6
    with lake_lock(lake_uri, command="a collection run", ttl=30):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", APPENDER, lake_uri, who, str(n)],
                cwd=ROOT,
                env=dict(os.environ),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for who in ("ann@a.example", "bob@b.example")
        ]
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
    log = Lake(lake_uri).read("access_log").to_pandas()
    assert sorted(log["file"]) == sorted(
        f"{w}-{i}.csv" for w in ("ann@a.example", "bob@b.example") for i in range(n)
    )
    assert log["entry_id"].is_unique
