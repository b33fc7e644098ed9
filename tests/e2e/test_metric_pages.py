"""The CloudWatch sections on the demo lake through AppTest: the Health page's ledger reconciles exactly
except the gap the ground truth records, headroom is drawn with its limit, each Task state shows its
function's figures, and a failed execution its function's datapoints. Every figure is recomputed here
from the lake's Parquet files with DuckDB."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from apptest_pages import open_page
from dash_lakes import XSS_MACHINE
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.e2e


def sql(lake: Path, query: str, **params: object) -> pd.DataFrame:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for t in ("executions", "state_runs", "metrics"):
        con.read_parquet(f"{lake}/{t}/*/*/*.parquet", hive_partitioning=True).create_view(t)
    return con.execute(query, params).df()


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def figures(at: AppTest) -> dict[str, dict]:
    out = {}
    for e in at.get("plotly_chart"):
        spec = json.loads(e.proto.spec)
        out[spec["layout"].get("title", {}).get("text", "")] = spec
    return out


def test_health_reconciles_exactly_except_the_injected_gap(
    on_demo: None, demo_lake: Path, truth: dict
) -> None:
    [gap] = truth["collection_gaps"]
    at = open_page("health")
    gaps = frame_with(at, "explanation")
    short = gaps[gaps["missing"].fillna(0) > 0]
    assert set(short["name"]) == {gap["name"]}
    assert {
        pd.Timestamp(d).date().isoformat(): int(n)
        for d, n in zip(short["day"], short["missing"], strict=True)
    } == gap["by_day"]
    assert all(e.startswith("collection lag") for e in short["explanation"])
    # the only other row: the hand-written hostile machine, of which CloudWatch knows nothing
    rest = gaps[gaps["missing"].fillna(0) <= 0]
    assert list(rest["name"]) == [XSS_MACHINE] and rest["cloudwatch_started"].isna().all()

    held = sql(demo_lake, "SELECT state_machine_name AS name, count(*) AS n FROM executions GROUP BY 1")
    held = dict(zip(held["name"], held["n"], strict=True))
    started = sql(
        demo_lake,
        "SELECT regexp_extract(state_machine_arn, '[^:]*$') AS name, sum(value) AS n FROM metrics "
        "WHERE metric_name = 'ExecutionsStarted' AND stat = 'Sum' GROUP BY 1",
    )
    started = dict(zip(started["name"], started["n"], strict=True))
    machines = frame_with(at, "days_short").set_index("name")
    for name, row in machines.iterrows():
        assert row["lake"] == held[name] and row["cloudwatch_started"] == started[name], name
        assert row["missing"] == (gap["executions_missing"] if name == gap["name"] else 0), name
    collected = sum(n for name, n in held.items() if name != XSS_MACHINE)
    assert sum(started.values()) == collected + gap["executions_missing"]
    text = " ".join(m.value for m in at.markdown)
    assert f"{collected:,} of {collected + gap['executions_missing']:,} executions collected" in text
    assert any(
        f"{gap['executions_missing']:,} execution(s) CloudWatch counted" in w.value for w in at.warning
    )


@pytest.mark.parametrize("page", ["overview", "sla"])
def test_headroom_is_drawn_with_its_limit(on_demo: None, demo_lake: Path, page: str) -> None:
    at = open_page(page, period="30d")
    charts = figures(at)
    open_ = charts["Open executions"]
    by_name = {t["name"]: t for t in open_["data"]}
    assert by_name["limit us-east-1"]["y"] == [1_000_000, 1_000_000]
    most = sql(
        demo_lake,
        "SELECT max(value) AS m FROM metrics WHERE metric_name = 'OpenExecutionCount' AND region = 'us-east-1'",
    )["m"][0]
    assert max(by_name["us-east-1"]["y"]) == most > 0
    assert "State transitions per second" in charts and "Open distributed map runs" in charts
    assert "StartExecution throttled, per state machine" in charts
    # nothing in the demo comes near a limit: no sentence says so
    assert not [w.value for w in at.warning if "of the limit" in w.value]


def test_each_task_state_shows_its_function_beside_its_own_figures(on_demo: None, demo_lake: Path) -> None:
    at = open_page("flows", machine="ai-inference-rag-answer", period="30d")
    table = frame_with(at, "function_name").set_index("state_name")
    assert table.loc["PostProcess", "function_name"] == "ai-answer-postprocess"
    assert table.loc["AnswerTooLong", "function_name"] == "ai-truncate-context"
    fn = sql(
        demo_lake,
        "SELECT metric_name, sum(value) AS n FROM metrics WHERE function_name = 'ai-answer-postprocess' "
        "AND stat = 'Sum' GROUP BY 1",
    ).set_index("metric_name")["n"]
    row = table.loc["PostProcess"]
    assert row["invocations"] == fn["Invocations"] > 0
    assert row["throttles"] == fn.get("Throttles", 0) and row["errors"] == fn.get("Errors", 0)
    visits = sql(
        demo_lake,
        "SELECT count(*) AS n FROM state_runs WHERE state_name = 'PostProcess' "
        "AND state_machine_arn LIKE '%:ai-inference-rag-answer'",
    )["n"][0]
    assert row["visits"] == visits


def test_a_failed_execution_shows_its_function_around_the_failure(on_demo: None, demo_lake: Path) -> None:
    failed = sql(
        demo_lake,
        "SELECT execution_arn, stop_time FROM executions WHERE status = 'FAILED' AND failed_state = 'PostProcess' "
        "ORDER BY execution_arn LIMIT 1",
    ).iloc[0]
    at = open_page("execution", execution=failed["execution_arn"])
    assert "Lambda functions around the failure" in [s.value for s in at.subheader]
    chart = figures(at)["Lambda ai-answer-postprocess around the failure"]
    bars = {t["name"]: t for t in chart["data"]}
    stop = failed["stop_time"]
    around = sql(
        demo_lake,
        "SELECT sum(value) AS n FROM metrics WHERE function_name = 'ai-answer-postprocess' "
        "AND metric_name = 'Invocations' AND timestamp >= $a AND timestamp < $b",
        a=stop - timedelta(minutes=30),
        b=stop + timedelta(minutes=30),
    )["n"][0]
    assert sum(bars["invocations"]["y"]) == around > 0
