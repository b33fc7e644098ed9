"""The `collect` run: state machines → executions → histories → the lake, incrementally.

Per state machine: list executions newest first down to the watermark minus a look-back,
compare them with what the lake holds, fetch the histories of the new and changed ones
concurrently (paced by the rate limiter), write them in batches (events and state runs first,
executions last: an executions row is the commit marker of its history) and only then move
the machine's watermark. Executions already terminal with a complete history are never
fetched again, so re-running a window costs list calls only.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from collectors import stepfunctions as sf
from collectors.aws import Target
from collectors.history import normalize_execution
from collectors.lake import PART_FILE, Lake, partition_dir, to_table
from collectors.ratelimit import RateLimiter

DEFAULT_WINDOW = timedelta(days=7)
# A redrive keeps the execution's start date; AWS allows one within 14 days of its end.
REDRIVE_HORIZON = timedelta(days=14)
INDEX_COLUMNS = ["execution_arn", "state_machine_arn", "status", "history_complete", "history_error",
                 "redrive_count", "redrive_date"]


@dataclass
class CollectOptions:
    """What to collect and how hard to push."""

    lake: str = "./lake"
    tag_key: str = "domain"
    domains: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    since: datetime | None = None
    role_arns: list[str] = field(default_factory=list)
    profile: str | None = None
    include_payloads: bool = False
    lookback: timedelta = timedelta(hours=1)
    concurrency: int = 8
    batch_size: int = 200
    progress_every: float = 2.0  # seconds between progress lines; 0 = quiet


class Progress:
    """Thread-safe run counters; a background thread prints them to stderr."""

    KEYS = ("machines", "machines_total", "listed", "new", "updated", "skipped", "pages", "events",
            "expired", "collector_retries", "errors")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.n = dict.fromkeys(self.KEYS, 0)

    def add(self, key: str, k: int = 1) -> None:
        with self._lock:
            self.n[key] += k

    def get(self, key: str) -> int:
        with self._lock:
            return self.n[key]


@dataclass
class Summary:
    """Closing figures of a run (also stored as the `collection_runs` row)."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    counts: dict[str, int]
    api: dict[str, Any]
    discovery: dict[str, str]
    errors: list[str]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {**self.counts, "seconds": round(self.seconds, 3), "api": self.api, "discovery": self.discovery,
                "errors": self.errors}

    def text(self) -> str:
        """Human summary for the end of a run."""
        c, api = self.counts, self.api
        calls = ", ".join(f"{k} {v}" for k, v in api["calls"].items()) or "none"
        lines = [
            f"collect: {c['machines']} state machines, {c['listed']} executions listed "
            f"({c['new']} new, {c['updated']} updated, {c['skipped']} unchanged)",
            f"  history pages {c['pages']}, events {c['events']}, expired histories {c['expired']}",
            f"  API calls: {calls}",
            f"  throttles {sum(api['throttles'].values())} (retried by the collector {c['collector_retries']}), "
            f"paced {api['paced_seconds']:.1f} s",
            f"  {self.seconds:.1f} s" + (f", {len(self.errors)} error(s)" if self.errors else ""),
        ]
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)


# -- decisions (pure) ------------------------------------------------------------------------
def needs_fetch(known: dict[str, Any] | None, item: dict[str, Any]) -> bool:
    """Whether a listed execution must be (re-)fetched given its lake row (None = not there)."""
    if known is None or item.get("status") == "RUNNING" or known["status"] != item.get("status"):
        return True
    if _redrive_changed(known, item):
        return True
    if not known["history_complete"]:
        return not str(known.get("history_error") or "").startswith(sf.EXPIRED_CODE)
    return False


def _redrive_changed(known: dict[str, Any], item: dict[str, Any]) -> bool:
    count = item.get("redriveCount")
    if count is not None and count != (known.get("redrive_count") or 0):
        return True
    date = item.get("redriveDate")
    return date is not None and (known.get("redrive_date") is None or sf.utc(date) != sf.utc(known["redrive_date"]))


def lower_bound(opts: CollectOptions, watermark: datetime | None, now: datetime) -> datetime:
    """Oldest start time to list: --since, else the watermark minus the look-back, else 7 days."""
    if opts.since is not None:
        return opts.since
    if watermark is not None:
        return sf.utc(watermark) - opts.lookback
    return now - DEFAULT_WINDOW


