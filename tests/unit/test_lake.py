"""The lake writer: layout, schemas, merge-by-key, per-execution replacement, atomic files."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow.parquet as pq
import pytest

from lake.layout import FORMAT_VERSION, PART_FILE, partition_dir
from lake.signature import signature
from lake.store import Lake, dedupe_last
from lake.tables import TABLES, to_table

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)


def _exe(arn: str, status: str, domain: str = "payments", day: str = "2026-03-01") -> dict:
    return {"execution_arn": arn, "status": status, "start_time": T0, "domain": domain, "date": day}


def test_partition_paths_percent_encode_the_domain_and_duckdb_decodes_it(tmp_path):
    lake = Lake(str(tmp_path))
    assert partition_dir("executions", "Customer Care/EU", "2026-03-01") == (
        "executions/domain=Customer%20Care%2FEU/date=2026-03-01"
    )
    lake.write_partitioned("executions", [_exe("a", "SUCCEEDED", domain="Customer Care/EU")])
    got = duckdb.execute(
        "select domain, date::varchar d from read_parquet($g, hive_partitioning=1)",
        {"g": lake.table_glob("executions")},
    ).fetchall()
    assert got == [("Customer Care/EU", "2026-03-01")]
    assert lake.partitions("executions") == [("Customer Care/EU", "2026-03-01")]


def test_newer_row_replaces_older_row_with_the_same_key(tmp_path):
    lake = Lake(str(tmp_path))
    lake.write_partitioned("executions", [_exe("a", "RUNNING"), _exe("b", "FAILED")])
    lake.write_partitioned("executions", [_exe("a", "SUCCEEDED")])
    rows = {r["execution_arn"]: r["status"] for r in lake.read("executions").to_pylist()}
    assert rows == {"a": "SUCCEEDED", "b": "FAILED"}


def test_replace_executions_drops_rows_of_a_refetched_history(tmp_path):
    lake = Lake(str(tmp_path))
    old = [
        {
            "execution_arn": "a",
            "entered_event_id": i,
            "state_name": f"s{i}",
            "domain": "d",
            "date": "2026-03-01",
        }
        for i in (2, 5, 9)
    ] + [
        {"execution_arn": "b", "entered_event_id": 2, "state_name": "x", "domain": "d", "date": "2026-03-01"}
    ]
    lake.write_partitioned("state_runs", old)
    new = [
        {"execution_arn": "a", "entered_event_id": 2, "state_name": "s2", "domain": "d", "date": "2026-03-01"}
    ]
    lake.write_partitioned("state_runs", new, replace_executions=True)
    keys = sorted((r["execution_arn"], r["entered_event_id"]) for r in lake.read("state_runs").to_pylist())
    assert keys == [("a", 2), ("b", 2)]


def test_rewriting_the_same_rows_leaves_identical_bytes(tmp_path):
    lake = Lake(str(tmp_path))
    rows = [_exe("a", "SUCCEEDED"), _exe("b", "FAILED")]
    lake.write_partitioned("executions", rows)
    path = tmp_path / partition_dir("executions", "payments", "2026-03-01") / PART_FILE
    first = path.read_bytes()
    lake.write_partitioned("executions", rows)
    assert path.read_bytes() == first


def test_files_have_the_declared_schema_and_no_temporary_files_remain(tmp_path):
    lake = Lake(str(tmp_path))
    lake.write_partitioned("executions", [_exe("a", "SUCCEEDED")])
    lake.write("state_machines", [{"state_machine_arn": "arn:sm", "name": "n"}])
    path = tmp_path / partition_dir("executions", "payments", "2026-03-01") / PART_FILE
    schema = pq.read_schema(path)
    assert schema.names == TABLES["executions"].schema.names
    assert not list(tmp_path.rglob("*.tmp"))
    assert lake.read("state_machines").column("name").to_pylist() == ["n"]


def test_write_checks_partition_arguments(tmp_path):
    lake = Lake(str(tmp_path))
    with pytest.raises(ValueError, match="domain and date are required"):
        lake.write("executions", [_exe("a", "SUCCEEDED")])
    with pytest.raises(ValueError, match="not allowed"):
        lake.write("state_machines", [{"state_machine_arn": "x"}], domain="d", date="2026-03-01")


def test_dedupe_keeps_the_last_row_per_key():
    t = to_table(
        "events",
        [
            {"execution_arn": "a", "event_id": 1, "type": "old"},
            {"execution_arn": "a", "event_id": 2, "type": "x"},
            {"execution_arn": "a", "event_id": 1, "type": "new"},
        ],
    )
    out = dedupe_last(t, ("execution_arn", "event_id")).to_pylist()
    assert sorted((r["event_id"], r["type"]) for r in out) == [(1, "new"), (2, "x")]


def test_meta_round_trip_and_missing_tables_read_empty(tmp_path):
    lake = Lake(str(tmp_path / "new"))
    assert lake.read_meta() is None
    assert lake.read("events").num_rows == 0
    lake.write_meta(source="demo", seed=3)
    lake.write_meta(generated_at="x")
    assert lake.read_meta() == {
        "format_version": FORMAT_VERSION,
        "source": "demo",
        "seed": 3,
        "generated_at": "x",
    }


def test_executions_files_carry_a_bloom_filter_on_the_execution_arn(tmp_path):
    # an execution looked up by ARN alone (a shared link) skips every file whose filter says no
    lake = Lake(str(tmp_path))
    lake.write_partitioned("executions", [_exe("arn:a", "SUCCEEDED"), _exe("arn:b", "FAILED")])
    path = tmp_path / partition_dir("executions", "payments", "2026-03-01") / PART_FILE
    info = duckdb.execute(
        "select path_in_schema, bloom_filter_offset from parquet_metadata($p) where path_in_schema = 'execution_arn'",
        {"p": str(path)},
    ).fetchall()
    assert info and info[0][1] is not None
    got = duckdb.execute(
        "select status from read_parquet($g, hive_partitioning=1) where execution_arn = 'arn:b'",
        {"g": lake.table_glob("executions")},
    ).fetchall()
    assert got == [("FAILED",)]


# -- sla_facts: derived from executions ----------------------------------------------------------
def _ran(
    arn: str, status: str, duration_ms: int | None, machine: str = "sm:b", redrive_count: int = 0
) -> dict:
    return {
        **_exe(arn, status),
        "state_machine_arn": machine,
        "state_machine_name": machine.split(":")[-1],
        "duration_ms": duration_ms,
        "redrive_count": redrive_count,
    }


def test_every_executions_write_rewrites_its_sla_facts_finished_executions_sorted(tmp_path):
    lake = Lake(str(tmp_path))
    lake.write_partitioned(
        "executions",
        [
            _ran("a", "SUCCEEDED", 900),
            _ran("b", "RUNNING", None),
            _ran("c", "FAILED", 300, "sm:a"),
            _ran("d", "SUCCEEDED", 100, redrive_count=1),
        ],
    )
    facts = lake.read("sla_facts", "payments", "2026-03-01").to_pylist()
    assert [(f["state_machine_arn"], f["duration_ms"], f["succeeded"], f["redriven"]) for f in facts] == [
        ("sm:a", 300, False, False),
        ("sm:b", 100, True, True),
        ("sm:b", 900, True, False),
    ]
    lake.write_partitioned("executions", [_ran("b", "TIMED_OUT", 5000)])  # the running one finished
    assert [f["duration_ms"] for f in lake.read("sla_facts").to_pylist()] == [300, 100, 900, 5000]
    with pytest.raises(ValueError, match="derived from executions"):
        lake.write("sla_facts", [], domain="payments", date="2026-03-01")


def test_every_executions_write_rewrites_its_failures_without_payloads(tmp_path):
    lake = Lake(str(tmp_path))
    lake.write_partitioned(
        "executions",
        [
            {**_ran("a", "FAILED", 900), "input": '{"card": "4111"}'},
            _ran("b", "RUNNING", None),
            _ran("c", "SUCCEEDED", 300),
            _ran("d", "ABORTED", 100),
        ],
    )
    assert lake.read("executions").column("input").to_pylist()[0] == '{"card": "4111"}'
    failed = lake.read("failures", "payments", "2026-03-01")
    assert failed.schema.names == [*lake.read("executions").schema.names, "signature"]
    assert [(r["execution_arn"], r["status"], r["input"]) for r in failed.to_pylist()] == [
        ("a", "FAILED", None),
        ("d", "ABORTED", None),
    ]
    assert failed.column("signature").to_pylist() == [
        signature(r["root_error"], r["root_state"], r["root_cause"]) for r in failed.to_pylist()
    ]
    lake.write_partitioned(
        "executions", [_ran("b", "TIMED_OUT", 5000), _ran("a", "SUCCEEDED", 1000)]
    )  # b ended, a redriven
    assert sorted(r["execution_arn"] for r in lake.read("failures").to_pylist()) == ["b", "d"]
    lake.write_partitioned("executions", [{**_exe("e", "SUCCEEDED"), "domain": "care"}])
    assert lake.read("failures", "care", "2026-03-01").num_rows == 0  # written anyway: the partition has them
    with pytest.raises(ValueError, match="derived from executions"):
        lake.write("failures", [], domain="payments", date="2026-03-01")


def test_rebuild_derived_restores_them_byte_for_byte(tmp_path):
    lake = Lake(str(tmp_path))
    lake.write_partitioned(
        "executions",
        [
            _ran("a", "SUCCEEDED", 900),
            _ran("c", "ABORTED", 30, "sm:a"),
            {**_ran("e", "FAILED", 70), "domain": "care", "date": "2026-03-02"},
        ],
    )
    files = {
        p: p.read_bytes() for t in ("sla_facts", "failures") for p in sorted((tmp_path / t).rglob(PART_FILE))
    }
    assert len(files) == 4
    for p in files:
        p.unlink()
    seen = []
    assert lake.rebuild_derived(progress=lambda i, n: seen.append((i, n))) == 2 and seen == [(2, 2)]
    assert {p: p.read_bytes() for p in files} == files


def test_partitions_lists_a_date_range(tmp_path):
    lake = Lake(str(tmp_path))
    lake.write_partitioned(
        "executions",
        [
            _exe("a", "SUCCEEDED", day="2026-03-01"),
            _exe("b", "FAILED", day="2026-03-03"),
            _exe("c", "FAILED", domain="care", day="2026-03-02"),
        ],
    )
    assert lake.partitions("executions", "2026-03-02", "2026-03-03") == [
        ("care", "2026-03-02"),
        ("payments", "2026-03-03"),
    ]
    assert lake.partitions("executions", last="2026-03-01") == [("payments", "2026-03-01")]
    assert lake.partitions("nothing_here") == []
