"""Dashboard building blocks without Streamlit: DOT rendering, chart builders, links, filters, text."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard import filters
from dashboard.components import charts, links
from dashboard.components.flow_overlay import execution_overlay, flow_overlay
from dashboard.components.graph import Overlay, escape, heat_colour, resolve_state_id, to_dot
from dashboard.components.sla_tables import alerts_view, report_view
from dashboard.components.text import budget_left, compact_duration, duration, md_escape, shorten
from dashboard.components.triage import triage_view
from dashboard.freshness import freshness
from lake.asl import parse_definition

NESTED = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Next": "Each",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}],
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
            ],
        },
        "Each": {
            "Type": "Map",
            "Next": "Done",
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": "x", "End": True}},
            },
        },
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
    g = parse_definition(
        {"StartAt": evil, "States": {evil: {"Type": "Pass", "Next": "n\\\n2"}, "n\\\n2": {"Type": "Succeed"}}}
    )
    dot = to_dot(g)
    # the whole name, quotes escaped, is one label: nothing leaks out as DOT syntax
    assert 'x\\"]; injected [shape=box label=\\"pwn\\nPass' in _labels(dot)
    assert not any(line.lstrip().startswith("injected") for line in dot.splitlines())
    assert "n\\\\\\n2" in dot  # backslash then newline, both escaped
    # every node id is synthetic
    ids = set(re.findall(r"^\s+(\S+) \[", dot, re.M)) - {"graph", "node", "edge"}
    assert ids and all(re.fullmatch(r"n[0-9a-f]{8}_\d", i) for i in ids), ids


def test_two_graphs_of_different_shapes_share_no_node_id_and_one_graph_keeps_its_ids() -> None:
    """The browser redraws a new graph over the old one, reusing the SVG of every node id it has drawn:
    a shared id whose shape changed (a box becoming the End circle) would be left undrawn."""
    a = parse_definition({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "r", "End": True}}})
    b = parse_definition(
        {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "D"}],
                    "Default": "D",
                },
                "D": {"Type": "Succeed"},
            },
        }
    )

    def node_ids(dot: str) -> set[str]:
        return set(re.findall(r"^\s+(n[0-9a-f]{8}_\d+) \[", dot, re.M))

    assert node_ids(to_dot(a)) and not node_ids(to_dot(a)) & node_ids(to_dot(b))
    assert to_dot(a) == to_dot(a) and node_ids(to_dot(a, Overlay(heat={"A": 1.0}))) == node_ids(to_dot(a))


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
    ov = Overlay(
        heat={work: 1.0},
        node_notes={work: "12 visits"},
        edge_counts={("Fan", "Each"): 7},
        path=["Fan", "Each"],
        failed=work,
    )
    dot = to_dot(g, ov)
    line = next(lbl for lbl in dot.splitlines() if "Work\\nTask" in lbl)
    assert "12 visits" in line and 'color="#d1242f"' in line and "penwidth=3" in line
    assert re.search(r'label="7"', dot)
    assert heat_colour(0) == "#e8f5e9" and heat_colour(1) == "#e53935" and heat_colour(7) == heat_colour(1)


def test_flow_overlay_maps_state_rows_and_transitions_to_graph_ids() -> None:
    g = parse_definition(NESTED)
    states = pd.DataFrame(
        {
            "state_name": ["Fan", "Work"],
            "parent_state": [None, "Each"],
            "visits": [10, 40],
            "failures": [1, 0],
            "p95_ms": [100.0, 400.0],
        }
    )
    edges = pd.DataFrame(
        {
            "parent_state": [None, None, "Each"],
            "from_state": ["Fan", "Fan", "Work"],
            "to_state": ["Each", "Oops", None],
            "count": [9, 1, 40],
        }
    )
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
    burn = charts.burndown(
        pd.DataFrame({"ts": ts, "a": [1.0, 0.5, -0.1], "i": [1.0, 0.5, 0.0]}), "ts", "a", "i", "b"
    )
    assert [t.name for t in burn.data] == ["actual", "ideal"] and list(burn.data[0].y) == [100.0, 50.0, -10.0]
    att = charts.attainment(pd.DataFrame({"ts": ts, "r": [0.99, 0.98, 1.0]}), "ts", "r", 0.995, "a")
    assert att.layout.shapes[0].y0 == pytest.approx(99.5)


def test_timeline_bars_run_from_entry_to_exit() -> None:
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    runs = pd.DataFrame(
        {
            "s": [t0, t0 + pd.Timedelta(seconds=2)],
            "e": [t0 + pd.Timedelta(seconds=2), None],
            "label": ["A", "B"],
            "status": ["SUCCEEDED", "FAILED"],
        }
    )
    fig = charts.timeline(runs, "s", "e", "label", "status", "t")
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["SUCCEEDED"].x) == [2000.0]
    assert list(by_name["FAILED"].customdata) == [0.0] and 0 < by_name["FAILED"].x[0] < 20  # a visible sliver


def test_links_to_console_logs_trace_and_redrive() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:flow:run 1"
    assert links.region_of(arn) == "eu-west-1"
    assert links.execution_console_url(arn).startswith(
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:"
    )
    assert "run%201" in links.execution_console_url(arn)
    assert links.xray_trace_url("Root=1-abc-def;Parent=1", "eu-west-1").endswith("#xray:traces/1-abc-def")
    logs = links.log_group_url("arn:aws:logs:eu-west-1:1:log-group:/aws/vendedlogs/states/x:*", "eu-west-1")
    assert logs.endswith("#logsV2:log-groups/log-group/$252Faws$252Fvendedlogs$252Fstates$252Fx")
    assert links.log_group_url(None, "eu-west-1") is None
    assert links.redrive_command(arn) == (
        "aws stepfunctions redrive-execution --execution-arn "
        "'arn:aws:states:eu-west-1:123456789012:execution:flow:run 1' --region eu-west-1"
    )
    assert links.can_redrive("FAILED", "REDRIVABLE") and not links.can_redrive("FAILED", "NOT_REDRIVABLE")
    assert not links.can_redrive("SUCCEEDED", None)


def test_filters_from_and_to_url_params() -> None:
    f = filters.from_params({"domain": "pay", "period": "bogus", "machine": ""})
    assert f == filters.Filters("pay", None, "bogus")  # kept as given: the page says what is wrong
    assert filters.to_params(f) == {"domain": "pay", "period": "bogus"}
    start, end = filters.window("24h", datetime(2026, 1, 2, 10, 15, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 1, 1, 11, tzinfo=UTC), datetime(2026, 1, 2, 11, tzinfo=UTC))
    assert filters.window("7d", datetime(2026, 1, 2, tzinfo=UTC))[1] == datetime(2026, 1, 2, tzinfo=UTC)
    assert filters.previous_window(start, end) == (datetime(2025, 12, 31, 11, tzinfo=UTC), start)
    # under a day, the window ends at the next whole minute, not hour: the last 15 minutes are the last 15
    at = datetime(2026, 1, 2, 10, 15, 20, tzinfo=UTC)
    assert filters.window("15m", at) == (
        datetime(2026, 1, 2, 10, 1, tzinfo=UTC),
        datetime(2026, 1, 2, 10, 16, tzinfo=UTC),
    )
    assert filters.window("1h", datetime(2026, 1, 2, 10, 15, tzinfo=UTC))[0] == datetime(
        2026, 1, 2, 9, 15, tzinfo=UTC
    )
    # a custom range (naive times are UTC) round-trips through the URL parameters
    c = filters.from_params({"period": "custom", "from": "2026-11-19T14:00", "to": "2026-11-19T16:30Z"})
    assert c.custom == (datetime(2026, 11, 19, 14, tzinfo=UTC), datetime(2026, 11, 19, 16, 30, tzinfo=UTC))
    assert filters.window("custom", None, c.custom) == c.custom
    assert filters.from_params(filters.to_params(c)) == c
    assert filters.from_params({"period": "custom", "from": "yesterday"}).custom is None
    assert [filters.period_phrase(p, *c.custom) for p in ("1h", "7d", "custom")] == [
        "the last hour",
        "the last 7 days",
        "19 Nov 14:00 → 19 Nov 16:30 UTC",
    ]


def test_filters_that_name_nothing_are_reported_in_words() -> None:
    machines = {"arn:a": "pay-a", "arn:c": "care-a"}
    where = {"arn:a": "pay", "arn:c": "care"}

    def check(**kw: object) -> list[tuple[str, str]]:
        return filters.problems(filters.Filters(**kw), {"pay", "care"}, machines, where)

    assert check(domain="pay", machine="arn:a", period="1h") == []
    assert check(domain="bogus") == [
        ("domain", 'No domain called "bogus" in this lake (its domains: care, pay).')
    ]
    assert check(machine="ghost") == [("machine", 'No state machine called "ghost" in this lake.')]
    scoped = filters.problems(filters.Filters(domain="bogus"), {"pay"}, machines, where, scoped=True)
    assert scoped == [("domain", 'No domain called "bogus" among the domains you may see (yours: pay).')]
    assert check(domain="pay", machine="care-a") == [
        ("machine", 'State machine "care-a" is not in domain "pay" (its domain: care).')
    ]
    assert [k for k, _ in check(period="2h")] == ["period"] and "15m, 1h, 6h" in check(period="2h")[0][1]
    assert check(period="custom") == [
        ("period", "The custom range needs a start and an end (UTC): pick both in the sidebar.")
    ]
    t0 = datetime(2026, 1, 2, 10, tzinfo=UTC)
    assert (
        "ends (2026-01-02 09:00 UTC) before it starts"
        in check(period="custom", since=t0, until=t0 - timedelta(hours=1))[0][1]
    )


def test_short_periods_run_in_time_order_in_buckets_duckdb_also_uses() -> None:
    t0 = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)
    sizes = [
        filters.time_bucket_s(t0 - d, t0)
        for d in (
            timedelta(minutes=15),
            timedelta(hours=1),
            timedelta(hours=6),
            timedelta(hours=24),
            timedelta(hours=48),
            timedelta(hours=49),
        )
    ]
    assert sizes == [60, 300, 900, 3600, 3600, None]
    starts = filters.bucket_starts(datetime(2026, 11, 19, 22, 7, tzinfo=UTC), t0, 900)
    assert starts[0] == datetime(2026, 11, 19, 22, 0, tzinfo=UTC) and starts[-1] == datetime(
        2026, 11, 19, 22, 45, tzinfo=UTC
    )
    assert len(starts) == 4


def test_markdown_escape_and_durations() -> None:
    assert md_escape("<b>*x*</b> :red[y]\n# z") == "\\<b\\>\\*x\\*\\<\\/b\\> \\:red\\[y\\] \\# z"
    assert md_escape(None) == ""
    assert [duration(v) for v in (None, 850, 12_300, 246_000, 7_560_000, 640_000_000)] == [
        "–",
        "850 ms",
        "12.3 s",
        "4.1 min",
        "2.1 h",
        "7.4 d",
    ]


def test_compact_durations_budgets_and_short_text() -> None:
    assert [
        compact_duration(v) for v in (None, 850, 3_000, 2_220_000, 6_480_000, 38_880_000, 200_000_000)
    ] == ["–", "850 ms", "3.0 s", "37 min", "1.8 h", "11 h", "2.3 d"]
    assert all(len(compact_duration(v)) <= 6 for v in (9_999, 59_999, 3_599_999, 86_399_999))
    assert budget_left(0.47) == "47%" and budget_left(None) == "–"
    assert budget_left(-16.01) == "overspent (17× budget)"
    assert budget_left(-0.0989) == "overspent (1.1× budget)"
    assert (
        shorten("a\n b  c", 80) == "a b c" and shorten("x" * 100, 10) == "x" * 9 + "…" and shorten(None) == ""
    )


def test_triage_view_marks_rows_of_new_groups_and_puts_what_matters_first() -> None:
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    cause_new = "Request 8f1c2 failed after 3 tries " + "x" * 100
    triage = pd.DataFrame(
        {
            "execution_arn": ["arn:aws:states:r:1:execution:m:a", "arn:aws:states:r:1:execution:m:b"],
            "name": ["a", "b"],
            "state_machine_name": ["m", "m"],
            "domain": ["d", "d"],
            "status": ["FAILED", "TIMED_OUT"],
            "start_time": [t0, t0],
            "duration_ms": [2_300.0, None],
            "root_state": ["Call", "Wait"],
            "root_path": ["Fan[3]", None],
            "root_error": ["Boom", None],
            "root_cause": [cause_new, None],
            "failed_state": ["CallFailed", "Wait"],
            "error": ["CallFailed", None],
            "cause": ["gave up", None],
            "signature": ["aaa", "bbb"],
            "redrive_status": ["REDRIVABLE", None],
        }
    )
    groups = pd.DataFrame({"signature": ["aaa", "bbb"], "is_new": [True, False]})
    view = triage_view(triage, groups)
    assert list(view.columns[:7]) == [
        "link",
        "start_time",
        "status",
        "new",
        "where",
        "root_error",
        "cause_short",
    ]
    assert list(view["where"]) == ["Fan[3]/Call", "Wait"]
    assert list(view["failed_state"]) == ["CallFailed", "Wait"]  # the terminal state, beside the root
    assert list(view["new"]) == ["NEW", ""]
    assert view["cause_short"].iloc[0].endswith("…") and len(view["cause_short"].iloc[0]) == 70
    assert list(view["duration"]) == ["2.3 s", "–"]
    assert view["link"].iloc[0] == "execution?execution=arn%3Aaws%3Astates%3Ar%3A1%3Aexecution%3Am%3Aa"
    assert list(triage_view(triage, groups.iloc[0:0])["new"]) == ["", ""]


def test_flow_overlay_counts_caught_errors_and_can_colour_by_them() -> None:
    g = parse_definition(NESTED)
    states = pd.DataFrame(
        {
            "state_name": ["Fan"],
            "parent_state": [None],
            "visits": [113],
            "failures": [0],
            "caught": [7],
            "p95_ms": [100.0],
        }
    )
    edges = pd.DataFrame({"parent_state": [None], "from_state": ["Fan"], "to_state": ["Oops"], "count": [7]})
    assert (
        flow_overlay(g, states, edges, "failure_rate").node_notes["Fan"]
        == "113 visits · 0.0% failed · 7 caught"
    )
    assert flow_overlay(g, states, edges, "failure_rate").heat["Fan"] == 0.0
    assert flow_overlay(g, states, edges, "problem_rate").heat["Fan"] == pytest.approx(7 / 113 * 5)
    assert "7 caught" in flow_overlay(g, states, edges, "p95_ms").node_notes["Fan"]


def test_long_catch_labels_are_shortened_but_keep_their_count() -> None:
    errors = ["States.Timeout", "States.TaskFailed", "Lambda.ServiceException"]
    g = parse_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "x",
                    "End": True,
                    "Catch": [{"ErrorEquals": errors, "Next": "F"}],
                },
                "F": {"Type": "Fail"},
            },
        }
    )
    dot = to_dot(g, Overlay(edge_counts={("T", "F"): 1234}))
    catch = next(lbl for lbl in _labels(dot) if lbl.startswith("States.Timeout"))
    assert catch.endswith("… (1,234)")


def test_latency_charts_use_readable_units_and_draw_targets() -> None:
    assert charts.time_unit([50_065_795]) == ("h", 3_600_000.0)
    assert charts.time_unit([2_300, None]) == ("s", 1000.0) and charts.time_unit([]) == ("ms", 1.0)
    ts = pd.date_range("2026-01-01", periods=3, freq="D", tz="UTC")
    fig = charts.latency(
        pd.DataFrame({"b": ts, "p95_ms": [600_000.0, 900_000.0, 1_200_000.0]}),
        "b",
        ["p95_ms"],
        300_000.0,
        "p95",
    )
    assert fig.layout.yaxis.title.text == "min" and list(fig.data[0].y) == [10.0, 15.0, 20.0]
    assert fig.layout.shapes[0].y0 == 5.0 and fig.layout.shapes[0].line.dash == "dash"
    per = pd.DataFrame(
        {
            "m": ["<b>a</b>", "b"],
            "p50_ms": [1_000.0, 2_000.0],
            "p95_ms": [3_000.0, 9_000.0],
            "t": [5_000.0, None],
        }
    )
    bars = charts.duration_percentiles(per, "m", ["p50_ms", "p95_ms"], "x", threshold="t")
    target = next(t for t in bars.data if t.name == "latency target")
    assert list(target.y) == ["&lt;b&gt;a&lt;/b&gt;"] and list(target.x) == [5.0]
    assert [t.name for t in bars.data[:2]] == ["p50", "p95"]


def test_sla_tables_show_human_durations_and_alerts_in_words() -> None:
    report = pd.DataFrame(
        {
            "state_machine_name": ["m"],
            "domain": ["d"],
            "status": ["BREACHED"],
            "window": ["30d"],
            "executions": [10],
            "failed": [3],
            "attainment": [0.7],
            "success_objective": [0.99],
            "budget_remaining": [-29.0],
            "p50_ms": [2_300.0],
            "p95_ms": [840_000.0],
            "p99_ms": [50_065_795.0],
            "latency_threshold_ms": [None],
            "within_threshold_share": [None],
            "owner": ["team"],
        }
    )
    row = report_view(report).iloc[0]
    assert (row["p50"], row["p95"], row["p99"], row["latency_target"]) == ("2.3 s", "14.0 min", "13.9 h", "–")
    assert row["budget_left"] == "overspent (30× budget)"
    alerts = pd.DataFrame(
        {
            "domain": ["d"] * 3,
            "state_machine_name": [None, "m", "m"],
            "severity": ["ticket", "ticket", "page"],
            "long_window": ["3d", "3d", "1h"],
            "short_window": ["6h", "6h", "5m"],
            "threshold": [1.0, 1.0, 14.4],
            "long_executions": [100, 100, 10],
            "long_failed": [0, 5, 3],
            "long_burn": [0.0, 5.0, 30.0],
            "short_burn": [0.0, 6.0, 31.0],
            "firing": [False, True, True],
        }
    )
    view = alerts_view(alerts)
    assert list(view["alert"]) == ["FIRING: page now", "FIRING: open a ticket", "not firing"]
    assert list(view["scope"]) == ["m", "m", "(whole domain)"]
    assert view["windows"].iloc[0] == "1h + 5m" and view["burn"].iloc[0] == "30.0× / 31.0×"
    assert view["failures"].iloc[0] == "3 of 10" and view["threshold_x"].iloc[0] == "14.4×"


def test_freshness_from_the_run_ledger() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    minutes = [timedelta(minutes=m) for m in range(200)]

    def runs(*rows: tuple[datetime, datetime, int]) -> pd.DataFrame:
        return pd.DataFrame(list(rows), columns=["started_at", "finished_at", "errors"])

    # every 5 minutes, each run taking 1 minute, the last one finished 5 minutes ago; one gap of 20 min
    starts = [now - minutes[6], now - minutes[11], now - minutes[16], now - minutes[36], now - minutes[41]]
    ledger = runs(*[(s, s + minutes[1], 0) for s in starts])
    fr = freshness(ledger, now)
    assert (fr.as_of, fr.usual, fr.age, fr.failed_since) == (now - minutes[5], minutes[5], minutes[5], 0)
    assert not fr.late  # the 20-minute gap does not move the usual interval (a median)
    assert not freshness(ledger, now + minutes[5]).late  # 10 min old: exactly twice the usual interval
    assert freshness(ledger, now + minutes[6]).late  # 11 min old
    # a later run that recorded errors: the data is still as of the last successful run
    fr = freshness(runs((now - minutes[1], now, 2), *ledger.itertuples(index=False)), now)
    assert fr.as_of == now - minutes[5] and fr.failed_since == 1 and fr.runs == 6
    # no ledger: freshness unknown, not late; a ledger of failed runs only: late
    assert freshness(runs(), now).as_of is None and not freshness(runs(), now).late
    assert freshness(runs((now - minutes[2], now - minutes[1], 3)), now).late
    # one successful run: no usual interval yet, so never called late
    one = freshness(runs((now - minutes[100], now - minutes[99], 0)), now)
    assert one.usual is None and not one.late


def test_the_refresh_interval_comes_from_the_environment_and_a_bad_one_is_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dashboard import live

    monkeypatch.delenv("STEPSCOPE_REFRESH_S", raising=False)
    assert live.refresh_seconds() == (30, None)
    monkeypatch.setenv("STEPSCOPE_REFRESH_S", "12")
    assert live.refresh_seconds() == (12, None)
    for bad in ("1", "ten", "-5", "2.5"):
        monkeypatch.setenv("STEPSCOPE_REFRESH_S", bad)
        every, problem = live.refresh_seconds()
        assert every == 30 and problem is not None and repr(bad) in problem
