"""Collection health tells the truth: the executions still running per machine are those the lake holds
as RUNNING, and a lag under a minute reads as such."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from apptest_pages import open_page


def test_still_running_is_what_the_lake_holds(
    monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path
):
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    con = duckdb.connect()
    glob = f"{demo_lake}/executions/*/*/*.parquet"
    running = dict(
        con.execute(
            "SELECT state_machine_name, count(*) FROM read_parquet($g) WHERE status = 'RUNNING' GROUP BY 1",
            {"g": glob},
        ).fetchall()
    )
    assert sum(running.values()) > 0
    at = open_page("health")
    table = next(d.value for d in at.dataframe if "open_executions" in d.value.columns)
    shown = dict(zip(table["name"], table["open_executions"], strict=True))
    assert {k: v for k, v in shown.items() if v} == running
    assert set(table["lag"]) == {"under 1 min"}  # the demo was "collected" at its own end


def test_each_source_says_when_it_last_ran(monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path):
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    want = dict(
        duckdb.connect()
        .execute(
            "SELECT source, count(*) FROM read_parquet($g) GROUP BY 1",
            {"g": f"{demo_lake}/cursors/part-0.parquet"},
        )
        .fetchall()
    )
    assert "histories" in want
    at = open_page("health")
    table = next(d.value for d in at.dataframe if "failing_keys" in d.value.columns)
    assert dict(zip(table["source"], table["keys"], strict=True)) == want
    assert table["last_collected_at"].notna().all() and (table["failing_keys"] == 0).all()
