"""The audit export job: the CSV of one domain and period, and its manifest, written to a destination
as the next link of the series' chain, signed when a signer is given.

Re-running an export whose CSV comes out the same bytes writes nothing (no new link); one whose CSV
changed (late data) is written as a new revision of the period (`2026-11.r2.csv`) that says why.

The CSV is staged first; reading the chain's last link and writing the next one happen under the domain
folder's chain lock (`lake.lock`: an `flock` on a folder, a conditional-write lease on S3), so two
exports of one series at once (a daily and a catch-up run) take turns instead of forking the chain."""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa

from lake.lock import lake_lock
from queries.audit.dest import Destination, Staged
from queries.audit.manifest import FORMAT, MANIFEST_SUFFIX, Link, links, manifest_bytes, series_name
from queries.audit.period import Period, audit_path, safe_name
from queries.audit.sign import Signer, signed_message
from queries.export import csv_pieces

CHAIN_LOCK = "_chain.lock"  # in the domain's folder of the destination (ignored by verify-audit)
CHAIN_LOCK_WAIT_S = 300.0  # another export of the domain may be writing a month's CSV meanwhile
CHAIN_LOCK_TTL_S = 60.0  # an S3 lease of a dead export blocks the next for at most this long


@dataclass(frozen=True)
class Exported:
    """What an export did: `written` (a new link), `revised` (a new revision of a period already
    exported) or `unchanged` (the same bytes as the last revision: nothing written)."""

    outcome: str
    rel: str
    where: str
    manifest: dict[str, Any]


def versions() -> dict[str, str]:
    """The versions of the tools that made an export (in its manifest)."""

    def of(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "stepscope": of("stepscope"),
        "duckdb": of("duckdb"),
        "pyarrow": of("pyarrow"),
        "python": platform.python_version(),
    }


def _jsonable(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in arguments.items()}


def _reason(last: Link, period: Period, rows: int) -> str:
    before = last.manifest
    was = f"{before['rows']:,} rows when revision {before['revision']} was exported, {rows:,} now"
    if before["period"].get("end") != period.as_dict()["end"]:
        return f"the period now ends {period.end.isoformat()} ({was})"
    return f"late data: the period held {was}"


def export_audit(
    batches: Iterable[pa.RecordBatch],
    out: str,
    domain: str,
    period: Period,
    arguments: dict[str, Any],
    *,
    slas: str | None = None,
    lake: dict[str, Any] | None = None,
    signer: Signer | None = None,
    now: datetime | None = None,
) -> Exported:
    """Write the CSV of `batches` (streamed: memory holds a few batches) and its manifest under `out`
    (a folder or s3://bucket/prefix) at `audit_path(domain, period)`, chained to the series' last link.
    `slas` is the SLA file behind the sla_met column (None: the defaults); `lake` its URI and format."""
    dest = Destination(out)
    folder = safe_name(domain)
    staged = dest.stage(folder, csv_pieces(batches))
    try:
        with lake_lock(
            out,
            command=f"export-audit {domain}",
            wait=CHAIN_LOCK_WAIT_S,
            ttl=CHAIN_LOCK_TTL_S,
            name=f"{folder}/{CHAIN_LOCK}",
        ):
            return _link(dest, folder, staged, domain, period, arguments, slas, lake, signer, now)
    except BaseException:
        dest.drop(staged.tmp)
        raise


def _link(
    dest: Destination,
    folder: str,
    staged: Staged,
    domain: str,
    period: Period,
    arguments: dict[str, Any],
    slas: str | None,
    lake: dict[str, Any] | None,
    signer: Signer | None,
    now: datetime | None,
) -> Exported:
    """The staged CSV as the series' next link (or nothing, when it is the last revision's bytes)."""
    series = series_name(domain, period.kind)
    chain = [x for x in links(dest, folder) if x.series == series]
    same = [x for x in chain if x.manifest["period"].get("label") == period.label]
    last = max(same, key=lambda x: x.manifest["revision"]) if same else None
    if last is not None and last.manifest["sha256"] == staged.sha256:
        if dest.exists(last.csv):
            dest.drop(staged.tmp)
        else:  # its CSV went missing since: put the same bytes back
            dest.commit(staged, last.csv)
        return Exported("unchanged", last.csv, dest.where(last.csv), last.manifest)
    revision = last.manifest["revision"] + 1 if last else 1
    rel = audit_path(domain, period, revision)
    prev = chain[-1] if chain else None
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "file": rel.rsplit("/", 1)[-1],
        "domain": domain,
        "series": series,
        "sequence": prev.sequence + 1 if prev else 1,
        "revision": revision,
        "revises": (
            {
                "file": last.manifest["file"],
                "sha256": last.manifest["sha256"],
                "rows": last.manifest["rows"],
            }
            if last
            else None
        ),
        "reason": _reason(last, period, staged.rows) if last else None,
        "period": period.as_dict(),
        "rows": staged.rows,
        "sha256": staged.sha256,
        "bytes": staged.size,
        "arguments": _jsonable(arguments),
        "slas_sha256": hashlib.sha256(Path(slas).read_bytes()).hexdigest() if slas else None,
        "lake": lake or {},
        "versions": versions(),
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="microseconds"),
        "previous": (
            {
                "file": prev.manifest["file"],
                "sha256": prev.manifest["sha256"],
                "manifest_sha256": prev.sha256,
            }
            if prev
            else None
        ),
    }
    if signer is not None:
        manifest["signature"] = signer.sign(signed_message(manifest))
    dest.commit(staged, rel)
    dest.put(rel + MANIFEST_SUFFIX, manifest_bytes(manifest))
    return Exported("revised" if last else "written", rel, dest.where(rel), manifest)
