"""Cursors: where each source got to, one row per (source, account, Region, key) in the `cursors` table.

A cursor moves only after the rows it covers are written (`put` is called last), so a run killed at
any point re-reads from the old position and, the writes being idempotent, ends in the same lake.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lake.store import Lake

CursorKey = tuple[str, str, str, str]  # (source, account_id, region, key)
KEY_COLUMNS = ("source", "account_id", "region", "key")


class Cursors:
    """The cursors of one lake, read once per run and written through one row at a time."""

    def __init__(self, lake: Lake):
        self.lake = lake
        self._rows: dict[CursorKey, dict[str, Any]] = {
            (r["source"], r["account_id"], r["region"], r["key"]): r for r in lake.read("cursors").to_pylist()
        }

    def get(self, source: str, account_id: str, region: str, key: str) -> dict[str, Any] | None:
        return self._rows.get((source, account_id, region, key))

    def put(self, source: str, account_id: str, region: str, key: str, **fields: Any) -> dict[str, Any]:
        """Write one cursor row (the fields not given are null) and keep it for this run."""
        row = {"source": source, "account_id": account_id, "region": region, "key": key, **fields}
        self.lake.write("cursors", [row])
        self._rows[(source, account_id, region, key)] = row
        return row

    def of(self, source: str, account_id: str, region: str, prefix: str) -> dict[str, dict[str, Any]]:
        """key → row of every cursor of this source and target whose key starts with `prefix`."""
        return {
            k[3]: r
            for k, r in self._rows.items()
            if k[:3] == (source, account_id, region) and k[3].startswith(prefix)
        }

    def put_many(self, rows: list[dict[str, Any]], *, drop: Iterable[CursorKey] = ()) -> None:
        """Write several cursor rows and remove the `drop` keys in one rewrite of the table."""
        gone = {"\x1f".join(k) for k in drop}
        if not rows and not gone:
            return

        def dropped(old: pa.Table) -> Any:
            key = pc.binary_join_element_wise(*(old.column(c) for c in KEY_COLUMNS), "\x1f")
            return pc.fill_null(pc.is_in(key, value_set=pa.array(sorted(gone), pa.string())), False)

        self.lake.write("cursors", rows, replace_where=dropped if gone else None)
        for k in drop:
            self._rows.pop(k, None)
        for r in rows:
            self._rows[(r["source"], r["account_id"], r["region"], r["key"])] = r
