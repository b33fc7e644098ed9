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
_FORMULA_FIRST = pa.array(FORMULA_PREFIXES, pa.string())


def _data(arr: pa.Array) -> bytes:
    """The bytes of a text array's values, end to end (nulls and offsets aside)."""
    offsets = np.frombuffer(arr.buffers()[1], np.int32 if arr.type == pa.string() else np.int64)
    start, end = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    data = arr.buffers()[2]
    return b"" if data is None or end == start else data[start:end].to_pybytes()


def _text_cells(arr: pa.Array) -> pa.Array:
    """The text a spreadsheet shows as text: a leading formula character gets a quote in front; null → ''."""
    arr = arr.cast(pa.string())
    risky = pc.is_in(pc.utf8_slice_codeunits(arr, 0, 1), value_set=_FORMULA_FIRST)
    if pc.any(risky).as_py():  # rare: most columns have none, and then the text is left as it is
        arr = pc.if_else(risky, pc.binary_join_element_wise("'", arr, ""), arr)
    return arr.fill_null("")


def _timestamp_cells(arr: pa.Array) -> pa.Array:
    """UTC, milliseconds (floored), `Z`: 2025-01-02T03:04:05.678Z; null → ''."""
    if arr.type.unit == "ns":
        arr = pc.floor_temporal(arr, unit="microsecond")
    us = arr.cast(pa.timestamp("us", tz=arr.type.tz)).cast(pa.int64())
    ms = np.floor_divide(us.fill_null(0).to_numpy(), 1000)
    naive = pa.array(ms, type=pa.timestamp("ms"), mask=np.asarray(us.is_null()))
    # Arrow writes a millisecond timestamp as "YYYY-MM-DD HH:MM:SS.mmm" (always three decimals).
    text = pc.replace_substring(naive.cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, "Z", "").fill_null("")


def _cells(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The CSV cells of one Arrow column (text, no nulls), by its type."""
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
    raise TypeError(f"no CSV rendering for Arrow type {t}")


def column_cells(arr: pa.Array | pa.ChunkedArray) -> list[str]:
    """The CSV cells of one Arrow column: empty for null, true/false, ISO 8601 UTC times, text neutralised."""
    return _cells(arr).to_pylist()


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
    fields = []
    for _, c in COLUMNS:
        if c not in names:
            fields.append(empty)
            continue
        col = batch.column(names.index(c))
        # Numbers, true/false and times never hold a quote, comma or line break; text may.
        fields.append(_cells(col) if _plain_type(col.type) else _csv_fields(_cells(col)))
    fields[-1] = pc.binary_join_element_wise(fields[-1], "\n", "")
    lines = pc.binary_join_element_wise(*fields, ",")
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
