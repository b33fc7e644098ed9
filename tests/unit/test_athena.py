"""`stepscope athena-ddl`: one statement per lake table, its columns the Parquet files' own (checked against
the files written, not the schema module), partition projection over the lake's folders, and clear errors."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from queries_tiny_lake import build

from lake.store import Lake
from lake.tables import TABLES
from stepscope import cli

# Parquet physical/logical types → the Athena type each must be declared as.
ATHENA = {"string": "string", "int64": "bigint", "int32": "int", "bool": "boolean", "double": "double"}


def ddl(lake: str, capsys, *extra: str) -> str:
    assert cli.main(["athena-ddl", "--lake", lake, *extra]) == 0
    return capsys.readouterr().out


def statements(text: str) -> dict[str, str]:
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r"CREATE EXTERNAL TABLE IF NOT EXISTS `\w+`\.`(\w+)` \(.*?;", text, re.S)
    }


def test_one_statement_per_table_with_the_columns_of_the_written_files(tmp_path: Path, capsys):
    lake = build(str(tmp_path / "lake"))
    text = ddl(lake.uri, capsys, "--database", "ops")
    assert text.count("CREATE DATABASE IF NOT EXISTS `ops`;") == 1
    tables = statements(text)
    assert list(tables) == list(TABLES)
    files = {
        "executions": next((tmp_path / "lake" / "executions").rglob("*.parquet")),
        "state_runs": next((tmp_path / "lake" / "state_runs").rglob("*.parquet")),
        "failures": next((tmp_path / "lake" / "failures").rglob("*.parquet")),
        "state_machines": tmp_path / "lake" / "state_machines" / "part-0.parquet",
    }
    for name, path in files.items():
        declared = re.findall(r"^  `(\w+)` (\w+) COMMENT", tables[name].split("PARTITIONED BY")[0], re.M)
        written = [
            (f.name, "timestamp" if str(f.type).startswith("timestamp") else ATHENA[str(f.type)])
            for f in pq.read_schema(path)
        ]
        assert declared == written, name
        assert f"LOCATION 'file://{tmp_path / 'lake'}/{name}/'" in tables[name]


def test_partition_projection_covers_the_lakes_folders(tmp_path: Path, capsys):
    lake = build(str(tmp_path / "lake"))
    tables = statements(ddl(lake.uri, capsys))
    folders = tmp_path / "lake" / "executions"
    domains = sorted(d.split("=", 1)[1] for d in os.listdir(folders))
    first = min(d.split("=", 1)[1] for dom in os.listdir(folders) for d in os.listdir(folders / dom))
    for name, spec in TABLES.items():
        stmt = tables[name]
        if not spec.partitioned:
            assert "\nPARTITIONED BY" not in stmt and "'projection." not in stmt
            continue
        assert "PARTITIONED BY (`domain` string COMMENT" in stmt and "`date` string COMMENT" in stmt
        assert f"'projection.domain.values'='{','.join(domains)}'" in stmt
        assert f"'projection.date.range'='{first},NOW'" in stmt
        assert "'projection.date.format'='yyyy-MM-dd'" in stmt and "'projection.enabled'='true'" in stmt
    assert domains == ["care", "pay"]  # the tiny lake's two domains


def test_quotes_in_descriptions_are_escaped(tmp_path: Path, capsys):
    text = ddl(build(str(tmp_path / "lake")).uri, capsys)
    assert "COMMENT 'why it can\\'t be redriven'" in text
    # every string literal closes where it should: without them, no quote is left over
    assert "'" not in re.sub(r"'(?:[^'\\]|\\.)*'", "", text)


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys):
    assert cli.main(["athena-ddl", "--lake", str(tmp_path / "none")]) == cli.EXIT_NO_LAKE
    assert "no lake at" in capsys.readouterr().err
    lake = build(str(tmp_path / "lake")).uri
    assert cli.main(["athena-ddl", "--lake", lake, "--database", "Bad-Name"]) == cli.EXIT_USAGE
    assert "bad database name 'Bad-Name'" in capsys.readouterr().err
    empty = Lake(str(tmp_path / "empty"))
    empty.write_meta(source="aws")
    assert cli.main(["athena-ddl", "--lake", empty.uri]) == cli.EXIT_USAGE
    assert "has no partitions yet" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["stepscope", "ops_2026"])
def test_good_database_names(tmp_path: Path, capsys, name: str):
    assert f"`{name}`.`executions`" in ddl(build(str(tmp_path / "lake")).uri, capsys, "--database", name)
