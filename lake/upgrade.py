"""Bringing a lake written in an older format up to this one (`lake.layout.FORMAT_VERSION`).

The writers (`stepscope collect`, `demo`) upgrade a lake when they open it; `stepscope rebuild-derived`
does it on demand. Readers never write: the queries refuse an older lake with a `LakeFormatError`
that says which command upgrades it. Every step is idempotent and the format version is written
last, so an upgrade killed half-way is simply run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

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
            f"run `{UPGRADE_COMMAND.format(uri=lake.uri)}` once to upgrade it (about 2 s per million executions)"
        )
    raise LakeFormatError(
        f"the lake at {lake.uri} is in format {version}, written by a newer Stepscope "
        f"(this version reads format {FORMAT_VERSION}): update Stepscope"
    )


def upgrade(lake: Lake, progress: Callable[[int, int], None] | None = None) -> int:
    """Bring the lake to FORMAT_VERSION and rewrite its derived tables; returns the partitions rewritten."""
    _cursors_from_collection_state(lake)
    n = lake.rebuild_derived(progress)
    lake.write_meta(format_version=FORMAT_VERSION)
    return n


def upgrade_if_needed(lake: Lake, log: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> bool:
    """Upgrade an older lake before writing to it; True when it was upgraded."""
    version = lake.format_version()
    if version is None or version >= FORMAT_VERSION:
        check_format(lake)  # a newer lake is refused rather than written in an older format
        return False
    log.info("upgrading the lake at %s from format %d to %d", lake.uri, version, FORMAT_VERSION)
    upgrade(lake)
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
