"""Bringing a lake written in an older format up to this one (`lake.layout.FORMAT_VERSION`).

The writers (`stepscope collect`, `demo`) upgrade a lake when they open it; `stepscope rebuild-derived`
does it on demand. Readers never write: the queries refuse an older lake with a `LakeFormatError`
that says which command upgrades it. Every step is idempotent and the format version is written
last, so an upgrade killed half-way is simply run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lake.layout import FORMAT_VERSION, table_file
from lake.store import Lake

UPGRADE_COMMAND = "stepscope rebuild-derived --lake {uri}"


class LakeFormatError(Exception):
    """The lake is in a format this version does not read (older: upgrade it; newer: update Stepscope)."""


def check_format(lake: Lake) -> None:
    """Raise LakeFormatError unless the lake is absent or in this version's format."""
    version = lake.format_version()
    if version is None or version == FORMAT_VERSION:
        return
    if version < FORMAT_VERSION:
        raise LakeFormatError(
            f"the lake at {lake.uri} is in format {version}, this version reads format {FORMAT_VERSION}: "
            f"run `{UPGRADE_COMMAND.format(uri=lake.uri)}` once to upgrade it (up to half a minute per million "
            "executions)"
        )
    raise LakeFormatError(
        f"the lake at {lake.uri} is in format {version}, written by a newer Stepscope "
        f"(this version reads format {FORMAT_VERSION}): update Stepscope"
    )


# (executions partition, its events, definition by state machine ARN) → the partition with root failures.
# The replay that finds them belongs to the collectors, which pass it in (the lake imports no collector).
RootFailures = Callable[[pa.Table, pa.Table, Mapping[str, str | None]], pa.Table]


def upgrade(
    lake: Lake,
    progress: Callable[[int, int], None] | None = None,
    *,
    root_failures: RootFailures | None = None,
) -> int:
    """Bring the lake to FORMAT_VERSION and rewrite its derived tables; returns the partitions rewritten.

    `root_failures` fills the root failure of executions written before format 3 (required then).
    """
    _cursors_from_collection_state(lake)
    if (lake.format_version() or FORMAT_VERSION) < 3:
        if root_failures is None:
            raise LakeFormatError(
                f"the lake at {lake.uri} needs its root failures replayed: run rebuild-derived"
            )
        _root_failures(lake, root_failures)
        _history_sources(lake)
    n = lake.rebuild_derived(progress)
    lake.write_meta(format_version=FORMAT_VERSION)
    return n


def upgrade_if_needed(
    lake: Lake,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
    *,
    root_failures: RootFailures | None = None,
) -> bool:
    """Upgrade an older lake before writing to it; True when it was upgraded."""
    version = lake.format_version()
    if version is None or version >= FORMAT_VERSION:
        check_format(lake)  # a newer lake is refused rather than written in an older format
        return False
    log.info("upgrading the lake at %s from format %d to %d", lake.uri, version, FORMAT_VERSION)
    upgrade(lake, root_failures=root_failures)
    return True


def _cursors_from_collection_state(lake: Lake) -> None:
    """Format 1 kept the Step Functions positions in `collection_state`: move them to `cursors`."""
    old = table_file("collection_state")
    if not lake.exists(old):
        return
    rows = pq.read_table(lake.path(old), filesystem=lake.fs).to_pylist()
    if rows:
        lake.write(
            "cursors",
            [
                {
                    "source": "histories",
                    "account_id": r["account_id"],
                    "region": r["region"],
                    "key": r["state_machine_arn"],
                    "domain": r["domain"],
                    "watermark": r["watermark"],
                    "last_collected_at": r["last_collected_at"],
                    "open_items": r["open_executions"],
                    "incomplete_items": r["incomplete_histories"],
                    "last_error": r["last_error"],
                }
                for r in rows
            ],
        )
    lake.delete("collection_state")


def _root_failures(lake: Lake, fill: RootFailures) -> None:
    """Format 3 stores each failed execution's root failure: replay it from the stored events of every
    executions partition that does not have the columns yet (a partition done before a kill is skipped)."""
    machines = lake.read("state_machines").select(["state_machine_arn", "definition"]).to_pylist()
    definitions = {m["state_machine_arn"]: m["definition"] for m in machines}
    for domain, date in lake.partitions("executions"):
        rel = table_file("executions", (domain, date))
        if "root_state" in pq.read_schema(lake.path(rel), filesystem=lake.fs).names:
            continue
        executions = lake.read("executions", domain, date)
        events = lake.read("events", domain, date)
        lake.write("executions", fill(executions, events, definitions), domain=domain, date=date)


HISTORY_TABLES = ("executions", "state_runs", "events")


def _history_sources(lake: Lake) -> None:
    """Format 3 marks where each history came from (`history_source`) and what a machine's logs carry:
    every row written before came from the history API (`api`). DuckDB reads a table's files with the
    first file's columns, so a partition without the column would break every query over a mixed
    table: each is rewritten once (one with no null left is skipped, so a killed upgrade resumes)."""
    if lake.exists(table_file("state_machines")):  # a one-file table: its new columns come in as null
        lake.write("state_machines", lake.read("state_machines"))
    for table in HISTORY_TABLES:
        for domain, date in lake.partitions(table):
            path = lake.path(table_file(table, (domain, date)))
            if "history_source" in pq.read_schema(path, filesystem=lake.fs).names:
                col = pq.read_table(path, columns=["history_source"], filesystem=lake.fs).column(0)
                if col.null_count == 0:
                    continue
            rows = lake.read(table, domain, date)
            filled = pc.fill_null(rows.column("history_source"), "api")
            rows = rows.set_column(rows.schema.get_field_index("history_source"), "history_source", filled)
            lake.write(table, rows, domain=domain, date=date, replace_where=_every_row)


def _every_row(old: pa.Table) -> pa.Array:
    return pa.array([True] * len(old), pa.bool_())
