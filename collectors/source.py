"""What a source is: one AWS API family collected into the lake, and what a run hands it.

A source declares its lake tables (specs in `lake/tables.py`), the quotas of the APIs it calls and
a `collect` function. The run (`collectors.run`) discovers the tagged state machines of each target
(account × Region), writes them, then asks every enabled source to collect for that target.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from collectors.aws import Target
from collectors.cursors import Cursors
from collectors.ratelimit import Quota, QuotaKey
from lake.store import Lake


@dataclass
class CollectOptions:
    """What to collect and how hard to push."""

    lake: str = "./stepscope-lake"
    sources: list[str] = field(default_factory=list)  # empty = every registered source
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
    metric_price: float = 0.01  # USD per 1,000 metrics requested (GetMetricData) or ListMetrics requests
    schedule: timedelta = timedelta(minutes=5)  # how often this collect runs: the monthly cost estimate
    history_source: str = "api"  # STANDARD histories: api (GetExecutionHistory) or logs (where logged ALL)


def reads_logs(sm: Mapping[str, Any], opts: CollectOptions) -> bool:
    """Whether a machine's histories come from its CloudWatch Logs group instead of the history API:
    EXPRESS machines (which have no history API), and STANDARD ones under `history_source="logs"` that
    log every event (level ALL) to a group; the others stay on the API, their only whole record."""
    if sm.get("type") == "EXPRESS":
        return True
    return (
        opts.history_source == "logs" and sm.get("logging_level") == "ALL" and bool(sm.get("log_group_arn"))
    )


class Progress:
    """Thread-safe run counters, by name (each source counts what it does; `keys` start at 0)."""

    def __init__(self, keys: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self.n: Counter[str] = Counter(dict.fromkeys(keys, 0))

    def add(self, key: str, k: int = 1) -> None:
        with self._lock:
            self.n[key] += k

    def get(self, key: str) -> int:
        with self._lock:
            return self.n[key]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.n)


@dataclass
class Context:
    """What a source gets from the run: the lake, options, counters, cursors, clock and log."""

    lake: Lake
    opts: CollectOptions
    progress: Progress
    cursors: Cursors
    now: Callable[[], datetime]
    sleep: Callable[[float], None]
    log: logging.LoggerAdapter[logging.Logger]
    errors: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # derived by sources (a cost), for the summary

    def error(self, msg: str) -> None:
        """An error the run goes on after (one state machine, one log group): counted, logged, summarised."""
        self.errors.append(msg)
        self.progress.add("errors")
        self.log.error("%s", msg)

    def put_cursor(
        self,
        source: str,
        t: Target,
        key: str,
        old: Mapping[str, Any],
        error: str | None,
        moved: Mapping[str, Any],
        **fields: Any,
    ) -> None:
        """Write a cursor, after the rows it covers: the `moved` fields (its position) take their new
        values when the collection went well and keep their `old` ones on `error`, so the next run reads
        the same window again; `fields` are written as given, `error` as `last_error`."""
        position = moved if error is None else {k: old.get(k) for k in moved}
        self.cursors.put(source, t.account_id, t.region, key, **fields, **position, last_error=error)


class CollectModule(Protocol):
    """What a source's `collect` module defines: its name, how it collects, and what a run shows of it."""

    SOURCE: str

    def collect(self, ctx: Context, t: Target, machines: list[dict[str, Any]]) -> None: ...

    def progress(self, p: Progress) -> str: ...

    def summary(self, c: Mapping[str, Any]) -> list[str]: ...


@dataclass(frozen=True)
class Source:
    """One source: its name on the command line, its tables, its quotas and how it collects."""

    name: str
    description: str
    tables: tuple[str, ...]
    collect: Callable[[Context, Target, list[dict[str, Any]]], None]  # (context, target, state machine rows)
    counters: tuple[str, ...] = ()  # what it counts in Progress (reported even when 0)
    quotas: Mapping[QuotaKey, Quota] = field(default_factory=dict)
    small_region_quotas: Mapping[QuotaKey, Quota] = field(default_factory=dict)
    progress: Callable[[Progress], str] | None = None  # its part of a progress line
    # its lines of the closing summary, from the run's counts and figures
    summary: Callable[[Mapping[str, Any]], list[str]] | None = None

    @classmethod
    def of(
        cls,
        module: CollectModule,
        *,
        description: str,
        tables: tuple[str, ...],
        counters: tuple[str, ...],
        quotas: Mapping[QuotaKey, Quota],
        small_region_quotas: Mapping[QuotaKey, Quota] | None = None,
    ) -> Source:
        """The source whose name, `collect`, `progress` and `summary` are its collect module's, with what
        its package declares: tables, counters and the quotas of the APIs it calls."""
        return cls(
            name=module.SOURCE,
            description=description,
            tables=tables,
            collect=module.collect,
            counters=counters,
            quotas=quotas,
            small_region_quotas=small_region_quotas or {},
            progress=module.progress,
            summary=module.summary,
        )