# -- lake reads ------------------------------------------------------------------------------
def lake_index(lake: Lake, domains: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """state machine ARN → execution ARN → the few executions columns the decisions need."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for domain, date in lake.partitions("executions"):
        if domain not in domains:
            continue
        rel = f"{partition_dir('executions', domain, date)}/{PART_FILE}"
        for r in pq.read_table(lake.path(rel), columns=INDEX_COLUMNS, filesystem=lake.fs).to_pylist():
            out.setdefault(r["state_machine_arn"], {})[r["execution_arn"]] = r
    return out


def collection_state(lake: Lake) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["account_id"], r["region"], r["state_machine_arn"]): r
            for r in lake.read("collection_state").to_pylist()}


# -- the run ---------------------------------------------------------------------------------
class Collector:
    """One collect run over a list of targets (account x Region) into one lake."""

    def __init__(
        self,
        opts: CollectOptions,
        targets: list[Target],
        limiter: RateLimiter,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        err: TextIO = sys.stderr,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.opts = opts
        self.sleep = sleep
        self.targets = targets
        self.limiter = limiter
        # The lake stores milliseconds; a finer clock would make Arrow refuse the cast.
        self.now = lambda: _to_ms(now())
        self.err = err
        self.lake = Lake(opts.lake)
        self.progress = Progress()
        self.errors: list[str] = []
        self.discovery: dict[str, str] = {}

    def run(self) -> Summary:
        """Collect every target; per-machine API errors are recorded and the run goes on."""
        started = self.now()
        run_id = uuid.uuid4().hex
        if not (self.lake.read_meta() or {}).get("source"):
            self.lake.write_meta(source="aws")
        stop = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(stop, time.monotonic()), daemon=True)
        if self.opts.progress_every > 0:
            ticker.start()
        try:
            for target in self.targets:
                self._collect_target(target)
        finally:
            stop.set()
            if ticker.is_alive():
                ticker.join()
        finished = self.now()
        summary = Summary(run_id, started, finished, dict(self.progress.n), self.limiter.stats.snapshot(),
                          self.discovery, self.errors)
        self.lake.write("collection_runs", [{
            "run_id": run_id, "started_at": started, "finished_at": finished, "source": "aws",
            "summary_json": json.dumps(summary.as_dict(), sort_keys=True, default=str),
        }])
        return summary

    def _tick(self, stop: threading.Event, t0: float) -> None:
        while not stop.wait(self.opts.progress_every):
            p = self.progress
            stats = self.limiter.stats.snapshot()
            calls = sum(stats["calls"].values())
            print(f"[collect] machines {p.get('machines')}/{p.get('machines_total')}  executions "
                  f"{p.get('listed')} listed, {p.get('new') + p.get('updated')} fetched  pages {p.get('pages')}  "
                  f"{calls / max(time.monotonic() - t0, 1e-9):.0f} calls/s  "
                  f"throttles {sum(stats['throttles'].values())}", file=self.err, flush=True)

    def _collect_target(self, t: Target) -> None:
        collected_at = self.now()
        machines, how = sf.discover(t.sfn, t.tagging, self.opts.tag_key, self.opts.domains or None)
        self.discovery[f"{t.account_id}/{t.region}"] = how
        self.progress.add("machines_total", len(machines))
        rows = []
        for m in machines:
            desc = sf.describe_state_machine(t.sfn, m.arn)
            if desc is not None:
                rows.append(sf.state_machine_row(desc, m, self.opts.tag_key, t.account_id, t.region, collected_at))
        if rows:
            self.lake.write("state_machines", rows)
        index = lake_index(self.lake, {r["domain"] for r in rows})
        states = collection_state(self.lake)
        for row in rows:
            key = (t.account_id, t.region, row["state_machine_arn"])
            try:
                self._collect_machine(t, row, index.get(row["state_machine_arn"], {}), states.get(key))
            except ClientError as e:
                msg = f"{row['state_machine_arn']}: {sf.error_code(e)}: {e}"
                self.errors.append(msg)
                self.progress.add("errors")
                self._write_state(key, row, states.get(key), None, None, error=msg)
            self.progress.add("machines")

    def _collect_machine(
        self, t: Target, sm: dict[str, Any], known: dict[str, dict[str, Any]], state: dict[str, Any] | None
    ) -> None:
        now = self.now()
        old_wm = state["watermark"] if state else None
        since = lower_bound(self.opts, old_wm, now)
        todo: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        newest = sf.utc(old_wm) if old_wm else None
        listed: set[str] = set()
        for item in sf.list_executions(t.sfn, sm["state_machine_arn"], since):
            arn = item["executionArn"]
            listed.add(arn)
            self.progress.add("listed")
            start = sf.utc(item["startDate"])
            newest = start if newest is None or start > newest else newest
            if needs_fetch(known.get(arn), item):
                todo[arn] = (item, None)
            else:
                self.progress.add("skipped")
        # Redrives keep the original start date, so they can hide below the window.
        for item in sf.list_executions(t.sfn, sm["state_machine_arn"], since - REDRIVE_HORIZON, redriven=True):
            arn = item["executionArn"]
            if arn in known and arn not in todo and _redrive_changed(known[arn], item):
                todo[arn] = (item, None)
        # Executions the lake still has as RUNNING but that fell out of the listed window.
        for arn, k in known.items():
            if k["status"] == "RUNNING" and arn not in listed and arn not in todo:
                desc = sf.describe_execution(t.sfn, arn)
                if desc is not None:
                    todo[arn] = (desc, desc)
        written = self._fetch_and_write(t, sm, todo, known)
        after = {**known, **{r["execution_arn"]: r for r in written}}
        self._write_state((t.account_id, t.region, sm["state_machine_arn"]), sm, state, newest, now,
                          counts=_open_and_incomplete(after.values()))

    def _fetch_and_write(
        self, t: Target, sm: dict[str, Any], todo: dict[str, tuple[dict[str, Any], dict[str, Any] | None]],
        known: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Fetch, normalise and write; returns the executions rows written."""
        batch: list[Any] = []
        written: list[dict[str, Any]] = []
        items = iter(sorted(todo.items()))
        max_in_flight = max(1, self.opts.concurrency) * 4
        with ThreadPoolExecutor(max_workers=max(1, self.opts.concurrency), thread_name_prefix="history") as pool:
            futures: set[Future] = set()
            try:
                while True:
                    while len(futures) < max_in_flight:
                        nxt = next(items, None)
                        if nxt is None:
                            break
                        arn, (item, desc) = nxt
                        futures.add(pool.submit(self._fetch_one, t, sm, item, desc, arn in known))
                    if not futures:
                        break
                    done, futures = wait(futures, return_when=FIRST_COMPLETED)
                    for f in sorted(done, key=id):
                        batch.append(f.result())
                    if len(batch) >= self.opts.batch_size:
                        written += self._write_batch(batch)
                        batch = []
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        if batch:
            written += self._write_batch(batch)
        return written

    def _fetch_one(self, t: Target, sm: dict[str, Any], item: dict[str, Any], desc: dict[str, Any] | None,
                   update: bool) -> Any:
        fetched = sf.fetch_execution(
            t.sfn, item, include_payloads=self.opts.include_payloads, described=desc,
            on_page=lambda n: (self.progress.add("pages"), self.progress.add("events", n)), sleep=self.sleep,
        )
        if fetched.retries:
            self.progress.add("collector_retries", fetched.retries)
        if not fetched.history_complete:
            self.progress.add("expired")
        self.progress.add("updated" if update else "new")
        return normalize_execution(
            fetched.execution, fetched.events, state_machine=sm, include_payloads=self.opts.include_payloads,
            history_complete=fetched.history_complete, history_error=fetched.history_error,
            collected_at=self.now(),
        )

    def _write_batch(self, batch: list[Any]) -> list[dict[str, Any]]:
        # Order matters: an executions row is the commit marker of its events and state runs.
        batch = sorted(batch, key=lambda n: n.execution["execution_arn"])
        self.lake.write_partitioned("events", [e for n in batch for e in n.events], replace_executions=True)
        self.lake.write_partitioned("state_runs", [r for n in batch for r in n.state_runs], replace_executions=True)
        self.lake.write_partitioned("executions", [n.execution for n in batch])
        return [n.execution for n in batch]

    def _write_state(
        self, key: tuple[str, str, str], sm: dict[str, Any], old: dict[str, Any] | None,
        watermark: datetime | None, finished: datetime | None, *, error: str | None = None,
        counts: tuple[int, int] | None = None,
    ) -> None:
        """The machine's watermark row; called only after its executions are written."""
        if counts is None:
            counts = (old or {}).get("open_executions") or 0, (old or {}).get("incomplete_histories") or 0
        row = {
            "account_id": key[0], "region": key[1], "state_machine_arn": key[2], "domain": sm["domain"],
            # On error the old watermark stays: the next run lists the same window again.
            "watermark": watermark if error is None else (old or {}).get("watermark"),
            "last_collected_at": finished if error is None else (old or {}).get("last_collected_at"),
            "open_executions": counts[0], "incomplete_histories": counts[1], "last_error": error,
        }
        self.lake.write("collection_state", to_table("collection_state", [row]))


def _to_ms(ts: datetime) -> datetime:
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def _open_and_incomplete(rows: Iterable[dict[str, Any]]) -> tuple[int, int]:
    rows = list(rows)
    return sum(r["status"] == "RUNNING" for r in rows), sum(not r["history_complete"] for r in rows)


def collect(
    opts: CollectOptions,
    *,
    targets: list[Target] | None = None,
    limiter: RateLimiter | None = None,
    err: TextIO = sys.stderr,
) -> Summary:
    """Run one collection; builds the AWS targets from the environment unless given."""
    from collectors.aws import targets as make_targets

    if limiter is None:
        limiter = targets[0].limiter if targets else RateLimiter()
    if targets is None:
        targets = make_targets(opts.regions, opts.role_arns, limiter, profile=opts.profile,
                               pool=max(10, opts.concurrency + 2))
    return Collector(opts, targets, limiter, err=err).run()
