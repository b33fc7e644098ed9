"""Step Functions execution histories: `fetch` (boto3), `normalize` (history events → rows), `collect`
(what to fetch against the lake, and the writes). Discovery of the tagged state machines, which every
source starts from, is `fetch.discover`."""

from __future__ import annotations

from collectors.source import Source
from collectors.stepfunctions import collect

SF, TAGGING = "stepfunctions", "resourcegroupstaggingapi"

SOURCE = Source.of(
    collect,
    description="executions and their histories (ListExecutions, DescribeExecution, GetExecutionHistory)",
    tables=("state_machines", "executions", "state_runs", "events"),
    counters=("listed", "new", "updated", "skipped", "pages", "events", "expired", "collector_retries"),
    # (burst, refill per second) in us-east-1, us-west-2 and eu-west-1 ...
    quotas={
        (SF, "GetExecutionHistory"): (400, 20),
        (SF, "DescribeExecution"): (300, 15),
        (SF, "DescribeStateMachine"): (200, 20),
        (SF, "ListExecutions"): (200, 5),
        (SF, "ListStateMachines"): (100, 5),
        (SF, "ListTagsForResource"): (100, 1),
        # The tagging API publishes no per-API figure; stay modest.
        (TAGGING, "GetResources"): (20, 5),
    },
    # ... and where the other Regions get less.
    small_region_quotas={
        (SF, "ListExecutions"): (100, 2),
        (SF, "DescribeExecution"): (250, 10),
    },
)
