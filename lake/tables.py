"""The table specs: what each lake table is keyed by, how it is laid out and encoded, and which
tables are derived from it. The writer (`lake.store.Lake.write`) follows these and nothing else.

Adding a table: its schema in `lake/schema.py`, a `TableSpec` here, under the source that writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lake import derived
from lake.schema import (
    ACCESS_LOG,
    COLLECTION_RUNS,
    CURSORS,
    ERROR_SIGNATURES,
    EVENTS,
    EXECUTIONS,
    FAILURES,
    METRICS,
    METRICS_DAILY,
    SLA_FACTS,
    STATE_MACHINES,
    STATE_RUNS,
    TRACE_LOOKUPS,
    TRACE_SEGMENTS,
    TRACES,
)


@dataclass(frozen=True)
class TableSpec:
    """One lake table: its schema, key and layout."""

    name: str
    schema: pa.Schema
    key: tuple[str, ...]  # rows with the same key replace each other (the newest wins)
    partitioned: bool  # domain=<d>/date=<YYYY-MM-DD> folders, else one file
    order: str | None = None  # column rows are sorted by inside a file
    bloom: tuple[str, ...] = ()  # columns with a Bloom filter: a lookup by value skips the other files
    encoding: Mapping[str, str] = field(
        default_factory=dict
    )  # Parquet column encodings (default: dictionary)
    derives: tuple[str, ...] = ()  # tables rewritten from this one's partition before it is written
    derive: Callable[[pa.Table], pa.Table] | None = (
        None  # for a derived table: rows from the source partition
    )
    rollup_from: str | None = None  # one file over every partition: rebuilt from this table's partitions

    @property
    def derived(self) -> bool:
        """Written only as a by-product of another table's write."""
        return self.derive is not None


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        # Step Functions histories (collectors/stepfunctions)
        TableSpec("state_machines", STATE_MACHINES, ("state_machine_arn",), False),
        TableSpec(
            "executions",
            EXECUTIONS,
            ("execution_arn",),
            True,
            "start_time",
            ("execution_arn",),
            derives=("sla_facts", "failures", "error_signatures"),
        ),
        TableSpec("state_runs", STATE_RUNS, ("execution_arn", "entered_event_id"), True, "execution_arn"),
        TableSpec("events", EVENTS, ("execution_arn", "event_id"), True, "execution_arn"),
        # CloudWatch metrics (collectors/cloudwatch): one row per datapoint; a re-collected one replaces it
        TableSpec(
            "metrics",
            METRICS,
            (
                "account_id",
                "region",
                "namespace",
                "metric_name",
                "dimensions",
                "stat",
                "period_s",
                "timestamp",
            ),
            True,
            "timestamp",
            derives=("metrics_daily",),
        ),
        # Derived from metrics, one file over every partition: a row per series and day, what the metric
        # questions read for whole days (one file: a 30-day question opens 1 file, not 180).
        TableSpec(
            "metrics_daily",
            METRICS_DAILY,
            ("domain", "date", *derived.METRICS_DAILY_KEY),
            False,
            derive=derived.metrics_daily,
            rollup_from="metrics",
        ),
        # X-Ray traces (collectors/xray), in the partition of their execution; traces is the commit marker
        TableSpec("traces", TRACES, ("trace_id",), True, "start_time", ("execution_arn",)),
        TableSpec("trace_segments", TRACE_SEGMENTS, ("trace_id", "segment_id"), True, "trace_id"),
        TableSpec("trace_lookups", TRACE_LOOKUPS, ("execution_arn",), True, "execution_arn"),
        # Derived from executions, not unique: the key is the order of the rows in a file. Sorted durations
        # differ little from one to the next: delta encoding packs them into a few bits.
        TableSpec(
            "sla_facts",
            SLA_FACTS,
            derived.SLA_FACTS_ORDER,
            True,
            encoding={"duration_ms": "DELTA_BINARY_PACKED"},
            derive=derived.sla_facts,
        ),
        TableSpec("failures", FAILURES, ("execution_arn",), True, "start_time", derive=derived.failures),
        # One file over every partition: the writer replaces the rows of the partition it writes.
        TableSpec(
            "error_signatures",
            ERROR_SIGNATURES,
            ("domain", "date", "state_machine_arn", "signature"),
            False,
            derive=derived.error_signatures,
            rollup_from="failures",
        ),
        # Every source: positions (one row per source, account, Region and key) and run summaries
        TableSpec("cursors", CURSORS, ("source", "account_id", "region", "key"), False),
        TableSpec("collection_runs", COLLECTION_RUNS, ("run_id",), False),
        # The dashboard's downloads of audit exports (queries/audit/access_log.py): appended, never replaced
        TableSpec("access_log", ACCESS_LOG, ("entry_id",), True, "logged_at"),
    )
}


def to_table(table: str, rows: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts, missing columns = null) or an Arrow table → a table with the exact schema."""
    schema = TABLES[table].schema
    if isinstance(rows, pa.Table):
        cols = [
            rows.column(f.name).cast(f.type) if f.name in rows.column_names else pa.nulls(len(rows), f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(cols, schema=schema)
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)
