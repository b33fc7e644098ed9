"""The Parquet lake: table schemas, layout, atomic partition writes and watermarks.

Layout (Hive style, readable by DuckDB, Athena, Spark)::

    <lake>/_stepscope.json                      lake metadata (source: "aws" or "demo")
    <lake>/state_machines/part-0.parquet        small tables: one file
    <lake>/collection_state/part-0.parquet
    <lake>/collection_runs/part-0.parquet
    <lake>/executions/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet
    <lake>/state_runs/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet
    <lake>/events/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet
    <lake>/sla_facts/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet          derived from executions
    <lake>/failures/domain=<d>/date=<YYYY-MM-DD>/part-0.parquet           derived from executions

`domain` and `date` live only in the path (percent-encoded; DuckDB decodes them), `date` is
the UTC start date of the execution, so an execution and its state runs and events share a
partition. Every partition is one file, replaced whole: merged with what is there,
deduplicated by key (the newest row wins), written to a hidden temporary name and renamed.

Write order for the collector: events and state_runs of a batch first, executions last. An
executions row is the commit marker of its history: a run killed in between re-fetches the
history (its execution row is missing) and the per-execution replacement makes that idempotent.

`sla_facts` and `failures` are derived: every write of an executions partition rewrites them first.
The facts hold what the SLA report, series and burn-down count of each finished execution (state
machine, succeeded, redriven, duration), sorted by state machine and duration, so a month of them
decodes in a fraction of the time the wide executions rows take; each file's footer lists its runs
(SLA_RUNS_KEY), which the SLA report counts whole days from. `failures` holds the partition's
failed, timed-out and aborted executions (about 1 in 100): the rows every failure question reads,
without payloads. A partition without them (a lake from before they existed) is read from
executions instead; `rebuild_derived` fills them in.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

TS = pa.timestamp("ms", tz="UTC")
FORMAT_VERSION = 1
META_FILE = "_stepscope.json"
PART_FILE = "part-0.parquet"


def _schema(*fields: tuple[str, pa.DataType, str]) -> pa.Schema:
    return pa.schema([pa.field(n, t, metadata={"description": d}) for n, t, d in fields])


STATE_MACHINES = _schema(
    ("state_machine_arn", pa.string(), "key"),
    ("account_id", pa.string(), "AWS account id"),
    ("region", pa.string(), "AWS Region"),
    ("name", pa.string(), "state machine name"),
    ("type", pa.string(), "STANDARD or EXPRESS"),
    ("domain", pa.string(), "value of the business-domain tag"),
    ("tags_json", pa.string(), "all tags as a JSON object"),
    ("definition", pa.string(), "ASL definition (JSON or YAML text)"),
    ("revision_id", pa.string(), "revision of the definition"),
    ("status", pa.string(), "ACTIVE or DELETING"),
    ("role_arn", pa.string(), "execution role"),
    ("creation_date", TS, "when the state machine was created"),
    ("description", pa.string(), "description"),
    ("logging_level", pa.string(), "ALL, ERROR, FATAL or OFF"),
    ("log_group_arn", pa.string(), "CloudWatch Logs group the machine logs to"),
    ("tracing_enabled", pa.bool_(), "X-Ray tracing on"),
    ("collected_at", TS, "when this row was collected"),
)

EXECUTIONS = _schema(
    ("execution_arn", pa.string(), "key"),
    ("state_machine_arn", pa.string(), "the state machine (unqualified ARN)"),
    ("state_machine_name", pa.string(), "the state machine's name"),
    ("account_id", pa.string(), "AWS account id"),
    ("region", pa.string(), "AWS Region"),
    ("name", pa.string(), "execution name"),
    ("status", pa.string(), "RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE"),
    ("start_time", TS, "start"),
    ("stop_time", TS, "stop (null while running)"),
    ("duration_ms", pa.int64(), "stop - start in ms (null while running)"),
    ("error", pa.string(), "error of a failed execution"),
    ("cause", pa.string(), "cause of a failed execution"),
    ("failed_state", pa.string(), "name of the state where the execution failed"),
    ("redrive_count", pa.int32(), "times redriven (0 = first attempt)"),
    ("redrive_status", pa.string(), "REDRIVABLE, NOT_REDRIVABLE, REDRIVABLE_BY_MAP_RUN"),
    ("redrive_status_reason", pa.string(), "why it can't be redriven"),
    ("redrive_date", TS, "last redrive"),
    ("state_machine_version_arn", pa.string(), "version that ran"),
    ("state_machine_alias_arn", pa.string(), "alias used to start it"),
    ("trace_id", pa.string(), "X-Ray trace id (Root=...)"),
    ("input_sha256", pa.string(), "SHA-256 of the input"),
    ("input_bytes", pa.int64(), "input size"),
    ("output_sha256", pa.string(), "SHA-256 of the output"),
    ("output_bytes", pa.int64(), "output size"),
    ("input", pa.string(), "input payload, only with --include-payloads"),
    ("output", pa.string(), "output payload, only with --include-payloads"),
    ("event_count", pa.int32(), "events in the history"),
    ("history_complete", pa.bool_(), "the whole history was read"),
    ("history_error", pa.string(), "why not (e.g. ExecutionDoesNotExist: expired)"),
    ("collected_at", TS, "when this row was collected"),
)

STATE_RUNS = _schema(
    ("execution_arn", pa.string(), "key part 1"),
    ("entered_event_id", pa.int64(), "key part 2: id of the StateEntered event"),
    ("exited_event_id", pa.int64(), "id of the StateExited event (null if it never exited)"),
    ("state_machine_arn", pa.string(), "the state machine"),
    ("state_name", pa.string(), "state name"),
    ("state_type", pa.string(), "Task, Choice, Pass, Wait, Map, Parallel, Succeed, Fail"),
    ("parent_state", pa.string(), "enclosing Map or Parallel state (null at top level)"),
    ("iteration", pa.int32(), "Map iteration index or Parallel branch index"),
    ("entered_time", TS, "entered"),
    ("exited_time", TS, "exited"),
    ("duration_ms", pa.int64(), "exited - entered"),
    ("attempts", pa.int32(), "task attempts (1 + retries)"),
    ("status", pa.string(), "SUCCEEDED, FAILED, CAUGHT, TIMED_OUT, ABORTED, RUNNING"),
    ("error", pa.string(), "error of the last failed attempt"),
    ("cause", pa.string(), "cause of the last failed attempt"),
    ("resource", pa.string(), "task resource"),
    ("next_state", pa.string(), "state entered next"),
)

EVENTS = _schema(
    ("execution_arn", pa.string(), "key part 1"),
    ("event_id", pa.int64(), "key part 2"),
    ("previous_event_id", pa.int64(), "previous event"),
    ("timestamp", TS, "when"),
    ("type", pa.string(), "HistoryEventType"),
    ("state_name", pa.string(), "state named by the event, if any"),
    ("details_json", pa.string(), "the event's details as JSON, payloads stripped"),
)

SLA_FACTS = _schema(
    ("state_machine_arn", pa.string(), "the state machine"),
    ("state_machine_name", pa.string(), "its name"),
    ("succeeded", pa.bool_(), "status SUCCEEDED (the others are FAILED, TIMED_OUT, ABORTED)"),
    ("redriven", pa.bool_(), "redrive_count > 0"),
    ("duration_ms", pa.int64(), "stop - start in ms"),
    ("start_time", TS, "start (read only on the days where it decides)"),
)

COLLECTION_STATE = _schema(
    ("account_id", pa.string(), "key part 1"),
    ("region", pa.string(), "key part 2"),
    ("state_machine_arn", pa.string(), "key part 3"),
    ("domain", pa.string(), "domain tag"),
    ("watermark", TS, "newest start time durably collected"),
    ("last_collected_at", TS, "end of the last run that covered this machine"),
    ("open_executions", pa.int32(), "executions still RUNNING, revisited next run"),
    ("incomplete_histories", pa.int32(), "executions whose history could not be read"),
    ("last_error", pa.string(), "last error collecting this machine"),
)

COLLECTION_RUNS = _schema(
    ("run_id", pa.string(), "key"),
    ("started_at", TS, "start"),
    ("finished_at", TS, "end"),
    ("source", pa.string(), "aws or demo"),
    ("summary_json", pa.string(), "counts: machines, executions, pages, calls, throttles"),
)


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    partitioned: bool
    order: str | None = None  # column rows are sorted by inside a file
    bloom: tuple[str, ...] = ()  # columns with a Bloom filter: a lookup by value skips the other files
    derived: bool = False  # written only as a by-product of another table's write


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec("state_machines", STATE_MACHINES, ("state_machine_arn",), False),
        TableSpec("executions", EXECUTIONS, ("execution_arn",), True, "start_time", ("execution_arn",)),
        TableSpec("state_runs", STATE_RUNS, ("execution_arn", "entered_event_id"), True, "execution_arn"),
        TableSpec("events", EVENTS, ("execution_arn", "event_id"), True, "execution_arn"),
        # Derived, and not unique: the key is the order of the rows in a file.
        TableSpec("sla_facts", SLA_FACTS, ("state_machine_arn", "duration_ms", "succeeded", "redriven"), True,
                  derived=True),
        TableSpec("failures", EXECUTIONS, ("execution_arn",), True, "start_time", derived=True),
        TableSpec("collection_state", COLLECTION_STATE, ("account_id", "region", "state_machine_arn"), False),
        TableSpec("collection_runs", COLLECTION_RUNS, ("run_id",), False),
    )
}


def partition_dir(table: str, domain: str, date: str) -> str:
    """Relative folder of one partition; the domain is percent-encoded."""
    return f"{table}/domain={urllib.parse.quote(domain, safe='')}/date={date}"


def utc_date(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d")


def to_table(table: str, rows: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts, missing columns = null) or an Arrow table → a table with the exact schema."""
    schema = TABLES[table].schema
    if isinstance(rows, pa.Table):
        cols = [
            rows.column(f.name).cast(f.type) if f.name in rows.column_names else pa.nulls(len(rows), f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(cols, schema=schema)
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


class Lake:
    """A lake at a local path or an s3://bucket/prefix URI."""

    def __init__(self, uri: str):
        self.uri = uri
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

    def table_glob(self, table: str) -> str:
        """A glob DuckDB can read (`read_parquet(..., hive_partitioning=true)`)."""
        depth = "*/*/" if TABLES[table].partitioned else ""
        return f"{self.uri.rstrip('/')}/{table}/{depth}*.parquet"

    def partition_file(self, table: str, domain: str, date: str) -> str:
        """The file of one partition, as DuckDB reads it (a path, or an s3:// URI)."""
        return f"{self.uri.rstrip('/')}/{partition_dir(table, domain, date)}/{PART_FILE}"

    # -- metadata ----------------------------------------------------------------------------
    def read_meta(self) -> dict[str, Any] | None:
        if not self.exists(META_FILE):
            return None
        with self.fs.open_input_stream(self.path(META_FILE)) as f:
            return json.loads(f.read().decode())

    def write_meta(self, **fields: Any) -> dict[str, Any]:
        meta = {"format_version": FORMAT_VERSION, **(self.read_meta() or {}), **fields}
        self._atomic_write(META_FILE, json.dumps(meta, indent=2, sort_keys=True, default=str).encode())
        return meta

    # -- reads -------------------------------------------------------------------------------
    def partitions(self, table: str, first: str | None = None, last: str | None = None) -> list[tuple[str, str]]:
        """(domain, date) of every partition of a partitioned table; dates `first`..`last` only, if given."""
        out = []
        if self.local:  # two directory levels: far quicker than a recursive listing
            for dom in _scandir(self.path(table)):
                if not dom.name.startswith("domain="):
                    continue
                for day in _scandir(dom.path):
                    date = day.name.partition("=")[2]
                    if day.name.startswith("date=") and (first is None or date >= first) \
                            and (last is None or date <= last) and os.path.exists(f"{day.path}/{PART_FILE}"):
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

    def read(self, table: str, domain: str | None = None, date: str | None = None) -> pa.Table:
        """One table (or one partition of it) with the exact schema; empty if absent."""
        spec = TABLES[table]
        if spec.partitioned and domain is not None and date is not None:
            keys = [(domain, date)]
        elif spec.partitioned:
            keys = [k for k in self.partitions(table) if domain is None or k[0] == domain]
        else:
            keys = [None]
        parts = [self._read_file(self._file(table, k)) for k in keys]
        parts = [p for p in parts if p is not None]
        return pa.concat_tables(parts) if parts else spec.schema.empty_table()

    def _file(self, table: str, key: tuple[str, str] | None) -> str:
        return f"{partition_dir(table, *key)}/{PART_FILE}" if key else f"{table}/{PART_FILE}"

    def _read_file(self, rel: str) -> pa.Table | None:
        if not self.exists(rel):
            return None
        return to_table(rel.split("/", 1)[0], pq.read_table(self.path(rel), filesystem=self.fs))

    # -- writes ------------------------------------------------------------------------------
    def write(
        self,
        table: str,
        rows: pa.Table | Sequence[Mapping[str, Any]],
        *,
        domain: str | None = None,
        date: str | None = None,
        replace_executions: bool = False,
    ) -> int:
        """Merge rows into one partition (or an unpartitioned table) and replace it atomically.

        Rows with the same key as existing ones replace them. With `replace_executions`, every
        existing row of an execution present in `rows` is dropped first (a re-fetched history
        replaces the old one whole). Returns the number of rows in the partition afterwards.
        """
        spec = TABLES[table]
        if spec.derived:
            raise ValueError(f"{table} is derived from executions; write executions instead")
        if spec.partitioned != (domain is not None and date is not None):
            raise ValueError(f"{table}: domain and date are {'required' if spec.partitioned else 'not allowed'}")
        new = to_table(table, rows)
        rel = self._file(table, (domain, date) if spec.partitioned else None)
        old = self._read_file(rel)
        if old is not None and len(old):
            if replace_executions:
                drop = pc.is_in(old.column("execution_arn"), value_set=pc.unique(new.column("execution_arn")))
                old = old.filter(pc.invert(drop))
            merged = pa.concat_tables([old, new])
        else:
            merged = new
        merged = dedupe_last(merged, spec.key)
        if spec.order:
            merged = merged.sort_by([(spec.order, "ascending"), *[(k, "ascending") for k in spec.key]])
        if table == "executions":  # the derived tables first: the executions file stays the commit marker
            self._write_derived((domain, date), merged)
        self._write_file(rel, merged, spec.bloom)
        return len(merged)

    def _write_derived(self, key: tuple[str, str], executions: pa.Table) -> None:
        self._write_file(self._file("sla_facts", key), sla_facts(executions))
        self._write_file(self._file("failures", key), failures(executions))

    def rebuild_derived(self, progress: Any = None) -> int:
        """Write sla_facts and failures of every executions partition (a lake from before them, or a repair)."""
        parts = self.partitions("executions")
        for i, key in enumerate(parts, 1):
            executions = self._read_file(self._file("executions", key))
            if executions is not None:
                self._write_derived(key, executions)
            if progress and (i % 50 == 0 or i == len(parts)):
                progress(i, len(parts))
        return len(parts)

    def _write_file(self, rel: str, t: pa.Table, bloom: tuple[str, ...] = ()) -> None:
        sink = pa.BufferOutputStream()
        blooms = {c: {"ndv": max(len(t), 1), "fpp": 0.01} for c in bloom}
        # Sorted durations differ little from one to the next: delta encoding packs them into a few bits.
        delta = {"duration_ms": "DELTA_BINARY_PACKED"} if rel.startswith("sla_facts/") else {}
        pq.write_table(t, sink, compression="zstd", row_group_size=128 * 1024, bloom_filter_options=blooms or None,
                       use_dictionary=[n for n in t.column_names if n not in delta] if delta else True,
                       column_encoding=delta or None)
        self._atomic_write(rel, sink.getvalue().to_pybytes())

    def write_partitioned(
        self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]], *, date_column: str | None = None,
        replace_executions: bool = False,
    ) -> int:
        """Split rows by (`domain`, `date`) columns present in the rows and write each partition.

        Rows must carry `domain` and `date` (YYYY-MM-DD) keys or columns; they are used for the
        path and not stored in the files. Returns the number of partitions written.
        """
        t = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(list(rows))
        if not len(t):
            return 0
        if "date" not in t.column_names:
            if date_column is None:
                raise ValueError("rows need a date column")
            t = t.append_column("date", pc.strftime(t.column(date_column), format="%Y-%m-%d"))
        groups = t.group_by(["domain", "date"]).aggregate([]).to_pylist()
        for g in sorted(groups, key=lambda g: (g["domain"], g["date"])):
            mask = pc.and_(pc.equal(t.column("domain"), g["domain"]), pc.equal(t.column("date"), g["date"]))
            self.write(table, t.filter(mask), domain=g["domain"], date=g["date"],
                       replace_executions=replace_executions)
        return len(groups)

    def _atomic_write(self, rel: str, data: bytes) -> None:
        final = self.path(rel)
        parent = final.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        if not self.local:  # an S3 PUT is atomic: readers see the old object or the new one
            with self.fs.open_output_stream(final) as f:
                f.write(data)
            return
        tmp = f"{parent}/.{final.rsplit('/', 1)[1]}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)


TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


# Footer key of a sla_facts file: its runs (one per state machine, in row order) and their counts.
SLA_RUNS_KEY = b"stepscope.sla_runs"
SLA_RUNS_COLUMNS = ("state_machine_arn", "state_machine_name", "rows", "durations", "succeeded",
                    "first_attempt_succeeded", "redriven")


def sla_facts(executions: pa.Table) -> pa.Table:
    """The `sla_facts` rows of one executions partition: its finished executions, sorted by state
    machine, then duration (missing durations last). The file's footer lists its runs, one per state
    machine in row order, with their counts (SLA_RUNS_COLUMNS): a report can take a whole day's counts
    from the footer and its sorted durations from one column."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(TERMINAL)))
    facts = pa.Table.from_arrays([
        t.column("state_machine_arn"), t.column("state_machine_name"),
        pc.equal(t.column("status"), "SUCCEEDED"),
        pc.fill_null(pc.greater(t.column("redrive_count"), 0), False),
        t.column("duration_ms"), t.column("start_time"),
    ], schema=SLA_FACTS)
    facts = facts.sort_by([(k, "ascending") for k in TABLES["sla_facts"].key])
    first = pc.and_(facts.column("succeeded"), pc.invert(facts.column("redriven")))
    runs = (facts.append_column("first", first)
            .group_by("state_machine_arn", use_threads=False)  # groups in order of first appearance
            .aggregate([("state_machine_name", "first"), ("state_machine_arn", "count", pc.CountOptions("all")),
                        ("duration_ms", "count"), ("succeeded", "sum"), ("first", "sum"), ("redriven", "sum")]))
    cols = [runs.column(c).to_pylist() for c in ("state_machine_arn", "state_machine_name_first",
                                                  "state_machine_arn_count", "duration_ms_count", "succeeded_sum",
                                                  "first_sum", "redriven_sum")]
    rows = [[r[0], r[1], *(int(x or 0) for x in r[2:])] for r in zip(*cols, strict=True)]
    meta = json.dumps({"columns": SLA_RUNS_COLUMNS, "runs": rows}, separators=(",", ":"))
    return facts.replace_schema_metadata({SLA_RUNS_KEY: meta.encode()})


FAILED = ("FAILED", "TIMED_OUT", "ABORTED")
PAYLOADS = ("input", "output")


def failures(executions: pa.Table) -> pa.Table:
    """The `failures` rows of one executions partition: its failed, timed-out and aborted executions,
    in their order, without payloads (no failure question reads them; they are not copied)."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(FAILED)))
    return pa.Table.from_arrays([pa.nulls(len(t), f.type) if f.name in PAYLOADS else t.column(f.name)
                                 for f in EXECUTIONS], schema=EXECUTIONS)


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
    last = t.select(key).append_column("__i", idx).group_by(key, use_threads=False).aggregate([("__i", "max")])
    keep = pc.sort_indices(last.column("__i_max"))
    return t.take(pc.take(last.column("__i_max"), keep))


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
    return pafs.S3FileSystem(**kwargs), uri[len("s3://"):].rstrip("/")


def read_error(e: BaseException) -> str:
    """The first line of an error reading a lake (an AWS error runs on for lines): what a user is shown."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def now_utc() -> datetime:
    return datetime.now(UTC)
