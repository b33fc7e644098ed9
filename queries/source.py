"""Where each lake table is read from: the lake's glob, or an empty stand-in while the table is absent.

This is the only place a file location is built; SQL receives it as a bound parameter
(`read_parquet($executions_glob, ...)`).
"""

from __future__ import annotations

import glob as globlib
import os
import shutil
import tempfile
import weakref

import pyarrow.parquet as pq

from lake.store import Lake
from lake.tables import TABLES

EMPTY_DOMAIN, EMPTY_DATE = "_", "1970-01-01"


class LakeSource:
    """Globs for every table of one lake; absent tables point at an empty file with the same schema."""

    def __init__(self, lake: Lake):
        self.lake = lake
        self._present: set[str] = set()
        self._empty_root = tempfile.mkdtemp(prefix="stepscope-empty-")
        # Removed when the source is closed, collected or the interpreter exits.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._empty_root, True)
        for name, spec in TABLES.items():
            rel = f"{name}/domain={EMPTY_DOMAIN}/date={EMPTY_DATE}" if spec.partitioned else name
            os.makedirs(os.path.join(self._empty_root, rel), exist_ok=True)
            pq.write_table(spec.schema.empty_table(), os.path.join(self._empty_root, rel, "part-0.parquet"))

    def present(self, table: str) -> bool:
        """Whether the table has at least one file (once seen, assumed to stay)."""
        if table not in self._present and self._has_files(table):
            self._present.add(table)
        return table in self._present

    def glob(self, table: str) -> str:
        """The glob to hand to read_parquet for a table."""
        if self.present(table):
            return self.lake.table_glob(table)
        depth = "*/*/" if TABLES[table].partitioned else ""
        return f"{self._empty_root}/{table}/{depth}*.parquet"

    def empty_file(self, table: str) -> str:
        """The empty stand-in file of a table: what a list of that table's files holds when it has none."""
        rel = f"{table}/domain={EMPTY_DOMAIN}/date={EMPTY_DATE}" if TABLES[table].partitioned else table
        return f"{self._empty_root}/{rel}/part-0.parquet"

    def _has_files(self, table: str) -> bool:
        if self.lake.local:
            return next(globlib.iglob(self.lake.table_glob(table)), None) is not None
        import pyarrow.fs as pafs

        sel = pafs.FileSelector(self.lake.path(table), recursive=True, allow_not_found=True)
        return any(i.path.endswith(".parquet") for i in self.lake.fs.get_file_info(sel))

    def close(self) -> None:
        self._cleanup()
