"""Dashboard building blocks without Streamlit: DOT rendering, chart builders, links, filters, text."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pandas as pd
import pytest

from collectors.asl import parse_definition
from dashboard import filters
from dashboard.components import charts, links
from dashboard.components.flow_overlay import execution_overlay, flow_overlay
from dashboard.components.graph import Overlay, escape, heat_colour, resolve_state_id, to_dot
from dashboard.components.text import duration, md_escape

NESTED = {
    "StartAt": "Fan",
    "States": {
        "Fan": {"Type": "Parallel", "Next": "Each", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}],
                "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                             {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
        "Each": {"Type": "Map", "Next": "Done",
                 "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "x",
                                                                          "End": True}}}},
        "Oops": {"Type": "Fail", "Error": "E"},
        "Done": {"Type": "Succeed"},
    },
}


def _labels(dot: str) -> list[str]:
    return re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)


def test_escape_keeps_quotes_backslashes_and_newlines_inside_the_label() -> None:
    assert escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_hostile_state_names_cannot_break_out_of_their_label() -> None:
    evil = 'x"]; injected [shape=box label="pwn'
    g = parse_definition({"StartAt": evil, "States": {evil: {"Type": "Pass", "Next": "n\\\n2"},
                                                       "n\\\n2": {"Type": "Succeed"}}})
    dot = to_dot(g)
    # the whole name, quotes escaped, is one label: nothing leaks out as DOT syntax
    assert 'x\\"]; injected [shape=box label=\\"pwn\\nPass' in _labels(dot)
    assert not any(line.lstrip().startswith("injected") for line in dot.splitlines())
    assert "n\\\\\\n2" in dot  # backslash then newline, both escaped
    # every node id is synthetic
    assert set(re.findall(r"^\s+(\S+) \[", dot, re.M)) <= {f"n{i}" for i in range(10)} | {"graph", "node", "edge"}


def test_parallel_and_map_are_clusters_and_catch_edges_are_dashed_red() -> None:
    dot = to_dot(parse_definition(NESTED))
    assert dot.count("subgraph cluster_") == 4  # Parallel, its 2 branches, Map
    assert 'label="Parallel: Fan"' in dot and 'label="Map: Each (INLINE)"' in dot
    catch = [line for line in dot.splitlines() if 'label="States.ALL"' in line]
    assert len(catch) == 1 and 'color="#d1242f"' in catch[0] and "style=dashed" in catch[0]


def test_overlay_colours_counts_path_and_failure() -> None:
    g = parse_definition(NESTED)
    work = resolve_state_id(g, "Work", "Each")
    assert work == "Each/0/Work"
    ov = Overlay(heat={work: 1.0}, node_notes={work: "12 visits"}, edge_counts={("Fan", "Each"): 7},
                 path=["Fan", "Each"], failed=work)
    dot = to_dot(g, ov)
    line = next(lbl for lbl in dot.splitlines() if "Work\\nTask" in lbl)
    assert "12 visits" in line and 'color="#d1242f"' in line and "penwidth=3" in line
    assert re.search(r'label="7"', dot)
    assert heat_colour(0) == "#e8f5e9" and heat_colour(1) == "#e53935" and heat_colour(7) == heat_colour(1)


def test_flow_overlay_maps_state_rows_and_transitions_to_graph_ids() -> None:
    g = parse_definition(NESTED)
    states = pd.DataFrame({"state_name": ["Fan", "Work"], "parent_state": [None, "Each"], "visits": [10, 40],
                           "failures": [1, 0], "p95_ms": [100.0, 400.0]})
    edges = pd.DataFrame({"parent_state": [None, None, "Each"], "from_state": ["Fan", "Fan", "Work"],
                          "to_state": ["Each", "Oops", None], "count": [9, 1, 40]})
    ov = flow_overlay(g, states, edges, "failure_rate")
    assert ov.heat == {"Fan": pytest.approx(0.5), "Each/0/Work": 0.0}
    assert ov.node_notes["Fan"] == "10 visits · 10.0% failed"
    assert ov.edge_counts == {("Fan", "Each"): 9, ("Fan", "Oops"): 1, ("Each/0/Work", "Each/0/__end__"): 40}
    assert flow_overlay(g, states, edges, "p95_ms").heat == {"Fan": 0.25, "Each/0/Work": 1.0}
    runs = pd.DataFrame({"state_name": ["Fan", "A", "Oops"], "parent_state": [None, "Fan", None]})
    ex = execution_overlay(g, runs, "Oops")
    assert ex.failed == "Oops" and list(ex.path)[1:] == ["Fan", "Fan/0/A", "Oops"]


def test_every_corpus_definition_renders(corpus_dir) -> None:
    rendered = 0
    for path in sorted(corpus_dir.iterdir()):
        try:
            g = parse_definition(path.read_bytes())
        except ValueError:
            continue
        dot = to_dot(g, Overlay(heat={s.id: 0.5 for s in g}))
        assert dot.startswith("digraph G {") and dot.endswith("}")
        assert dot.count("{") == dot.count("}")
        rendered += 1
    assert rendered >= 150


def test_heatmap_fills_missing_cells_and_escapes_labels() -> None:
    df = pd.DataFrame({"hour": [1, 3], "machine": ["<b>m</b>", "n"], "failures": [2, 5]})
    fig = charts.heatmap(df, "hour", "machine", "failures", "t", x_order=range(4))
    trace = json.loads(fig.to_json())["data"][0]
    assert trace["x"] == ["0", "1", "2", "3"]
    assert trace["y"] == ["&lt;b&gt;m&lt;/b&gt;", "n"]
    assert trace["z"] == [[0, 2, 0, 0], [0, 0, 0, 5]]
    empty = charts.heatmap(df.iloc[0:0], "hour", "machine", "failures", "t")
    assert empty.layout.annotations[0].text == "No data in this period"


def test_burndown_and_attainment_draw_reference_lines() -> None:
    ts = pd.date_range("2026-01-01", periods=3, freq="D", tz="UTC")
    burn = charts.burndown(pd.DataFrame({"ts": ts, "a": [1.0, 0.5, -0.1], "i": [1.0, 0.5, 0.0]}), "ts", "a", "i", "b")
    assert [t.name for t in burn.data] == ["actual", "ideal"] and list(burn.data[0].y) == [100.0, 50.0, -10.0]
    att = charts.attainment(pd.DataFrame({"ts": ts, "r": [0.99, 0.98, 1.0]}), "ts", "r", 0.995, "a")
    assert att.layout.shapes[0].y0 == pytest.approx(99.5)


def test_timeline_bars_run_from_entry_to_exit() -> None:
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    runs = pd.DataFrame({"s": [t0, t0 + pd.Timedelta(seconds=2)], "e": [t0 + pd.Timedelta(seconds=2), None],
                         "label": ["A", "B"], "status": ["SUCCEEDED", "FAILED"]})
    fig = charts.timeline(runs, "s", "e", "label", "status", "t")
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["SUCCEEDED"].x) == [2000.0]
    assert list(by_name["FAILED"].customdata) == [0.0] and 0 < by_name["FAILED"].x[0] < 20  # a visible sliver


def test_links_to_console_logs_trace_and_redrive() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:flow:run 1"
    assert links.region_of(arn) == "eu-west-1"
    assert links.execution_console_url(arn).startswith(
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:")
    assert "run%201" in links.execution_console_url(arn)
    assert links.xray_trace_url("Root=1-abc-def;Parent=1", "eu-west-1").endswith("#xray:traces/1-abc-def")
    logs = links.log_group_url("arn:aws:logs:eu-west-1:1:log-group:/aws/vendedlogs/states/x:*", "eu-west-1")
    assert logs.endswith("#logsV2:log-groups/log-group/$252Faws$252Fvendedlogs$252Fstates$252Fx")
    assert links.log_group_url(None, "eu-west-1") is None
    assert links.redrive_command(arn) == (
        "aws stepfunctions redrive-execution --execution-arn "
        "'arn:aws:states:eu-west-1:123456789012:execution:flow:run 1' --region eu-west-1")
    assert links.can_redrive("FAILED", "REDRIVABLE") and not links.can_redrive("FAILED", "NOT_REDRIVABLE")
    assert not links.can_redrive("SUCCEEDED", None)


def test_filters_from_and_to_url_params() -> None:
    f = filters.from_params({"domain": "pay", "period": "bogus", "machine": ""})
    assert f == filters.Filters("pay", None, filters.DEFAULT_PERIOD)
    assert filters.to_params(f) == {"domain": "pay", "period": "7d"}
    start, end = filters.window("24h", datetime(2026, 1, 2, 10, 15, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 1, 1, 11, tzinfo=UTC), datetime(2026, 1, 2, 11, tzinfo=UTC))
    assert filters.window("7d", datetime(2026, 1, 2, tzinfo=UTC))[1] == datetime(2026, 1, 2, tzinfo=UTC)
    assert filters.previous_window(start, end) == (datetime(2025, 12, 31, 11, tzinfo=UTC), start)


def test_markdown_escape_and_durations() -> None:
    assert md_escape("<b>*x*</b> :red[y]\n# z") == "\\<b\\>\\*x\\*\\<\\/b\\> \\:red\\[y\\] \\# z"
    assert md_escape(None) == ""
    assert [duration(v) for v in (None, 850, 12_300, 246_000, 7_560_000, 640_000_000)] == [
        "–", "850 ms", "12.3 s", "4.1 min", "2.1 h", "7.4 d"]
