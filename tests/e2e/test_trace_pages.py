"""X-Ray on the simulated lake: traces consistent with their executions, the Execution page's waterfall
(the Bedrock call behind the model outage marked) and its "no trace because ..." message, and the Flows
page's downstream calls with their fault rate, recomputed with plain SQL."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from apptest_pages import frame_with, open_page

from collectors.simulate.definitions import enterprise
from dashboard.components.text import md_escape

pytestmark = pytest.mark.e2e
TITLE = "X-Ray trace: state → Lambda → downstream calls"


def sql(lake: Path, query: str, params: dict | None = None) -> pd.DataFrame:
    con = duckdb.connect()
    for t in ("executions", "state_runs", "traces", "trace_segments", "state_machines"):
        pattern = f"{lake}/{t}/part-0.parquet" if t == "state_machines" else f"{lake}/{t}/*/*/*.parquet"
        con.read_parquet(pattern, hive_partitioning=False).create_view(t)
    return con.execute(query, params or {}).df()


def trace_figure(at) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("title", {}).get("text") == TITLE:
            return spec
    raise AssertionError("no trace waterfall on the page")


def test_every_traced_execution_has_one_trace_whose_states_are_its_state_runs(demo_lake: Path):
    counts = sql(
        demo_lake,
        """
        SELECT count(*) AS traced,
               count(*) FILTER (t.trace_id IS NOT NULL) AS with_trace,
               count(*) FILTER (t.execution_arn IS NOT NULL AND t.trace_id <> e.trace_id) AS mislinked
        FROM executions e LEFT JOIN traces t USING (execution_arn)
        WHERE e.trace_id IS NOT NULL AND e.status <> 'RUNNING'
          AND list_contains($traced, e.state_machine_arn)
        """,
        {"traced": [m.arn() for m in enterprise() if m.tracing]},  # the simulated ones, not the hostile one
    ).iloc[0]
    assert counts["traced"] > 100 and counts["with_trace"] == counts["traced"] and counts["mislinked"] == 0
    # the state subsegments of a trace are the execution's finished state runs, name for name
    diff = sql(
        demo_lake,
        """
        WITH s AS (SELECT t.execution_arn, g.state_name, count(*) AS n FROM trace_segments g
                   JOIN traces t USING (trace_id) WHERE g.state_name IS NOT NULL GROUP BY ALL),
             r AS (SELECT execution_arn, state_name, count(*) AS n FROM state_runs
                   WHERE exited_time IS NOT NULL AND execution_arn IN (SELECT execution_arn FROM traces) GROUP BY ALL)
        SELECT count(*) AS n FROM s FULL JOIN r USING (execution_arn, state_name) WHERE s.n IS DISTINCT FROM r.n
        """,
    ).iloc[0]["n"]
    assert diff == 0
    rows = sql(
        demo_lake, "SELECT sum(segment_count) AS a, (SELECT count(*) FROM trace_segments) AS b FROM traces"
    )
    assert rows.iloc[0]["a"] == rows.iloc[0]["b"]


def outage_execution(lake: Path) -> str:
    return sql(
        lake,
        """
        SELECT execution_arn FROM executions
        WHERE root_state = 'InvokeModel' AND root_error = 'Bedrock.ServiceUnavailableException'
          AND trace_id IS NOT NULL ORDER BY start_time LIMIT 1
        """,
    ).iloc[0]["execution_arn"]


def test_the_waterfall_marks_the_bedrock_call_behind_the_root_failure(on_demo: None, demo_lake: Path):
    arn = outage_execution(demo_lake)
    at = open_page("execution", execution=arn)
    spec = trace_figure(at)
    bars = [
        (y, w) for tr in spec["data"] for y, w in zip(tr["y"], tr["marker"]["line"]["width"], strict=True)
    ]
    want = sql(
        demo_lake,
        "SELECT count(*) AS n FROM trace_segments JOIN traces USING (trace_id) WHERE execution_arn = $arn",
        {"arn": arn},
    ).iloc[0]["n"]
    assert len(bars) == want
    marked = [y for y, w in bars if w == 3]
    assert len(marked) == 1 and "BedrockRuntime InvokeModel" in marked[0]
    faults = next(tr for tr in spec["data"] if tr["name"] == "fault (5xx)")
    assert any("BedrockRuntime InvokeModel" in y for y in faults["y"])
    caption = next(c.value for c in at.caption if c.value.startswith("Outlined:"))
    assert (
        "HTTP 503" in caption
        and "InvokeModel" in caption
        and md_escape("Bedrock.ServiceUnavailableException") in caption  # markdown text, shown as typed
    )


def test_without_tracing_the_page_says_why_there_is_no_trace(on_demo: None, demo_lake: Path):
    arn = sql(
        demo_lake,
        """
        SELECT e.execution_arn FROM executions e JOIN state_machines m USING (state_machine_arn)
        WHERE NOT m.tracing_enabled AND e.trace_id IS NULL ORDER BY e.start_time LIMIT 1
        """,
    ).iloc[0]["execution_arn"]
    at = open_page("execution", execution=arn)
    assert not [c for c in at.get("plotly_chart") if TITLE in c.proto.spec]
    assert any("tracing is off for this state machine" in i.value for i in at.info)


def test_flows_shows_each_task_states_downstream_calls_and_their_fault_rate(on_demo: None, demo_lake: Path):
    sm = sql(demo_lake, "SELECT state_machine_arn FROM state_machines WHERE name = 'ai-inference-rag-answer'")
    arn = sm.iloc[0]["state_machine_arn"]
    at = open_page("flows", machine=arn, period="30d")  # the 14-day lake fits in the period
    shown = frame_with(at, "fault_rate")
    row = shown[(shown["state_name"] == "InvokeModel") & (shown["service"] == "BedrockRuntime")].iloc[0]
    # plain SQL: BedrockRuntime calls made directly by InvokeModel state subsegments of this machine's traces
    want = sql(
        demo_lake,
        """
        SELECT count(*) AS calls, avg(c.fault::INT) AS rate FROM trace_segments c
        JOIN trace_segments s ON s.trace_id = c.trace_id AND s.segment_id = c.parent_id
        JOIN traces t ON t.trace_id = c.trace_id
        WHERE t.state_machine_arn = $arn AND s.state_name = 'InvokeModel' AND c.name = 'BedrockRuntime'
        """,
        {"arn": arn},
    ).iloc[0]
    assert row["calls"] == want["calls"] and row["fault_rate"] == pytest.approx(want["rate"])
    assert row["fault_rate"] > 0  # the model outage
    # PostProcess invokes a function: its Lambda call and the function's own downstream call are both there
    post = set(shown[shown["state_name"] == "PostProcess"]["service"])
    assert {"Lambda", "S3"} <= post
