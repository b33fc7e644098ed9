"""How fresh the lake's data is, from its run ledger (`collection_runs`); pure, no Streamlit.

The usual interval is the median gap between the starts of the recent successful runs (a run that
recorded no error), so one slow or skipped run does not move it; collection is late when the last
successful run finished more than LATE_FACTOR usual intervals ago.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

LATE_FACTOR = 2
USUAL_RUNS = 20  # successful runs the usual interval is taken over


@dataclass(frozen=True)
class Freshness:
    """The newest successful collection and whether it is late."""

    as_of: datetime | None  # when the last successful run finished (None: no run recorded one)
    usual: timedelta | None  # the usual interval between runs (None: fewer than two successful runs)
    age: timedelta | None  # now - as_of
    failed_since: int  # runs after the last successful one that recorded errors
    runs: int  # runs in the ledger read

    @property
    def late(self) -> bool:
        """Older than LATE_FACTOR usual intervals, or runs recorded but none successful."""
        if self.as_of is None:
            return self.runs > 0
        return self.usual is not None and self.age is not None and self.age > LATE_FACTOR * self.usual


def freshness(runs: pd.DataFrame, now: datetime) -> Freshness:
    """From the ledger's newest runs (started_at, finished_at, errors; any order) at `now`."""
    if runs.empty:
        return Freshness(None, None, None, 0, 0)
    runs = runs.sort_values("started_at", ascending=False)
    ok = runs[runs["errors"] == 0]
    if ok.empty:
        return Freshness(None, None, None, len(runs), len(runs))
    last = ok.iloc[0]
    as_of = pd.Timestamp(last["finished_at"]).to_pydatetime()
    starts = [pd.Timestamp(t).to_pydatetime() for t in ok["started_at"].head(USUAL_RUNS + 1)]
    gaps = [a - b for a, b in zip(starts, starts[1:], strict=False) if a > b]
    usual = statistics.median(gaps) if gaps else None
    failed_since = int((runs["started_at"] > last["started_at"]).sum())
    return Freshness(as_of, usual, now - as_of, failed_since, len(runs))
