"""Cursors: where each source got to, one row per (source, account, Region, key) in the `cursors` table.

A cursor moves only after the rows it covers are written (`put` is called last), so a run killed at
any point re-reads from the old position and, the writes being idempotent, ends in the same lake.
"""

from __future__ import annotations

from typing import Any

from lake.store import Lake

CursorKey = tuple[str, str, str, str]  # (source, account_id, region, key)


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
