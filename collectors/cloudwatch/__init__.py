"""CloudWatch metrics: `queries` (which series to ask for), `calls` (what the definitions call),
`fetch` (boto3), `normalize` (results → rows), `collect` (windows by age, cursors and writes)."""

from __future__ import annotations

from collectors.cloudwatch import collect
from collectors.source import Source

CW = "cloudwatch"

SOURCE = Source.of(
    collect,
    description="AWS/States and AWS/Lambda datapoints (GetMetricData, ListMetrics)",
    tables=("metrics",),
    counters=(
        "metric_calls",
        "metric_queries",
        "metric_series",
        "datapoints",
        "functions",
        "unresolved_functions",
        "metric_messages",
        "list_metrics_calls",
    ),
    # GetMetricData 50 calls/s and ListMetrics 25/s per account and Region (paced at the run's margin).
    quotas={(CW, "GetMetricData"): (50, 50), (CW, "ListMetrics"): (25, 25)},
)
