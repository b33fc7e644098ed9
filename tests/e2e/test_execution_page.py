"""The Execution page through Streamlit's AppTest on the simulated lake: running time, Task retries, events."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components.text import running_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "streamlit_app.py")


def open_execution(arn: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["execution"] = arn
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Execution"]
    return at


def lake_sql(lake: Path, sql: str) -> pd.DataFrame:
    """`sql` over the lake's tables, named executions and state_runs."""
    con = duckdb.connect()
    for table in ("executions", "state_runs"):
        con.read_parquet(f"{lake}/{table}/*/*/*.parquet", hive_partitioning=False).create_view(table)
    return con.execute(sql).df()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_running_execution_says_how_long_it_has_run(on_demo: None, demo_lake: Path) -> None:
    row = lake_sql(
        demo_lake,
        "SELECT execution_arn, start_time FROM executions WHERE status = 'RUNNING' AND stop_time IS NULL "
        "ORDER BY start_time LIMIT 1",
    ).iloc[0]
    at = open_execution(row["execution_arn"])
    now = datetime.fromisoformat(json.loads((demo_lake / "_stepscope.json").read_text())["window_end"])
    expected = running_for(row["start_time"], now)  # the lake's 'now': the end of the simulated window
    header = next(c.value for c in at.caption if "started " in c.value)
    assert header.endswith(f"· {expected}"), header
    assert "still running" not in header and "stopped" not in header


def test_task_retries_is_zero_without_retries_despite_other_states(on_demo: None, demo_lake: Path) -> None:
    arn = lake_sql(
        demo_lake,
        """
        SELECT e.execution_arn FROM executions e JOIN state_runs r USING (execution_arn)
        WHERE e.status = 'SUCCEEDED'
        GROUP BY e.execution_arn
        HAVING count(*) FILTER (WHERE r.state_type <> 'Task') >= 2
           AND count(*) FILTER (WHERE r.state_type = 'Task') >= 1
           AND max(r.attempts) FILTER (WHERE r.state_type = 'Task') = 1
        ORDER BY e.execution_arn LIMIT 1
        """,
    )["execution_arn"].iloc[0]
    at = open_execution(arn)
    assert metric(at, "Task retries") == "0"
    assert not any(m.label == "Attempts" for m in at.metric)
    help_text = next(m.proto.help for m in at.metric if m.label == "Task retries")
    assert "Task" in help_text and "retr" in help_text.lower()


def test_task_retries_counts_attempts_after_the_first(on_demo: None, demo_lake: Path) -> None:
    row = lake_sql(
        demo_lake,
        """
        SELECT execution_arn, sum(attempts - 1) AS retries FROM state_runs
        WHERE state_type = 'Task'
        GROUP BY execution_arn HAVING max(attempts) >= 3
        ORDER BY execution_arn LIMIT 1
        """,
    ).iloc[0]
    at = open_execution(row["execution_arn"])
    assert metric(at, "Task retries") == f"{int(row['retries']):,}"


def test_events_table_shows_missing_values_as_empty_cells(on_demo: None, demo_lake: Path) -> None:
    arn = lake_sql(
        demo_lake, "SELECT execution_arn FROM executions WHERE status = 'RUNNING' ORDER BY start_time LIMIT 1"
    )["execution_arn"].iloc[0]
    at = open_execution(arn)
    table = next(df for df in at.dataframe if "details_json" in df.value.columns)
    events = table.value
    assert events["state_name"].isna().any()  # TaskScheduled, ExecutionStarted… name no state
    assert not events.isin(["None"]).any().any()
    assert table.proto.HasField("placeholder") and table.proto.placeholder == ""
