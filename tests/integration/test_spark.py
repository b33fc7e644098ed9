"""Spark (local mode, on the machine's Java) reads the lake with the columns `stepscope athena-ddl` declares,
and counts what DuckDB counts: executions per domain, day and status, and failures per root error as the
Failures page shows them. The DDL itself parses as Hive DDL, the dialect Athena's DDL is."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import queries
from collectors.simulate import build_demo
from lake.athena import schema_ddl
from lake.store import Lake
from lake.tables import TABLES

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

ROOT = Path(__file__).resolve().parents[2]
END = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 5


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    path = tmp_path_factory.mktemp("spark") / "lake"
    build_demo(str(path), days=DAYS, executions=1500, seed=11, end=END, events="none")
    return Lake(str(path))


@pytest.fixture(scope="module")
def ddl(lake: Lake) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "stepscope", "athena-ddl", "--lake", lake.uri, "--database", "stepscope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("stepscope-lake-check")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def statements(ddl: str) -> list[str]:
    body = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";\n") if s.strip()]


def read(spark, lake: Lake, table: str):
    """One lake table, with the DDL's columns (and `domain`, `date` from the folders)."""
    return (
        spark.read.schema(schema_ddl(table, partitions=True))
        .option("basePath", lake.path(table))
        .parquet(lake.path(table))
    )


def test_the_ddl_is_hive_ddl_with_the_columns_spark_reads(spark, ddl: str, lake: Lake):
    stmts = statements(ddl.rstrip(";\n"))
    parser = spark._jsparkSession.sessionState().sqlParser()
    for s in stmts:
        parser.parsePlan(s.rstrip(";"))  # raises ParseException on anything Hive DDL would refuse
    tables = {re.search(r"`stepscope`\.`(\w+)`", s).group(1): s for s in stmts[1:]}
    assert list(tables) == list(TABLES)
    for name, stmt in tables.items():
        assert f"(\n  {schema_ddl(name)}\n)" in stmt
    folders = sorted({d.name[len("domain=") :] for d in Path(lake.root).glob("*/domain=*")})
    assert {"payments", "ai-inference"} <= set(folders)
    assert f"'projection.domain.values'='{','.join(folders)}'" in tables["executions"]
    assert (
        f"'projection.date.range'='{min(d for _, d in lake.partitions('executions'))},NOW'"
        in (tables["executions"])
    )


def test_executions_per_domain_day_and_status_equal_duckdb(spark, lake: Lake):
    rows = read(spark, lake, "executions").groupBy("domain", "date", "status").count().collect()
    got = sorted((r["domain"], r["date"], r["status"], r["count"]) for r in rows)
    want = duckdb.sql(
        "SELECT domain, date::VARCHAR, status, count(*) FROM read_parquet($glob, hive_partitioning = true) "
        "GROUP BY ALL ORDER BY ALL",
        params={"glob": lake.table_glob("executions")},
    ).fetchall()
    assert got == [tuple(r) for r in want]
    assert len({(d, day) for d, day, _, _ in got}) >= 5 * DAYS  # every domain on every day
    assert sum(n for *_, n in got) == sum(
        1 for _ in Lake(lake.uri).read("executions").column("execution_arn")
    )
    # the start time Spark reads is the partition's UTC day: the timestamps' unit and zone came through
    days = read(spark, lake, "executions").selectExpr("date = date_format(start_time, 'yyyy-MM-dd') AS same")
    assert {r["same"] for r in days.collect()} == {True}


def test_failures_per_root_error_equal_the_failures_page(spark, lake: Lake):
    rows = (
        read(spark, lake, "failures")
        .selectExpr("coalesce(root_error, '(none)') AS root_error", "state_machine_arn")
        .groupBy("root_error", "state_machine_arn")
        .count()
        .collect()
    )
    got = sorted((r["root_error"], r["state_machine_arn"], r["count"]) for r in rows)
    q = queries.connect(lake.uri)
    page = q.failures_by_error_machine(datetime(2026, 11, 1, tzinfo=UTC), END)
    want = sorted(zip(page["root_error"], page["state_machine_arn"], page["failures"], strict=True))
    assert got == [(e, m, int(n)) for e, m, n in want]
    assert len(got) > 3
