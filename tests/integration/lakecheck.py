"""Run `collect` in-process and compare lakes."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from collectors.aws import Target
from collectors.ratelimit import RateLimiter
from collectors.run import Summary, collect
from collectors.source import CollectOptions
from lake.store import Lake
from lake.tables import TABLES

# Columns that legitimately differ between two runs over the same data.
VOLATILE = {"collected_at", "last_collected_at", "run_id", "started_at", "finished_at", "summary_json"}


def run(
    lake: Path | str, limiter: RateLimiter | None = None, targets: list[Target] | None = None, **kw: Any
) -> Summary:
    """One in-process collect run with its own rate limiter (so its counters are its own)."""
    opts = CollectOptions(lake=str(lake), progress_every=0, **kw)
    return collect(opts, limiter=limiter or RateLimiter(), targets=targets)


def contents(lake: Path | str) -> dict[str, list[tuple]]:
    """Every table as sorted tuples, without the columns that change from run to run."""
    out = {}
    for name in TABLES:
        t = Lake(str(lake)).read(name)
        cols = [c for c in t.column_names if c not in VOLATILE]
        out[name] = sorted(tuple(r[c] for c in cols) for r in t.select(cols).to_pylist())
    return out


def files(lake: Path, *tables: str) -> dict[str, bytes]:
    return {
        str(p.relative_to(lake)): p.read_bytes()
        for t in tables
        for p in sorted((lake / t).rglob("*.parquet"))
    }


def ms(ts) -> Any:
    return None if ts is None else ts.astimezone(UTC).replace(microsecond=ts.microsecond // 1000 * 1000)
