"""The export's reader (queries/audit/rows.py: the executions files read day by day, sla_met in Arrow)
against the plain SQL of `audit_rows` on a tiny lake holding the hard cases: ties on start_time across
row groups, files not in the writer's order, period edges inside a file, row groups wholly outside the
period, maintenance windows by domain, machine name and ARN, statuses of every kind, missing columns."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from queries_tiny_lake import CARE_A, PAY_A, PAY_B, SM, _ex, t

import queries
from lake.layout import table_file
from lake.store import Lake
from lake.tables import to_table
from queries import sla_config
from queries.api import AUDIT_PAGE_MAX
from queries.export import HEADER, csv_frame, csv_pieces

PAY_C = SM + "pay-c"
START, END = t(1, 9, 30), t(4, 12)  # edges inside the first and the last day's files
CONFIG = sla_config.parse(f"""
defaults: {{latency: {{threshold_s: 10, objective: 90%}}}}
domains:
  pay:
    latency: {{threshold_s: 5, objective: 90%}}
    exclusions: [{{start: 2025-01-01T11:00:00Z, end: 2025-01-01T11:30:00Z}}]
  care:
    exclusions: [{{start: 2025-01-01T00:00:00Z, end: 2025-01-05T00:00:00Z}}]
state_machines:
  pay-a:
    latency: {{threshold_s: 2, objective: 90%}}
  pay-b:
    latency: none
    exclusions: [{{start: 2025-01-02T03:00:00Z, end: 2025-01-02T04:00:00Z}}]
  "{PAY_C}":
    exclusions: [{{start: 2025-01-03T05:00:00Z, end: 2025-01-03T06:00:00Z}}]
