"""Questions asked of the lake: DuckDB SQL (one file per question in `queries/sql/`) behind typed methods.

    q = queries.connect("demo-lake")          # one DuckDB database; every method opens its own cursor
    cfg = queries.sla_config.load("slas.yaml")  # or queries.sla_config.default()
    q.sla_report(cfg, start, end, by="domain")

Conventions:
- `start`/`end` are timezone-aware UTC datetimes (a `date` means midnight UTC; a naive datetime is an
  error), the period is half-open [start, end) on the execution start time.
- Every method returns a pandas DataFrame (timestamps tz-aware UTC) unless said otherwise; a table that is
  not in the lake yet gives empty results with the same columns.
- "Failed" means status FAILED, TIMED_OUT or ABORTED. Only terminal executions (SUCCEEDED + failed) count
  in SLA figures; RUNNING and PENDING_REDRIVE are left out until they end.
- Redrives: `succeeded` / `success_rate` are eventual (after redrives); `first_attempt_*` count only
  executions that succeeded with `redrive_count = 0`.
- Latency figures (p50/p95/p99, share within the threshold) are over terminal executions, exact
  (`quantile_cont`), in milliseconds.

The methods (signatures and column lists) live in `queries/api.py`; `queries.sla_config` loads the SLA
file, `lake.signature` (shared with the writer) masks failure causes, `queries.export` writes the audit CSV and
`stepscope sla` and `stepscope export-audit` (stepscope/cli.py) are the command line.
"""

from __future__ import annotations

from queries.api import Queries, connect

__all__ = ["Queries", "connect"]
