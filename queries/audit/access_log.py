"""Who exported what, when: the lake's `access_log`, appended to when a person downloads an audit export
from the dashboard.

The dashboard's pages never write the lake; this is part of the audit export job (beside the CSV and its
manifest), which the dashboard's door (`dashboard.data.audit_download`) runs for them. Each entry lands in
the partition of the domain exported and the UTC day (`access_log/domain=<d>/date=<day>/`), merged with
the entries already there and renamed into place (lake.store), so Athena or DuckDB read the log like any
other table. Appends from one server are serialised (a lock); the collector never writes this table.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from lake.layout import utc_date
from lake.store import Lake

ACTION_EXPORT = "export"
_APPEND = threading.Lock()  # one read-merge-rename of a partition at a time


def record_export(
    lake_uri: str,
    *,
    who: str,
    domain: str,
    start: datetime,
    end: datetime,
    file: str,
    rows: int,
    sha256: str,
    via: str = "dashboard",
    at: datetime | None = None,
) -> dict[str, object]:
    """Append one export to the access log; returns the entry written."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    entry: dict[str, object] = {
        "entry_id": uuid.uuid4().hex,
        "logged_at": at,
        "who": who,
        "action": ACTION_EXPORT,
        "period_start": start,
        "period_end": end,
        "file": file,
        "rows": rows,
        "sha256": sha256,
        "via": via,
    }
    with _APPEND:
        Lake(lake_uri).write("access_log", [entry], domain=domain, date=utc_date(at))
    return entry
