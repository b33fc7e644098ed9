"""The audit export: one CSV row per execution, spreadsheet-safe and byte-for-byte reproducible, with a
manifest beside it that chains to the previous export in the same folder (tamper evidence)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MANIFEST_SUFFIX = ".manifest.json"
# CSV header → audit_rows column
COLUMNS: tuple[tuple[str, str], ...] = (
    ("account", "account_id"), ("region", "region"), ("domain", "domain"),
    ("state_machine_arn", "state_machine_arn"), ("version_arn", "state_machine_version_arn"),
    ("alias_arn", "state_machine_alias_arn"), ("execution_arn", "execution_arn"), ("name", "name"),
    ("status", "status"), ("start", "start_time"), ("stop", "stop_time"), ("duration_ms", "duration_ms"),
    ("error", "error"), ("cause", "cause"), ("failed_state", "failed_state"), ("redrive_count", "redrive_count"),
    ("input_sha256", "input_sha256"), ("output_sha256", "output_sha256"), ("trace_id", "trace_id"),
    ("event_count", "event_count"), ("history_complete", "history_complete"), ("sla_met", "sla_met"),
)
# A spreadsheet treats a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets a quote in front."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def cell(value: Any) -> str:
    """One CSV cell: empty for null, true/false, ISO 8601 UTC times, text neutralised."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, datetime):
        ts = pd.Timestamp(value).tz_convert(UTC) if value.tzinfo else pd.Timestamp(value).tz_localize(UTC)
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def to_csv(rows: pd.DataFrame) -> bytes:
    """The CSV bytes of audit rows (header first, rows in the given order, \\n line ends)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([h for h, _ in COLUMNS])
    cols = [rows[c] if c in rows else pd.Series([None] * len(rows)) for _, c in COLUMNS]
    for values in zip(*cols, strict=True):
        w.writerow([cell(v) for v in values])
    return buf.getvalue().encode("utf-8")


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def previous_manifest(folder: Path, exclude: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest manifest in `folder` other than `exclude`'s (by generation time, then name)."""
    found = []
    for p in folder.glob(f"*{MANIFEST_SUFFIX}"):
        if p.name == exclude.name + MANIFEST_SUFFIX:
            continue
        try:
            m = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        found.append((str(m.get("generated_at", "")), p.name, p, m))
    if not found:
        return None
    _, _, path, manifest = max(found, key=lambda x: (x[0], x[1]))
    return path, manifest


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a hidden temporary name in the same folder, then rename into place."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def export_audit(rows: pd.DataFrame, out: str | os.PathLike[str], arguments: dict[str, Any],
                 generated_at: datetime | None = None) -> dict[str, Any]:
    """Write the CSV and its manifest; return the manifest."""
    out = Path(out)
    data = to_csv(rows)
    prev = previous_manifest(out.parent, out)
    manifest = {
        "file": out.name,
        "rows": len(rows),
        "sha256": hashlib.sha256(data).hexdigest(),
        "arguments": {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in arguments.items()},
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="microseconds"),
        "previous_file": prev[1]["file"] if prev else None,
        "previous_sha256": prev[1]["sha256"] if prev else None,
        "previous_manifest_sha256": hashlib.sha256(prev[0].read_bytes()).hexdigest() if prev else None,
    }
    write_atomic(out, data)
    write_atomic(out.with_name(out.name + MANIFEST_SUFFIX),
                 (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


def verify_folder(folder: str | os.PathLike[str]) -> list[str]:
    """Problems found checking every export in a folder: CSV hashes and the manifest chain. Empty = sound."""
    folder = Path(folder)
    manifests = []
    for p in folder.glob(f"*{MANIFEST_SUFFIX}"):
        manifests.append((json.loads(p.read_text()), p))
    manifests.sort(key=lambda x: (x[0]["generated_at"], x[1].name))
    problems = []
    for i, (m, _path) in enumerate(manifests):
        csv_path = folder / m["file"]
        if not csv_path.exists():
            problems.append(f"{m['file']}: missing")
        elif sha256_file(csv_path) != m["sha256"]:
            problems.append(f"{m['file']}: SHA-256 differs from its manifest (file changed)")
        if i == 0:
            continue
        prev_m, prev_p = manifests[i - 1]
        if m.get("previous_sha256") != prev_m["sha256"] or m.get("previous_file") != prev_m["file"]:
            problems.append(f"{m['file']}: does not chain to {prev_m['file']}")
        elif m.get("previous_manifest_sha256") != hashlib.sha256(prev_p.read_bytes()).hexdigest():
            problems.append(f"{prev_p.name}: manifest changed after {m['file']} was exported")
    return problems
