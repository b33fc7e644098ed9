"""X-Ray traces of the tagged machines' executions: `fetch` (boto3), `normalize` (segment documents →
rows, linked to executions), `collect` (what to look for against the lake, the writes, the cursor)."""

from __future__ import annotations

from collectors.source import Source
from collectors.xray import collect

XRAY = "xray"

SOURCE = Source.of(
    collect,
    description="X-Ray traces linked to executions (GetTraceSummaries, BatchGetTraces or Transaction Search)",
    tables=("traces", "trace_segments", "trace_lookups"),
    counters=(
        "traces",
        "trace_segments",
        "trace_summaries",
        "traces_unlinked",
        "traces_pending",
        "traces_not_sampled",
        "traces_expired",
        "trace_documents_skipped",
        "xray_targets",
        "transaction_search_targets",
        "destination_assumed",
    ),
    # X-Ray publishes no per-API figure for these reads (unconfirmed): paced modestly.
    quotas={
        (XRAY, "GetTraceSegmentDestination"): (5, 1),
        (XRAY, "GetTraceSummaries"): (10, 5),
        (XRAY, "BatchGetTraces"): (10, 5),
        (XRAY, "StartTraceRetrieval"): (5, 1),
        (XRAY, "ListRetrievedTraces"): (10, 5),
    },
)
