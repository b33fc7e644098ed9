"""The `collect` run: for each target (account × Region), discover the tagged state machines, write
them, then ask each enabled source to collect for that target. Ends with a summary (calls, rows,
throttles, errors), also stored as a `collection_runs` row."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from collectors.aws import Target
from collectors.cursors import Cursors
from collectors.ratelimit import RateLimiter
from collectors.source import CollectOptions, Context, Progress, Source
from collectors.sources import enabled
from collectors.stepfunctions import fetch as sf
from collectors.stepfunctions.normalize import with_root_failures
from lake.store import Lake
from lake.upgrade import upgrade_if_needed

log = logging.getLogger("stepscope.collect")
progress_log = logging.getLogger("stepscope.progress")


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
    sources: tuple[Source, ...] = ()
    figures: dict[str, float] = field(default_factory=dict)  # derived by the sources, e.g. a monthly cost

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.counts,
            **self.figures,
            "seconds": round(self.seconds, 3),
            "api": self.api,
            "discovery": self.discovery,
            "sources": [s.name for s in self.sources],
            "errors": self.errors,
        }

    def text(self) -> str:
        """Human summary for the end of a run."""
        c, api = self.counts, self.api
        calls = ", ".join(f"{k} {v}" for k, v in api["calls"].items()) or "none"
        lines = [
            f"collect: {c.get('machines', 0)} state machines, sources {', '.join(s.name for s in self.sources)}"
        ]
        for s in self.sources:
            lines += [f"  {line}" for line in (s.summary({**c, **self.figures}) if s.summary else [])]
        lines += [
            f"  API calls: {calls}",
            f"  throttles {sum(api['throttles'].values())} (retried by the collector {c.get('collector_retries', 0)}), "
            f"paced {api['paced_seconds']:.1f} s",
            f"  {self.seconds:.1f} s" + (f", {len(self.errors)} error(s)" if self.errors else ""),
        ]
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)


class Run:
    """One collect run over a list of targets (account × Region) into one lake."""

    def __init__(
        self,
        opts: CollectOptions,
        targets: list[Target],
        limiter: RateLimiter,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        err: TextIO | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.opts = opts
        self.targets = targets
        self.limiter = limiter
        self.sources = tuple(enabled(opts.sources))
        self.err = err
        self.run_id = uuid.uuid4().hex[:12]
        lake = Lake(opts.lake)
        # The lake stores milliseconds; a finer clock would make Arrow refuse the cast.
        counters = ("machines", "errors", *(k for s in self.sources for k in s.counters))
        self.ctx = Context(
            lake=lake,
            opts=opts,
            progress=Progress(counters),
            cursors=Cursors(lake),
            now=lambda: _to_ms(now()),
            sleep=sleep,
            log=logging.LoggerAdapter(log, {"run_id": self.run_id}),
        )
        self.discovery: dict[str, str] = {}

    def run(self) -> Summary:
        """Collect every target; per-machine API errors are recorded and the run goes on."""
        ctx = self.ctx
        started = ctx.now()
        ctx.log.info(
            "collect into %s: sources %s, %d target(s)",
            self.opts.lake,
            ", ".join(s.name for s in self.sources),
            len(self.targets),
        )
        if not (ctx.lake.read_meta() or {}).get("source"):
            ctx.lake.write_meta(source="aws")
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
        finished = ctx.now()
        summary = Summary(
            self.run_id,
            started,
            finished,
            ctx.progress.snapshot(),
            self.limiter.stats.snapshot(),
            self.discovery,
            ctx.errors,
            self.sources,
            ctx.figures,
        )
        ctx.lake.write(
            "collection_runs",
            [
                {
                    "run_id": self.run_id,
                    "started_at": started,
                    "finished_at": finished,
                    "source": "aws",
                    "summary_json": json.dumps(summary.as_dict(), sort_keys=True, default=str),
                }
            ],
        )
        ctx.log.info("collect done in %.1f s: %d error(s)", summary.seconds, len(ctx.errors))
        return summary

    def _tick(self, stop: threading.Event, t0: float) -> None:
        p = self.ctx.progress
        while not stop.wait(self.opts.progress_every):
            stats = self.limiter.stats.snapshot()
            calls = sum(stats["calls"].values())
            parts = [
                f"machines {p.get('machines')}",
                *(s.progress(p) for s in self.sources if s.progress),
                f"{calls / max(time.monotonic() - t0, 1e-9):.0f} calls/s",
                f"throttles {sum(stats['throttles'].values())}",
            ]
            line = "[collect] " + "  ".join(parts)
            if self.err is not None:
                print(line, file=self.err, flush=True)
            else:
                progress_log.info("%s", line, extra={"run_id": self.run_id})

    def _collect_target(self, t: Target) -> None:
        ctx = self.ctx
        collected_at = ctx.now()
        found, how = sf.discover(t.sfn, t.tagging, self.opts.tag_key, self.opts.domains or None)
        self.discovery[f"{t.account_id}/{t.region}"] = how
        machines = []
        for m in found:
            desc = sf.describe_state_machine(t.sfn, m.arn)
            if desc is not None:
                machines.append(
                    sf.state_machine_row(desc, m, self.opts.tag_key, t.account_id, t.region, collected_at)
                )
        if machines:
            ctx.lake.write("state_machines", machines)
        ctx.progress.add("machines", len(machines))
        ctx.log.info("%s/%s: %d tagged state machine(s) (%s)", t.account_id, t.region, len(machines), how)
        for source in self.sources:
            source.collect(ctx, t, machines)


def _to_ms(ts: datetime) -> datetime:
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def collect(
    opts: CollectOptions,
    *,
    targets: list[Target] | None = None,
    limiter: RateLimiter | None = None,
    err: TextIO | None = None,
) -> Summary:
    """Run one collection; builds the AWS targets from the environment unless given. An older lake is
    upgraded to this format first."""
    from collectors.aws import targets as make_targets

    upgrade_if_needed(Lake(opts.lake), log=log, root_failures=with_root_failures)
    if limiter is None:
        limiter = targets[0].limiter if targets else RateLimiter()
    if targets is None:
        targets = make_targets(
            opts.regions, opts.role_arns, limiter, profile=opts.profile, pool=max(10, opts.concurrency + 2)
        )
    return Run(opts, targets, limiter, err=err).run()
