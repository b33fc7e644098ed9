"""The audit export: one CSV row per execution, spreadsheet-safe and byte-for-byte reproducible, with a
manifest beside it that chains to the previous export in the same folder (tamper evidence)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MANIFEST_SUFFIX = ".manifest.json"
# CSV header → audit_rows column
COLUMNS: tuple[tuple[str, str], ...] = (
    ("account", "account_id"),
    ("region", "region"),
    ("domain", "domain"),
    ("state_machine_arn", "state_machine_arn"),
    ("version_arn", "state_machine_version_arn"),
    ("alias_arn", "state_machine_alias_arn"),
    ("execution_arn", "execution_arn"),
    ("name", "name"),
    ("status", "status"),
    ("start", "start_time"),
    ("stop", "stop_time"),
    ("duration_ms", "duration_ms"),
    ("error", "error"),
    ("cause", "cause"),
    ("failed_state", "failed_state"),
    ("redrive_count", "redrive_count"),
    ("input_sha256", "input_sha256"),
    ("output_sha256", "output_sha256"),
    ("trace_id", "trace_id"),
    ("event_count", "event_count"),
    ("history_complete", "history_complete"),
    ("sla_met", "sla_met"),
)
# A spreadsheet treats a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = "^[" + "".join(re.escape(p) for p in FORMULA_PREFIXES) + "]"


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


def _text_cells(arr: pa.Array) -> pa.Array:
    """`cell` of every value of a text column, computed on the whole column."""
    arr = arr.cast(pa.string())
    risky = pc.match_substring_regex(arr, _FORMULA_START)
    if pc.any(risky).as_py():  # rare: most columns have none, and then the text is left as it is
        arr = pc.if_else(risky, pc.binary_join_element_wise("'", arr, ""), arr)
    return arr.fill_null("")


def _timestamp_cells(arr: pa.Array) -> pa.Array:
    """`cell` of every value of a timestamp column: UTC, milliseconds (floored), `Z`."""
    if arr.type.unit == "ns":
        arr = pc.floor_temporal(arr, unit="microsecond")
    us = arr.cast(pa.timestamp("us", tz=arr.type.tz)).cast(pa.int64())
    ms = np.floor_divide(us.fill_null(0).to_numpy(), 1000)
    naive = pa.array(ms, type=pa.timestamp("ms"), mask=np.asarray(us.is_null()))
    # Arrow writes a millisecond timestamp as "YYYY-MM-DD HH:MM:SS.mmm" (always three decimals).
    text = pc.replace_substring(naive.cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, "Z", "").fill_null("")


def _cells(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The CSV cells of one Arrow column (text, no nulls), by its type: the text `cell` gives each value."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return _text_cells(arr)
    if pa.types.is_timestamp(t):
        return _timestamp_cells(arr)
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "true", "false").fill_null("")
    if pa.types.is_integer(t):
        return pc.cast(arr, pa.string()).fill_null("")
    if pa.types.is_null(t):
        return pa.array([""] * len(arr), pa.string())
    return pa.array([cell(v) for v in arr.to_pylist()], pa.string())


def column_cells(arr: pa.Array | pa.ChunkedArray) -> list[str]:
    """The CSV cells of one Arrow column, by its type: the same text `cell` gives each value."""
    return _cells(arr).to_pylist()


def _quotes_needed() -> tuple[str, ...]:
    """The characters that make this interpreter's csv writer quote a field (with our dialect)."""
    found = []
    for ch in map(chr, range(128)):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow([f"a{ch}b", "x"])
        if buf.getvalue() != f"a{ch}b,x\n":
            found.append(ch)
    return tuple(found)


QUOTE_TRIGGERS = _quotes_needed()
_QUOTE_TRIGGER = "[" + "".join(re.escape(c) for c in QUOTE_TRIGGERS) + "]"


def _csv_fields(cells: pa.Array) -> pa.Array:
    """Cells as csv.writer (QUOTE_MINIMAL) writes them: quoted, inner quotes doubled, where needed."""
    needs = pc.match_substring_regex(cells, _QUOTE_TRIGGER)
    if not pc.any(needs).as_py():
        return cells
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(cells, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, cells)


def _plain_type(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_timestamp(t) or pa.types.is_null(t)


def csv_header() -> bytes:
    """The header line of the audit CSV."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow([h for h, _ in COLUMNS])
    return buf.getvalue().encode("utf-8")


def batch_csv(batch: pa.RecordBatch) -> bytes:
    """The CSV lines (no header) of one batch of audit rows; a missing column gives empty cells.

    Built column by column in Arrow; the same bytes as `to_csv` writes row by row (a test compares)."""
    if not batch.num_rows:
        return b""
    names = batch.schema.names
    empty = pa.array([""] * batch.num_rows, pa.string())
    fields = []
    for _, c in COLUMNS:
        if c not in names:
            fields.append(empty)
            continue
        col = batch.column(names.index(c))
        # Numbers, true/false and times never hold a quote, comma or line break; text may.
        fields.append(_cells(col) if _plain_type(col.type) else _csv_fields(_cells(col)))
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*fields, ","), "\n", "")
    whole = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "")
    return whole[0].as_buffer().to_pybytes()


def _csv_chunks(rows: pd.DataFrame | Iterable[pa.RecordBatch]) -> Iterator[tuple[bytes, int]]:
    """(bytes, rows) pieces of the CSV: the header, then one piece per batch (a DataFrame is one piece)."""
    if isinstance(rows, pd.DataFrame):
        yield to_csv(rows), len(rows)
        return
    yield csv_header(), 0
    batches: Iterable[pa.RecordBatch] = rows  # mypy keeps DataFrame here (RecordBatch is Any to it)
    for batch in batches:
        if batch.num_rows:
            yield batch_csv(batch), batch.num_rows


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
    _write_streamed(path, [(data, 0)])


def _write_streamed(path: Path, chunks: Iterable[tuple[bytes, int]]) -> tuple[int, str]:
    """Write the chunks to a hidden temporary name in the same folder, then rename into place.

    Returns (rows, SHA-256 of the bytes written); memory holds one chunk at a time."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    h, n = hashlib.sha256(), 0
    try:
        f: IO[bytes]
        with open(tmp, "wb") as f:
            for data, rows in chunks:
                f.write(data)
                h.update(data)
                n += rows
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return n, h.hexdigest()


def export_audit(
    rows: pd.DataFrame | Iterable[pa.RecordBatch],
    out: str | os.PathLike[str],
    arguments: dict[str, Any],
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """Write the CSV and its manifest; return the manifest.

    `rows` is a DataFrame of audit rows, or Arrow record batches of them (e.g. `Queries.audit_batches`),
    written as they arrive so memory stays bounded; both give the same bytes."""
    out = Path(out)
    prev = previous_manifest(out.parent, out)
    count, digest = _write_streamed(out, _csv_chunks(rows))
    manifest = {
        "file": out.name,
        "rows": count,
        "sha256": digest,
        "arguments": {
            k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in arguments.items()
        },
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="microseconds"),
        "previous_file": prev[1]["file"] if prev else None,
        "previous_sha256": prev[1]["sha256"] if prev else None,
        "previous_manifest_sha256": hashlib.sha256(prev[0].read_bytes()).hexdigest() if prev else None,
    }
    write_atomic(
        out.with_name(out.name + MANIFEST_SUFFIX),
        (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(),
    )
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