""")
# Columns a file may lack (an older writer); the reader gives them as null, as a null column reads.
OPTIONAL = [
    "state_machine_version_arn",
    "state_machine_alias_arn",
    "trace_id",
    "redrive_count",
    "event_count",
]


def ex(machine: str, name: str, start, status: str | None, ms: int | None, **kw) -> dict:
    return _ex(
        machine,
        name,
        start,
        status,
        ms,
        trace_id=f"Root=1-{name}",
        state_machine_version_arn=f"{machine}:1",
        **kw,
    )


def days() -> dict[str, list[dict]]:
    tie1, tie2, tie4 = t(1, 10), t(2, 3, 10), t(4, 8)
    return {
        # written by the lake's writer (sorted); ties at 10:00 given in reverse ARN order
        "2025-01-01": [
            ex(PAY_A, "early", t(1, 9), "SUCCEEDED", 100),  # before the period
            ex(PAY_B, "z", tie1, "SUCCEEDED", 4000),
            ex(PAY_A, "y", tie1, "SUCCEEDED", 3000),  # over pay-a's 2 s
            ex(PAY_A, "x", tie1, "SUCCEEDED", 1000),
            ex(PAY_B, "w", tie1, "FAILED", 50, error="E", cause='says "no", twice', failed_state="S"),
            ex(PAY_A, "in-window", t(1, 11, 10), "SUCCEEDED", 1),  # the domain's window
            ex(PAY_B, "running", t(1, 12), "RUNNING", None),
            ex(PAY_B, "slow", t(1, 13), "SUCCEEDED", 6000),  # over the domain's 5 s (pay-b has none)
        ],
        # written out of order by another tool, 3 rows a row group, ties across row groups
        "2025-01-02": [
            ex(PAY_C, "c3", tie2, "SUCCEEDED", None),
            ex(PAY_B, "b-named", t(2, 3, 30), "SUCCEEDED", 10),  # pay-b's window, by name
            ex(PAY_A, "a1", tie2, "TIMED_OUT", 900),
            ex(PAY_C, "c1", tie2, "ABORTED", 3),
            ex(PAY_A, "a0", t(2, 1), "PENDING_REDRIVE", 5),
            ex(PAY_C, "c2", tie2, None, 9000),  # no status, over the threshold: false (NULL AND false)
            ex(PAY_A, "a2", t(2, 23, 59), "SUCCEEDED", 1999, cause="=cmd|' /C calc'!A0"),
        ],
        # lacks the optional columns; pay-c's window by ARN
        "2025-01-03": [
            ex(PAY_C, "c-arn", t(3, 5, 15), "SUCCEEDED", 1),
            ex(PAY_C, "c-late", t(3, 6), "SUCCEEDED", 1, error="multi\nline"),
        ],
        # sorted, 2 rows a row group: ties across a boundary, a row group wholly after the period
        "2025-01-04": [
            ex(PAY_A, "t1", tie4, "SUCCEEDED", 10),
            ex(PAY_A, "t2", tie4, "SUCCEEDED", 20),
            ex(PAY_B, "t3", tie4, "SUCCEEDED", 30),
            ex(PAY_A, "edge", END - timedelta(milliseconds=1), "SUCCEEDED", 40),
            ex(PAY_A, "at-end", END, "SUCCEEDED", 50),
            ex(PAY_A, "after", t(4, 13), "SUCCEEDED", 60),
        ],
    }


def write_file(lake: Lake, date: str, table: pa.Table, row_group_size: int) -> None:
    path = lake.path(table_file("executions", ("pay", date)))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)


def make_lake(path: str, *, drop_optional: bool) -> str:
    """The tiny lake; with drop_optional, the 3 January file lacks the OPTIONAL columns (DuckDB cannot
    read such a lake, so the SQL reads its twin, where those columns are null)."""
    lake = Lake(path)
    lake.write_meta(source="demo")
    machines = [(PAY_A, "pay"), (PAY_B, "pay"), (PAY_C, "pay"), (CARE_A, "care")]
    lake.write(
        "state_machines",
        [
            {"state_machine_arn": a, "name": a.rsplit(":", 1)[1], "domain": d, "type": "STANDARD"}
            for a, d in machines
        ],
    )
    d = days()
    lake.write_partitioned("executions", d["2025-01-01"], date_column="start_time")
    # another domain, same days: never in pay's export
    lake.write_partitioned(
        "executions",
        [ex(CARE_A, "c", t(1, 10), "SUCCEEDED", 1)],
        date_column="start_time",
    )
    write_file(lake, "2025-01-02", to_table("executions", d["2025-01-02"]), 3)
    day3 = to_table(
        "executions", [{k: v for k, v in r.items() if k not in OPTIONAL} for r in d["2025-01-03"]]
    )
    write_file(lake, "2025-01-03", day3.drop_columns(OPTIONAL) if drop_optional else day3, 100)
    write_file(lake, "2025-01-04", to_table("executions", d["2025-01-04"]), 2)
    return path


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit-rows")
    return make_lake(str(root / "missing"), drop_optional=True), make_lake(
        str(root / "full"), drop_optional=False
    )


def csv_cells(batches) -> list[list[str]]:
    text = b"".join(bytes(data) for data, _ in csv_pieces(batches)).decode()
    lines = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(lines[0]) == HEADER
    return lines[1:]


def test_the_reader_gives_the_rows_and_cells_of_the_sql(lakes):
    missing, full = (queries.connect(p) for p in lakes)
    sql = full.audit_rows("pay", START, END, CONFIG, limit=AUDIT_PAGE_MAX)
    for q in (missing, full):
        for batch_rows in (1, 2, 5, 1000):
            got = csv_cells(q.audit_batches("pay", START, END, CONFIG, batch_rows=batch_rows))
            assert got == csv_frame(sql).values.tolist(), batch_rows
    names = [r[HEADER.index("name")] for r in got]
    # period edges, ties by ARN (across row groups too), a file out of order sorted, no other domain
    assert names == ["x", "y", "w", "z", "in-window", "running", "slow", "a0", "a1", "c1", "c2", "c3"] + [
        "b-named",
        "a2",
        "c-arn",
        "c-late",
        "t1",
        "t2",
        "t3",
        "edge",
    ]
    met = dict(zip(names, (r[HEADER.index("sla_met")] for r in got), strict=True))
    assert met == {
        "w": "false",  # failed
        "x": "true",
        "y": "false",  # 3 s over pay-a's 2 s
        "z": "true",  # 4 s within the domain's 5 s: pay-b has no threshold of its own
        "in-window": "",  # the domain's maintenance window
        "running": "",  # not terminal
        "slow": "false",
        "a0": "",  # PENDING_REDRIVE is not terminal
        "a1": "false",
        "c1": "false",
        "c2": "false",
        "c3": "true",  # no duration: not over any threshold
        "b-named": "",  # pay-b's window, named by the machine's name
        "a2": "true",
        "c-arn": "",  # pay-c's window, named by its ARN
        "c-late": "true",
        "t1": "true",
        "t2": "true",
        "t3": "true",
        "edge": "true",
    }
    row = got[names.index("c-late")]
    assert [
        row[HEADER.index(c)] for c in ("version_arn", "alias_arn", "trace_id", "redrive_count", "event_count")
    ] == [""] * 5
    assert row[HEADER.index("error")] == "multi\nline" and got[names.index("a2")][
        HEADER.index("cause")
    ].startswith("'=")
    for q in (missing, full):
        q.close()


def test_batches_stay_within_a_day_and_their_size(lakes):
    q = queries.connect(lakes[1])
    sizes = [b.num_rows for b in q.audit_batches("pay", START, END, CONFIG, batch_rows=3)]
    # days of 7, 7, 2 and 4 rows (the last read as its two row groups in the period, of 2 rows each)
    assert sizes == [3, 3, 1, 3, 3, 1, 2, 2, 2] and sum(sizes) == 20
    assert [b.num_rows for b in q.audit_batches("pay", t(5, 0), t(6, 0), CONFIG)] == []
    with pytest.raises(ValueError, match="no domain called 'nope'"):
        q.audit_batches("nope", START, END, CONFIG)
    q.close()


def test_a_file_holding_another_days_executions_is_an_error(tmp_path):
    path = make_lake(str(tmp_path / "lake"), drop_optional=False)
    lake = Lake(path)
    # the 3 January file also holds an execution of 1 January: the days would come out of order
    stray = to_table("executions", [*days()["2025-01-03"], ex(PAY_A, "stray", t(1, 20), "SUCCEEDED", 1)])
    write_file(lake, "2025-01-03", stray, 100)
    q = queries.connect(path)
    with pytest.raises(ValueError, match=r"date=2025-01-03/part-0.parquet: holds executions started before"):
        list(q.audit_batches("pay", START, END, CONFIG))
    q.close()
