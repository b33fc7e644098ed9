"""`Lake`: a lake at a local path or s3://bucket/prefix; reads, merges and atomic writes.

Every partition is one file, replaced whole: merged with what is there, deduplicated by key (the
newest row wins), written to a hidden temporary name and renamed (an S3 PUT is atomic by itself).
Before a partition of a table is written, the tables derived from it (`TableSpec.derives`) are
rewritten from the merged rows, so the source file stays the commit marker of its derived ones.

Write order for the collector: events and state_runs of a batch first, executions last. An
executions row is the commit marker of its history: a run killed in between re-fetches the
history (its execution row is missing) and the per-execution replacement makes that idempotent.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from lake.layout import FORMAT_VERSION, META_FILE, NO_DOMAIN, PART_FILE, table_file, table_pattern
from lake.tables import TABLES, TableSpec, to_table

Rows: TypeAlias = pa.Table | Sequence[Mapping[str, Any]]


class Lake:
    """A lake at a local path or an s3://bucket/prefix URI.

    `durable=False` skips the fsync before each rename (writes stay atomic): for lakes rebuilt from a
    seed, such as the demo, where a build writes thousands of partitions.
    """

    def __init__(self, uri: str, *, durable: bool = True, rollups: bool = True):
        self.uri = uri
        self.durable = durable
        # False: whole-lake derived tables (one file over every partition) are left to `rebuild_rollups`,
        # for writers that write partitions from several processes at once (the demo build).
        self.rollups = rollups
        self._described = False
        self.fs: pafs.FileSystem
        if uri.startswith("s3://"):
            self.fs, self.root = _s3_filesystem(uri)
            self.local = False
        else:
            self.fs, self.root = pafs.LocalFileSystem(), os.path.abspath(uri)
            self.local = True

    # -- paths -----------------------------------------------------------------------------
    def path(self, rel: str) -> str:
        return f"{self.root.rstrip('/')}/{rel}"

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type != pafs.FileType.NotFound

    def is_lake(self) -> bool:
        """Whether a lake is here: its metadata file or an executions folder."""
        return self.exists(META_FILE) or self.exists("executions")

    def table_glob(self, table: str) -> str:
        """A glob DuckDB can read (`read_parquet(..., hive_partitioning=true)`)."""
        return f"{self.uri.rstrip('/')}/{table}/{table_pattern(TABLES[table].partitioned)}"

    def partition_file(self, table: str, domain: str, date: str) -> str:
        """The file of one partition, as DuckDB reads it (a path, or an s3:// URI)."""
        return f"{self.uri.rstrip('/')}/{table_file(table, (domain, date))}"

    # -- metadata ----------------------------------------------------------------------------
    def read_meta(self) -> dict[str, Any] | None:
        if not self.exists(META_FILE):
            return None
        with self.fs.open_input_stream(self.path(META_FILE)) as f:
            meta: dict[str, Any] = json.loads(f.read().decode())
            return meta

    def write_meta(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into the metadata file (a new lake starts at this FORMAT_VERSION)."""
        meta = {"format_version": FORMAT_VERSION, **(self.read_meta() or {}), **fields}
        self.write_bytes(META_FILE, json.dumps(meta, indent=2, sort_keys=True, default=str).encode())
        return meta

    def format_version(self) -> int | None:
        """The lake's format (None without a lake; 1 for a lake from before the metadata said)."""
        meta = self.read_meta()
        if meta is None:
            return 1 if self.exists("executions") else None
        return int(meta.get("format_version", 1))

    # -- reads -------------------------------------------------------------------------------
    def partitions(
        self, table: str, first: str | None = None, last: str | None = None
    ) -> list[tuple[str, str]]:
        """(domain, date) of every partition of a partitioned table; dates `first`..`last` only, if given."""
        out = []
        if self.local:  # two directory levels: far quicker than a recursive listing
            for dom in _scandir(self.path(table)):
                if not dom.name.startswith("domain="):
                    continue
                for day in _scandir(dom.path):
                    date = day.name.partition("=")[2]
                    if (
                        day.name.startswith("date=")
                        and (first is None or date >= first)
                        and (last is None or date <= last)
                        and os.path.exists(f"{day.path}/{PART_FILE}")
                    ):
                        out.append((urllib.parse.unquote(dom.name.partition("=")[2]), date))
            return sorted(out)
        sel = pafs.FileSelector(self.path(table), recursive=True, allow_not_found=True)
        for info in self.fs.get_file_info(sel):
            if info.base_name == PART_FILE:
                parts = info.path.split("/")
                date = parts[-2].split("=", 1)[1]
                if (first is None or date >= first) and (last is None or date <= last):
                    out.append((urllib.parse.unquote(parts[-3].split("=", 1)[1]), date))
        return sorted(out)

    def domains(self, table: str) -> list[str]:
        """The domains a partitioned table has folders for: one listing of its top level (no file read)."""
        sel = pafs.FileSelector(self.path(table), recursive=False, allow_not_found=True)
        names = (i.base_name for i in self.fs.get_file_info(sel) if i.type == pafs.FileType.Directory)
        found = (urllib.parse.unquote(n[len("domain=") :]) for n in names if n.startswith("domain="))
        return sorted(d for d in found if d != NO_DOMAIN)

    def read(self, table: str, domain: str | None = None, date: str | None = None) -> pa.Table:
        """One table (or one partition of it) with the exact schema; empty if absent."""
        spec = TABLES[table]
        keys: list[tuple[str, str] | None]
        if spec.partitioned and domain is not None and date is not None:
            keys = [(domain, date)]
        elif spec.partitioned:
            keys = [k for k in self.partitions(table) if domain is None or k[0] == domain]
        else:
            keys = [None]
        parts = [p for p in (self._read_file(table, k) for k in keys) if p is not None]
        return pa.concat_tables(parts) if parts else spec.schema.empty_table()

    def _read_file(self, table: str, key: tuple[str, str] | None) -> pa.Table | None:
        rel = table_file(table, key)
        if not self.exists(rel):
            return None
        return to_table(table, pq.read_table(self.path(rel), filesystem=self.fs))

    # -- writes ------------------------------------------------------------------------------
    def write(
        self,
        table: str,
        rows: Rows,
        *,
        domain: str | None = None,
        date: str | None = None,
        replace_executions: bool = False,
        replace_where: Callable[[pa.Table], Any] | None = None,
    ) -> int:
        """Merge rows into one partition (or an unpartitioned table) and replace it atomically.

        Rows with the same key as existing ones replace them. With `replace_executions`, every
        existing row of an execution present in `rows` is dropped first (a re-fetched history
        replaces the old one whole); with `replace_where`, every existing row for which it returns
        true (a boolean array over the old rows: a re-collected window of metrics). Returns the number
        of rows in the partition afterwards.
        """
        spec = TABLES[table]
        if spec.derived:
            source = next(s.name for s in TABLES.values() if table in s.derives)
            raise ValueError(f"{table} is derived from {source}; write {source} instead")
        if spec.partitioned != (domain is not None and date is not None):
            raise ValueError(
                f"{table}: domain and date are {'required' if spec.partitioned else 'not allowed'}"
            )
        key = (domain, date) if domain is not None and date is not None else None
        if not self._described:  # a lake says what format it is in, from its first write on
            self._described = self.exists(META_FILE) or bool(
                self.write_meta(format_version=self.format_version() or FORMAT_VERSION)
            )
        new = to_table(table, rows)
        old = self._read_file(table, key)
        if old is not None and len(old):
            if replace_executions:
                drop = pc.is_in(old.column("execution_arn"), value_set=pc.unique(new.column("execution_arn")))
                old = old.filter(pc.invert(drop))
            if replace_where is not None:
                old = old.filter(pc.invert(replace_where(old)))
            merged = pa.concat_tables([old, new])
        else:
            merged = new
        merged = dedupe_last(merged, spec.key)
        if spec.order:
            merged = merged.sort_by([(spec.order, "ascending"), *[(k, "ascending") for k in spec.key]])
        self._write_derived(spec, key, merged)  # first: the source file stays the commit marker
        self._write_table(spec, key, merged)
        return len(merged)

    def _write_derived(self, spec: TableSpec, key: tuple[str, str] | None, rows: pa.Table) -> None:
        for name in spec.derives:
            d = TABLES[name]
            assert d.derive is not None
            if d.partitioned or key is None:
                self._write_table(d, key, d.derive(rows))
            elif self.rollups:
                if not self.exists(table_file(name)):  # a lake from before it: first made of every partition
                    self.rebuild_rollups([name])
                self._replace_partition_rows(d, key, d.derive(rows))

    def _replace_partition_rows(self, spec: TableSpec, key: tuple[str, str], rows: pa.Table) -> None:
        """One file over every partition of its source (e.g. error_signatures): the rows of partition `key`
        are replaced by `rows` (which lack the domain and date columns)."""
        domain, date = key
        new = to_table(spec.name, _with_partition(rows, key))
        old = self._read_file(spec.name, None)
        if old is not None and len(old):
            mine = pc.and_(pc.equal(old.column("domain"), domain), pc.equal(old.column("date"), date))
            new = pa.concat_tables([old.filter(pc.invert(mine)), new])
        self._write_table(spec, None, new.sort_by([(k, "ascending") for k in spec.key]))

    def _write_table(self, spec: TableSpec, key: tuple[str, str] | None, t: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        blooms = {c: {"ndv": max(len(t), 1), "fpp": 0.01} for c in spec.bloom}
        enc = dict(spec.encoding)
        pq.write_table(
            t,
            sink,
            compression="zstd",
            row_group_size=128 * 1024,
            bloom_filter_options=blooms or None,
            use_dictionary=[n for n in t.column_names if n not in enc] if enc else True,
            column_encoding=enc or None,
        )
        self.write_bytes(table_file(spec.name, key), sink.getvalue().to_pybytes())

    def rebuild_derived(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Rewrite the derived tables of every partition of the tables they derive from (an older
        lake, or a repair); returns the number of source partitions of partitioned derived tables."""
        done = 0
        rollups, self.rollups = self.rollups, False
        try:
            for spec in (s for s in TABLES.values() if any(TABLES[d].partitioned for d in s.derives)):
                parts = self.partitions(spec.name)
                for i, key in enumerate(parts, 1):
                    rows = self._read_file(spec.name, key)
                    if rows is not None:
                        self._write_derived(spec, key, rows)
                    if progress and (i % 50 == 0 or i == len(parts)):
                        progress(i, len(parts))
                done += len(parts)
        finally:
            self.rollups = rollups
        self.rebuild_rollups()
        return done

    def rebuild_rollups(self, tables: Collection[str] | None = None) -> None:
        """Rewrite each whole-lake derived table (of `tables`; None = all) in one pass over the partitions
        it is made from (`TableSpec.rollup_from`: a smaller table with its source's rows, e.g. failures)."""
        for spec in (s for s in TABLES.values() if s.derive is not None and not s.partitioned):
            assert spec.derive is not None and spec.rollup_from is not None
            if tables is not None and spec.name not in tables:
                continue
            parts = []
            for key in self.partitions(spec.rollup_from):
                rows = self._read_file(spec.rollup_from, key)
                if rows is not None:
                    parts.append(_with_partition(spec.derive(rows), key))
            t = to_table(spec.name, pa.concat_tables(parts)) if parts else spec.schema.empty_table()
            self._write_table(spec, None, t.sort_by([(k, "ascending") for k in spec.key]))

    def write_partitioned(
        self,
        table: str,
        rows: Rows,
        *,
        date_column: str | None = None,
        replace_executions: bool = False,
        replace_where: Callable[[pa.Table], Any] | None = None,
    ) -> int:
        """Split rows by (`domain`, `date`) columns present in the rows and write each partition.

        Rows must carry `domain` and `date` (YYYY-MM-DD) keys or columns; they are used for the
        path and not stored in the files; a null domain goes to the `NO_DOMAIN` folder. Returns the
        number of partitions written.
        """
        t = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(list(rows))
        if not len(t):
            return 0
        i = t.column_names.index("domain")
        t = t.set_column(i, "domain", pc.fill_null(t.column(i).cast(pa.string()), NO_DOMAIN))
        if "date" not in t.column_names:
            if date_column is None:
                raise ValueError("rows need a date column")
            t = t.append_column("date", pc.strftime(t.column(date_column), format="%Y-%m-%d"))
        groups = t.group_by(["domain", "date"]).aggregate([]).to_pylist()
        for g in sorted(groups, key=lambda g: (g["domain"], g["date"])):
            mask = pc.and_(pc.equal(t.column("domain"), g["domain"]), pc.equal(t.column("date"), g["date"]))
            self.write(
                table,
                t.filter(mask),
                domain=g["domain"],
                date=g["date"],
                replace_executions=replace_executions,
                replace_where=replace_where,
            )
        return len(groups)

    def delete(self, rel: str) -> None:
        """Remove a file or folder of the lake (absent: nothing to do)."""
        info = self.fs.get_file_info(self.path(rel))
        if info.type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path(rel))
        elif info.type == pafs.FileType.File:
            self.fs.delete_file(self.path(rel))

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write one file of the lake atomically (readers see the old file or the new one)."""
        final = self.path(rel)
        if not self.local:  # an S3 PUT is atomic: readers see the old object or the new one
            self.fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
            with self.fs.open_output_stream(final) as f:
                f.write(data)
            return
        write_atomically(final, [data], durable=self.durable)


def write_atomically(path: str | os.PathLike[str], chunks: Iterable[bytes], *, durable: bool = True) -> None:
    """Write a local file whole or not at all: the chunks go to a hidden temporary name in the same
    folder (fsynced when `durable`), which is then renamed into place. The one place a file is replaced."""
    final = os.fspath(path)
    parent, name = os.path.split(final)
    os.makedirs(parent or ".", exist_ok=True)
    tmp = os.path.join(parent, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            for data in chunks:
                f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _scandir(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return [e for e in it if e.is_dir()]
    except FileNotFoundError:
        return []


def dedupe_last(t: pa.Table, key: Iterable[str]) -> pa.Table:
    """Keep the last row of each key (later rows are newer)."""
    key = list(key)
    if len(t) < 2:
        return t
    idx = pa.array(range(len(t)), pa.int64())
    last = (
        t.select(key).append_column("__i", idx).group_by(key, use_threads=False).aggregate([("__i", "max")])
    )
    keep = pc.sort_indices(last.column("__i_max"))
    return t.take(pc.take(last.column("__i_max"), keep))


def _with_partition(rows: pa.Table, key: tuple[str, str]) -> pa.Table:
    """A derived table's rows of partition `key` with its `domain` and `date` columns (for a whole-lake file)."""
    n = len(rows)
    return rows.append_column("domain", pa.array([key[0]] * n, pa.string())).append_column(
        "date", pa.array([key[1]] * n, pa.string())
    )


def _s3_filesystem(uri: str) -> tuple[pafs.S3FileSystem, str]:
    # pyarrow ignores AWS_ENDPOINT_URL; honour it (and the S3-specific variant) here.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, Any] = {}
    if endpoint:
        parsed = urllib.parse.urlparse(endpoint)
        kwargs.update(endpoint_override=parsed.netloc, scheme=parsed.scheme or "https")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    return pafs.S3FileSystem(**kwargs), uri[len("s3://") :].rstrip("/")


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and root of a local path or s3://bucket/prefix, configured as the lake's is."""
    if uri.startswith("s3://"):
        return _s3_filesystem(uri)
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def read_error(e: BaseException) -> str:
    """The first line of an error reading a lake (an AWS error runs on for lines): what a user is shown."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
