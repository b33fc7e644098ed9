"""Histories from CloudWatch Logs (EXPRESS machines, and STANDARD ones under `--history-source logs`):
`mapping` (records → history events, pure), `fetch` (FilterLogEvents), `collect` (windows, merges,
cursors and writes through the histories' normaliser and writer)."""

from __future__ import annotations

from collectors.logs import collect
from collectors.source import Source

SOURCE = Source.of(
    collect,
    description="EXPRESS executions (and STANDARD ones with --history-source logs) from CloudWatch Logs (FilterLogEvents)",
    tables=("executions", "state_runs", "events"),
    counters=(
        "log_machines",
        "log_pages",
        "log_events",
        "log_records",
        "log_bad_records",
        "log_new",
        "log_updated",
        "log_unchanged",
        "log_running",
        "log_partial",
        "log_unlogged",
    ),
    # FilterLogEvents: 5 requests/s per account and Region (the published figure; no burst given).
    quotas={("logs", "FilterLogEvents"): (5, 5)},
)
