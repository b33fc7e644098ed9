"""The audit CSV: one row per execution, spreadsheet-safe and byte-for-byte reproducible, rendered
column by column in Arrow from the batches `Queries.audit_batches` streams. `queries.audit` writes it
with its manifest."""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
HEADER = tuple(h for h, _ in COLUMNS)
# A spreadsheet treats a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Batches rendered at once, on as many threads (Arrow's kernels release the GIL).
RENDER_THREADS = 2


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
_TRIGGER_BYTES = tuple(c.encode() for c in QUOTE_TRIGGERS)
_FORMULA_FIRST = np.zeros(256, bool)  # by a value's first byte
_FORMULA_FIRST[list("".join(FORMULA_PREFIXES).encode())] = True
# Timestamp cells, built as little-endian words (see _timestamp_cells).
_U8, _U2 = np.dtype("<u8"), np.dtype("<u2")
_PER_MS = {"ms": 1, "us": 1000, "ns": 1_000_000}
_PAIRS = np.frombuffer(b"".join(b"%02d" % i for i in range(100)), _U2).astype(_U8)  # "00".."99"
_DAY_0000, _DAY_9999 = -719_528, 2_932_896  # 0000-01-01 and 9999-12-31, in days since 1970-01-01


def _placed(text: str, at: int) -> np.uint64:
    """ASCII text at byte `at` of a little-endian 8-byte word."""
    return np.uint64(sum(b << 8 * (at + i) for i, b in enumerate(text.encode())))


_T_COLON = _placed("T", 2) | _placed(":", 5)  # "DDTHH:MM"
_COLON_DOT_Z = _placed(":", 0) | _placed(".", 3) | _placed("Z", 7)  # ":SS.mmmZ"


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's offsets (one more than its values) and its data bytes, without a copy."""
    offsets = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    return offsets, np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)


def _data(arr: pa.Array) -> bytes:
    """The bytes of a text array's values, end to end (nulls and offsets aside)."""
    offsets, data = _buffers(arr)
    return data[offsets[0] : offsets[-1]].tobytes()


def _text_cells(arr: pa.Array) -> pa.Array:
    """The text a spreadsheet shows as text: a leading formula character gets a quote in front."""
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    offsets, data = _buffers(arr)
    # Every formula prefix is one ASCII byte: a value's first byte tells.
    nonempty = offsets[1:] > offsets[:-1]
    hits = _FORMULA_FIRST[data[offsets[:-1][nonempty]]]
    if hits.any():  # rare: most columns have none, and then the text is left as it is
        risky = np.zeros(len(arr), bool)
        risky[nonempty] = hits
        arr = pc.if_else(pa.array(risky), pc.binary_join_element_wise("'", arr, ""), arr)
    return arr


