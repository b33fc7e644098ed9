"""What a lake holds, without a database or a scan: its metadata, its executions partitions, and
whether this version can read it. Cheap enough to run before every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow.fs as pafs

from lake.layout import META_FILE, table_file
from lake.store import Lake, read_error
from lake.upgrade import LakeFormatError, check_format

# Files every committing write rewrites: the cursors after each state machine's rows are written, the run
# ledger at the end of a collection run, the metadata file when the demo is built or the lake upgraded.
WRITE_MARKERS = (META_FILE, table_file("cursors"), table_file("collection_runs"))


@dataclass(frozen=True)
class Extent:
    uri: str
    exists: bool
    meta: dict[str, Any] | None
    days: tuple[str, ...]  # the date of every executions partition (one per domain and day)
    error: str | None = None  # why the lake cannot be read (network, credentials, permissions)
    format_error: str | None = None  # why this version does not read it, and the command that mends it

    @property
    def newest_day(self) -> date | None:
        return date.fromisoformat(max(self.days)) if self.days else None


def extent(uri: str) -> Extent:
    """The lake at `uri` from its metadata file and a listing of partition folders."""
    lake = Lake(uri)
    try:
        meta = lake.read_meta()
        days = tuple(d for _, d in lake.partitions("executions"))
        exists = meta is not None or bool(days) or lake.exists("state_machines")
        check_format(lake)
    except LakeFormatError as e:
        return Extent(uri, True, meta, days, format_error=str(e))
    except OSError as e:  # an s3:// lake out of reach, or a folder that cannot be read
        return Extent(uri, False, None, (), error=read_error(e))
    return Extent(uri, exists, meta, days)


def last_write(uri: str) -> tuple[tuple[int | None, int | None] | None, ...]:
    """(modification time in ns, size) of each of WRITE_MARKERS (None when absent): it changes with every
    committed write, so results keyed by it are fresh without a query. One stat per file (a HEAD per
    object on S3); OSError when the lake cannot be reached."""
    lake = Lake(uri)
    infos = lake.fs.get_file_info([lake.path(rel) for rel in WRITE_MARKERS])
    return tuple((i.mtime_ns, i.size) if i.type == pafs.FileType.File else None for i in infos)
