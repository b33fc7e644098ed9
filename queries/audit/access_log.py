"""Who exported what, when: the lake's `access_log`, appended to when a person downloads an audit export
from the dashboard.

The dashboard's pages never write the lake; this is part of the audit export job (beside the CSV and its
manifest), which the dashboard's door (`dashboard.data.audit_download`) runs for them. Each entry lands in
the partition of the domain exported and the UTC day (`access_log/domain=<d>/date=<day>/`), merged with
the entries already there and renamed into place (lake.store), so Athena or DuckDB read the log like any
other table. Appends are serialised by the lake's access-log lock (`lake.lock`, `ACCESS_LOG_LOCK`): an
`flock` on a folder lake, a short conditional-write lease on S3, so dashboards on several hosts (replicas
behind one address) never lose each other's entries. The collector never writes this table, and its own
lock is another one: a download never waits for a collection run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from lake.layout import utc_date
from lake.lock import lake_lock
from lake.store import Lake

ACTION_EXPORT = "export"
ACCESS_LOG_LOCK = "access_log/_append.lock"  # one read-merge-rename of a partition at a time, anywhere
LOCK_WAIT_S = 60.0  # a merge takes well under a second: a minute's wait means something is stuck
LOCK_TTL_S = 30.0  # an S3 lease of a dead appender blocks the next for at most this long


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
    with lake_lock(
        lake_uri, command=f"access log: {who}", wait=LOCK_WAIT_S, ttl=LOCK_TTL_S, name=ACCESS_LOG_LOCK
    ):
        Lake(lake_uri).write("access_log", [entry], domain=domain, date=utc_date(at))
    return entry