def _timestamp_cells(arr: pa.Array) -> pa.Array:
    """UTC, milliseconds (floored), `Z`: 2025-01-02T03:04:05.678Z; null → ''.

    Each cell is three little-endian 8-byte words ("2025-01-", "02T03:04", ":05.678Z") assembled with
    integer arithmetic: a date is formatted once per distinct day, the time from a table of digit pairs.
    About 4x quicker than formatting through Arrow's timestamp cast (0.06 against 0.25 CPU-s per
    1.3M cells), and the same text for the years 0 to 9999."""
    raw = np.asarray(arr.cast(pa.int64()).fill_null(0))
    ms = raw * 1000 if arr.type.unit == "s" else raw // _PER_MS[arr.type.unit]  # floored
    valid = np.asarray(arr.is_valid())
    days = ms // 86_400_000
    ms -= days * 86_400_000
    if not valid.all():  # nulls become '' below; a real day keeps the day table small
        days = np.where(valid, days, days[valid][0] if valid.any() else 0)
    first, last = (int(days.min()), int(days.max())) if len(days) else (0, 0)
    if first < _DAY_0000 or last > _DAY_9999:
        raise ValueError("a time outside the years 0 to 9999 has no ISO 8601 text with a four-digit year")
    if last - first < len(days):
        uniq, idx = np.arange(first, last + 1), days - first
    else:
        uniq, idx = np.unique(days, return_inverse=True)
    text = np.frombuffer(
        np.datetime_as_string(uniq.astype("datetime64[D]")).astype("S10").tobytes(), np.uint8
    )
    dates = text.reshape(-1, 10)
    words = np.empty((len(days), 3), _U8)
    words[:, 0] = dates[:, :8].copy().view(_U8)[:, 0].take(idx)
    words[:, 1] = (
        dates[:, 8:].copy().view(_U2)[:, 0].astype(_U8).take(idx)
        | _T_COLON
        | _PAIRS.take(ms // 3_600_000) << np.uint64(24)
        | _PAIRS.take(ms // 60_000 % 60) << np.uint64(48)
    )
    words[:, 2] = (
        _COLON_DOT_Z
        | _PAIRS.take(ms // 1000 % 60) << np.uint64(8)
        | (ms % 1000 // 100 + 48).astype(_U8) << np.uint64(32)
        | _PAIRS.take(ms % 100) << np.uint64(40)
    )
    offsets = np.zeros(len(days) + 1, np.int32)
    np.cumsum(np.where(valid, 24, 0), out=offsets[1:])
    data = words.view(np.uint8).reshape(-1) if valid.all() else words[valid].view(np.uint8).reshape(-1)
    return pa.StringArray.from_buffers(len(days), pa.py_buffer(offsets), pa.py_buffer(data))


def _cells(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The CSV cells of one Arrow column, by its type, as text; null where the cell is empty (the join
    in batch_csv writes nothing for a null: no pass over every column to fill them)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_dictionary(t):  # each distinct value rendered once
        return pc.take(_cells(arr.dictionary), arr.indices)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return _text_cells(arr)
    if pa.types.is_timestamp(t):
        return _timestamp_cells(arr)
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "true", "false")
    if pa.types.is_integer(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_null(t):
        return pa.array([""] * len(arr), pa.string())
    raise TypeError(f"no CSV rendering for Arrow type {t}")


def column_cells(arr: pa.Array | pa.ChunkedArray) -> list[str]:
    """The CSV cells of one Arrow column: empty for null, true/false, ISO 8601 UTC times, text neutralised."""
    return _cells(arr).fill_null("").to_pylist()


def csv_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Audit rows (`Queries.audit_rows`) as the CSV holds them: its header and its cells, as text."""
    t = pa.Table.from_pandas(rows, preserve_index=False)
    out = {}
    for header, c in COLUMNS:
        arr = t.column(c) if c in t.column_names else pa.nulls(len(t))
        if pa.types.is_floating(arr.type):  # an integer column with nulls, through pandas
            arr = arr.cast(pa.int64())
        out[header] = column_cells(arr)
    return pd.DataFrame(out, columns=list(HEADER))


def _csv_fields(cells: pa.Array) -> pa.Array:
    """Cells as csv.writer (QUOTE_MINIMAL) writes them: quoted, inner quotes doubled, where needed."""
    data = _data(cells)
    if not any(b in data for b in _TRIGGER_BYTES):  # one memchr per character: most columns stop here
        return cells
    needs = pc.match_substring_regex(cells, _QUOTE_TRIGGER)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(cells, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, cells)


def _plain_type(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_timestamp(t) or pa.types.is_null(t)


def _fields(arr: pa.Array) -> pa.Array:
    """One column's CSV fields: its cells, quoted where needed (a dictionary's values once each)."""
    if pa.types.is_dictionary(arr.type):
        return pc.take(_fields(arr.dictionary), arr.indices)
    # Numbers, true/false and times never hold a quote, comma or line break; text may.
    return _cells(arr) if _plain_type(arr.type) else _csv_fields(_cells(arr))


def csv_header() -> bytes:
    """The header line of the audit CSV."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow(HEADER)
    return buf.getvalue().encode("utf-8")


def batch_csv(batch: pa.RecordBatch) -> pa.Buffer:
    """The CSV lines (no header) of one batch of audit rows; a missing column gives empty cells.

    Built column by column in Arrow: the lines are one string array whose data buffer is the CSV
    itself, handed on without a copy."""
    n = batch.num_rows
    if not n:
        return pa.py_buffer(b"")
    names = batch.schema.names
    empty = pa.array([""] * n, pa.string())
    fields = [_fields(batch.column(c)) if c in names else empty for _, c in COLUMNS]
    fields[-1] = pc.binary_join_element_wise(fields[-1], "\n", "", null_handling="replace")
    lines = pc.binary_join_element_wise(*fields, ",", null_handling="replace")
    offsets = np.frombuffer(lines.buffers()[1], np.int32)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + n])
    data = lines.buffers()[2]
    assert data is not None
    return data.slice(start, end - start)


def csv_pieces(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[pa.Buffer | bytes, int]]:
    """(bytes, rows) pieces of the CSV in order: the header, then one piece per batch.

    Batches are rendered RENDER_THREADS at a time, while the next ones are read; memory holds at most
    2 × RENDER_THREADS batches."""
    yield csv_header(), 0
    pending: deque[tuple[Future[pa.Buffer], int]] = deque()
    with ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="audit-csv") as pool:
        for batch in batches:
            if batch.num_rows:
                pending.append((pool.submit(batch_csv, batch), batch.num_rows))
            while len(pending) > RENDER_THREADS:
                done, rows = pending.popleft()
                yield done.result(), rows
        while pending:
            done, rows = pending.popleft()
            yield done.result(), rows
