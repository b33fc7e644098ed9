"""Questions asked of the X-Ray tables: one execution's trace (or why it has none), and per Task state
the downstream services it calls and how often they fault.

    t = queries.traces.Traces(queries.connect("demo-lake"))
    t.execution_trace(arn)

Each method runs one question file of `queries/sql/` on its own cursor of the `Queries` it is given,
with the same partition hints and period rules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from queries.api import Queries, _isna


class Traces:
    """The trace questions of one lake, over a `Queries` (its connection and file locations)."""

    def __init__(self, q: Queries):
        self.q = q

    def _hints(self, arn: str) -> dict[str, Any]:
        loc = self.q._locate(arn)
        return {"execution_arn": arn, "domain": loc[0] if loc else None, "day": loc[1] if loc else None}

    def execution_trace(self, arn: str) -> pd.DataFrame:
        """Every segment and subsegment of the execution's trace(s), by start (trace_segments columns)."""
        return self.q._df("execution_trace", **self._hints(arn))

    def trace_lookup(self, arn: str) -> dict[str, Any] | None:
        """Why the execution has no trace in the lake: status (PENDING, NOT_SAMPLED, EXPIRED), trace_id,
        attempts, first_looked_at, last_looked_at; None when it was never looked for."""
        df = self.q._df("trace_lookup", **self._hints(arn))
        if not len(df):
            return None
        return {str(k): (None if _isna(v) else v) for k, v in df.iloc[0].to_dict().items()}

    def state_downstream(
        self, state_machine_arn: str, start: datetime | date, end: datetime | date
    ) -> pd.DataFrame:
        """Per state and downstream call below it (service, operation): calls, faults, errors, throttles,
        fault_rate, p95_ms and traces, over the traces of executions started in the period."""
        return self.q._flow("state_downstream", state_machine_arn, start, end)
