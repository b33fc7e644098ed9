"""Where things are in a lake: folders, file names, the metadata file and the format version.

Layout (Hive style, readable by DuckDB, Athena, Spark)::

    <lake>/_stepscope.json                      lake metadata (source: "aws" or "demo", format_version)
    <lake>/_stepscope.lock                      who is writing the lake now (lake/lock.py)
    <lake>/state_machines/part-0.parquet        small tables: one file
    <lake>/cursors/part-0.parquet
    <lake>/collection_runs/part-0.parquet
    <lake>/executions/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet
    <lake>/state_runs/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet
    <lake>/events/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet
    <lake>/sla_facts/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet          derived from executions
    <lake>/failures/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet           derived from executions
    <lake>/metrics/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet            CloudWatch datapoints
    <lake>/metrics_daily/part-0.parquet                                   derived from metrics: per series and day

`domain` and `date` live only in the path (percent-encoded; DuckDB decodes them); `date` is the UTC
start date of the execution, so an execution and its state runs and events share a partition.
A row of no domain (an account-level metric) lives under `domain=__HIVE_DEFAULT_PARTITION__`, the
folder name Hive, Athena and DuckDB read as a null domain.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

META_FILE = "_stepscope.json"
LOCK_FILE = "_stepscope.lock"
PART_FILE = "part-0.parquet"
# 2: every executions partition has its derived tables (sla_facts with runs, failures); positions of
# every source in `cursors` (format 1 kept the Step Functions ones in `collection_state`).
# 3: executions carry their root failure (root_state, root_error, root_cause, root_path).
FORMAT_VERSION = 3
NO_DOMAIN = "__HIVE_DEFAULT_PARTITION__"  # the partition folder of rows whose domain is null


def partition_dir(table: str, domain: str, date: str) -> str:
    """Relative folder of one partition; the domain is percent-encoded."""
    return f"{table}/domain={urllib.parse.quote(domain, safe='')}/date={date}"


def table_file(table: str, key: tuple[str, str] | None = None) -> str:
    """Relative path of a table's file: of one (domain, date) partition, or of an unpartitioned table."""
    return f"{partition_dir(table, *key)}/{PART_FILE}" if key else f"{table}/{PART_FILE}"


def table_pattern(partitioned: bool) -> str:
    """The glob of a table's files below its folder."""
    return "*/*/*.parquet" if partitioned else "*.parquet"


def utc_date(ts: datetime) -> str:
    """The partition date (YYYY-MM-DD, UTC) of a time."""
    return ts.astimezone(UTC).strftime("%Y-%m-%d")
