"""Every page through Streamlit's AppTest on a small simulated lake, checked against its ground truth."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from apptest_pages import arn_of, charts, figure, frame_with, open_page
from dash_lakes import XSS_CAUSE, XSS_NAME, execution_arn

from dashboard import data
from dashboard.components.text import md_escape, percent
from dashboard.filters import Filters

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
PAGES = {
    "overview": "Overview",
    "sla": "SLA",
    "failures": "Failures",
    "flows": "Flows",
    "execution": "Execution",
    "audit": "Audit export",
    "health": "Collection health",
}
OUTAGE = "model-endpoint-outage"


def outage(truth: dict) -> dict:
    return next(i for i in truth["incidents"] if i["id"] == OUTAGE)


def domain_counts(truth: dict, domain: str) -> tuple[int, int]:
    """(finished executions, failed ones) of a domain over the whole simulated window."""
    finished = failed = 0
    for m in truth["machines"].values():
        if m["domain"] != domain:
            continue
        by = m["by_status"]
        finished += sum(v for k, v in by.items() if k not in ("RUNNING", "PENDING_REDRIVE"))
        failed += sum(v for k, v in by.items() if k in ("FAILED", "TIMED_OUT", "ABORTED"))
    return finished, failed


# -- every page ------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_with_demo_notice(on_demo: None, page: str) -> None:
    at = open_page(page, period="30d")
    assert [t.value for t in at.title] == [PAGES[page]]
    assert any("Simulated demo data" in i.value for i in at.info), "the demo notice is missing"


@pytest.mark.parametrize("page", list(PAGES))
def test_missing_lake_explains_how_to_get_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str
) -> None:
    monkeypatch.setenv("STEPSCOPE_LAKE", str(tmp_path / "nowhere"))
    at = open_page(page)
    assert any("No data to show" in w.value and "does not exist yet" in w.value for w in at.warning)
    assert any("stepscope collect" in c.value for c in at.code)
    assert any("make run" in m.value for m in at.markdown)


@pytest.mark.parametrize("page", ["overview", "sla"])
def test_an_unreachable_s3_lake_is_explained_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    from services import free_port, point_boto3_at

    monkeypatch.setenv("STEPSCOPE_LAKE", "s3://stepscope-lake/prod")
    point_boto3_at(f"http://127.0.0.1:{free_port()}", monkeypatch)  # nothing listens there
    at = open_page(page)
    assert any("Cannot read the lake at `s3://stepscope-lake/prod`" in e.value for e in at.error)
    assert any("Could not connect" in t.value or "NETWORK_CONNECTION" in t.value for t in at.text)
    assert not at.metric and not at.get("plotly_chart")


def test_invalid_sla_file_is_named_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, demo_lake: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "slas.yaml"
    bad.write_text("version: 1\ndefaults: {success_objective: 150%}\n")
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(bad))
    at = open_page("sla")
    assert any("SLA configuration is not valid" in e.value and str(bad) in e.value for e in at.error)


# -- overview --------------------------------------------------------------------------------------
def test_overview_scorecards_match_ground_truth(on_demo: None, truth: dict) -> None:
    at = open_page("overview", period="30d")
    cards = [s.value for s in at.subheader if s.value != "Worst offenders"]
    metrics = [m for m in at.metric]
    d = "the last 30 days"
    per_card = [f"Executions, {d}", f"Success, {d}", "Error budget left", f"p95, {d}", f"Failed, {d}"]
    assert [m.label for m in metrics] == per_card * len(cards)
    by_domain = {name: metrics[5 * i : 5 * i + 5] for i, name in enumerate(cards)}
    for domain in ("ai-inference", "supply-chain", "payments"):
        finished, failed = domain_counts(truth, domain)
        execs, success, _, _, failures = by_domain[md_escape(domain)]
        assert execs.value == f"{finished:,}"
        assert success.value == percent(1 - failed / finished)
        assert failures.value == f"{failed:,}"
    badges = [m.value for m in at.markdown if "badge[" in m.value]
    assert "BREACHED" in badges[cards.index(md_escape("ai-inference"))]
    assert "OK: inside the SLA" in badges[cards.index(md_escape("supply-chain"))]


def test_overview_verdicts_are_the_cli_verdicts(
    on_demo: None, slas_file: Path, demo_lake: Path, capsys
) -> None:
    """Whatever the period picked, each card's status is `stepscope sla`'s for the same lake and instant
    (each domain over its own objective's window), and the card says which window that is."""
    from dashboard.components import palette
    from stepscope import cli

    meta = json.loads((demo_lake / "_stepscope.json").read_text())
    assert (
        cli.main(
            [
                "sla",
                "--lake",
                str(demo_lake),
                "--config",
                str(slas_file),
                "--format",
                "json",
                "--at",
                meta["window_end"],
            ]
        )
        == 0
    )
    want = {r["key"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    for period in ("24h", "7d", "90d"):
        at = open_page("overview", period=period)
        cards = [s.value for s in at.subheader if s.value != "Worst offenders"]
        badges = [m.value for m in at.markdown if "badge[" in m.value]
        assert len(cards) == len(want) == len(badges)
        for name, badge in zip(cards, badges, strict=True):
            key = next(k for k in want if md_escape(k) == name)
            assert palette.status_words(want[key]) in badge, (period, key, badge)
        assert any("the 30-day window to" in c.value for c in at.caption)


def test_filters_come_from_the_url(on_demo: None) -> None:
    at = open_page("overview", domain="payments", period="7d")
    assert at.selectbox(key="domain").value == "payments"
    assert [s.value for s in at.subheader if s.value != "Worst offenders"] == ["payments"]
    assert at.segmented_control(key="period").value == "7d"


# -- SLA -------------------------------------------------------------------------------------------
def test_sla_page_shows_breach_and_burn_rates(on_demo: None, truth: dict) -> None:
    at = open_page("sla", domain="ai-inference", period="30d")
    report = frame_with(at, "success_objective")
    rag = report[report["state_machine_name"] == "ai-inference-rag-answer"].iloc[0]
    assert rag["status"] == "BREACHED"
    assert rag["success_objective"] == pytest.approx(0.999)
    m = next(v for v in truth["machines"].values() if v["name"] == "ai-inference-rag-answer")
    assert rag["failed"] == sum(
        v for k, v in m["by_status"].items() if k in ("FAILED", "TIMED_OUT", "ABORTED")
    )
    alerts = frame_with(at, "long_burn")
    assert set(alerts["severity"]) == {"page", "ticket"}
    burn = figure(at, "Error budget over the SLA window")
    assert [t["name"] for t in burn["data"]] == ["actual", "ideal"]


# -- failures --------------------------------------------------------------------------------------
def test_outage_shows_in_heatmaps_error_groups_and_triage(on_demo: None, truth: dict) -> None:
    inc = outage(truth)
    at = open_page("failures", period="7d")
    heat = figure(at, "Failures by state machine × hour of day (UTC)")["data"][0]
    for m in inc["machines"]:
        row = heat["z"][heat["y"].index(m["name"])]
        hours = range(pd.Timestamp(inc["start"]).hour, pd.Timestamp(inc["end"]).hour)  # 14:00-20:00 UTC
        in_window = sum(row[h] for h in hours)
        assert in_window >= m["executions_not_succeeded"]
        assert max(row) in [row[h] for h in hours], f"{m['name']}: the outage hours are not the hottest"
    assert at.segmented_control(key="heatmap").value == "hour"
    assert len(charts(at, "plotly_chart")) == 1, "only the chosen heatmap is drawn (and queried)"
    at.segmented_control(key="heatmap").set_value("state").run()
    assert not at.exception, [e.value for e in at.exception]
    by_state = figure(at, "Failures by root state × day")["data"][0]
    per_day = [sum(col) for col in zip(*by_state["z"], strict=True)]
    outage_day = by_state["x"].index("2026-11-16")
    assert per_day[outage_day] >= sum(m["executions_not_succeeded"] for m in inc["machines"])
    assert per_day[outage_day] == max(per_day)

    triage = frame_with(at, "failed_state")
    started = pd.to_datetime(triage["start_time"], utc=True)
    during = triage[(started >= pd.Timestamp(inc["start"])) & (started < pd.Timestamp(inc["end"]))]
    assert len(during) == sum(m["executions_not_succeeded"] for m in inc["machines"])
    assert set(during["state_machine_name"]) == {m["name"] for m in inc["machines"]}
    assert all(link.startswith("execution?execution=arn%3Aaws%3Astates") for link in triage["link"])

    groups = frame_with(at, "cause_pattern")
    g = groups[groups["error"] == inc["error"]].iloc[0]
    assert g["badge"] == "NEW"
    assert g["count"] == (triage["root_error"] == inc["error"]).sum() >= 1
    # the triage rows of a new group carry its NEW marker; rows of groups seen before the period do not
    outage_rows = triage[triage["root_error"] == inc["error"]]
    assert len(outage_rows) >= 1 and (outage_rows["new"] == "NEW").all()
    old_errors = set(groups.loc[groups["badge"] == "", "error"])
    assert old_errors and (triage.loc[triage["root_error"].isin(old_errors), "new"] == "").all()
    # what on-call reads first comes first: the root state, its error, a short cause, before the machine
    cols = list(triage.columns)
    assert cols[:7] == ["link", "start_time", "status", "new", "where", "root_error", "cause_short"]
    assert triage["cause_short"].str.len().max() <= 70


def test_triage_row_selection_opens_the_execution(on_demo: None) -> None:
    at = open_page("failures", period="7d")
    triage = frame_with(at, "failed_state")
    # what a click on the first row sends to the server
    at.session_state["triage"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Execution"]
    assert at.subheader[0].value == md_escape(triage["name"].iloc[0])
    assert arn_of(triage["link"].iloc[0]) == at.query_params["execution"]


# -- execution -------------------------------------------------------------------------------------
def test_execution_deep_link_from_the_root_url(on_demo: None) -> None:
    at = open_page("overview", execution=execution_arn())
    assert [t.value for t in at.title] == ["Execution"]
    assert [s.value for s in at.subheader][0] == md_escape(XSS_NAME)
    codes = [c.value for c in at.code]
    assert XSS_CAUSE in codes
    assert any(c.startswith("aws stepfunctions redrive-execution --execution-arn ") for c in codes)
    labels = {b.proto.label for b in at.get("link_button")}
    assert labels == {"Open in the AWS console", "CloudWatch Logs", "X-Ray trace", "Error group"}
    dot = charts(at, "graphviz_chart")[0].spec
    assert 'label="Do <u>it</u>\\nTask"' in dot and 'color="#d1242f", penwidth=3' in dot


def test_execution_of_the_outage_has_timeline_and_events(on_demo: None, truth: dict) -> None:
    inc = outage(truth)
    triage = frame_with(open_page("failures", period="7d"), "failed_state")
    arn = arn_of(triage[triage["root_error"] == inc["error"]]["link"].iloc[0])
    at = open_page("overview", execution=arn)
    assert [t.value for t in at.title] == ["Execution"]
    assert inc["error"] in [c.value for c in at.code]
    gantt = figure(at, "State runs (× = attempts with retries)")
    assert any(inc["state"] in y for t in gantt["data"] for y in t["y"])
    events = frame_with(at, "details_json")
    assert events["event_id"].is_monotonic_increasing and len(events) > 3


def test_unknown_execution_arn_is_a_clear_message(on_demo: None) -> None:
    at = open_page("overview", execution="arn:aws:states:us-east-1:123456789012:execution:nope:missing")
    assert any("Not permitted: no execution you may see has this ARN" in e.value for e in at.error)


# -- flows, audit, health --------------------------------------------------------------------------
def test_flows_graph_has_counts_for_the_chosen_machine(on_demo: None, truth: dict) -> None:
    inc = outage(truth)
    arn = inc["machines"][0]["state_machine_arn"]
    at = open_page("flows", machine=inc["machines"][0]["name"], domain="ai-inference", period="7d")
    assert at.selectbox(key="flow_machine").value == arn
    dot = charts(at, "graphviz_chart")[0].spec
    assert dot.startswith("digraph G {") and f"{inc['state']}\\nTask\\n" in dot
    assert "% failed" in dot and "style=dashed" in dot
    paths = frame_with(at, "path")
    assert paths["share"].sum() <= 1.0 + 1e-9 and paths["executions"].is_monotonic_decreasing


def test_audit_download_is_the_export_command_output(
    on_demo: None, demo_lake: Path, slas_file: Path, tmp_path: Path
) -> None:
    at = open_page("audit", domain="payments", period="7d")
    assert not at.dataframe, "nothing is read before the user asks"
    at.toggle(key="audit_go").set_value(True).run()
    assert not at.exception
    preview = frame_with(at, "execution_arn")
    assert {b.proto.label for b in at.get("download_button")} == {"Download CSV", "Download manifest"}
    # the bytes the page serves, from the same function, against the command's file
    start, end = datetime(2026, 11, 13, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    out = tmp_path / "cli"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "queries",
            "export-audit",
            "--lake",
            str(demo_lake),
            "--domain",
            "payments",
            "--from",
            start.isoformat(),
            "--to",
            end.isoformat(),
            "--out",
            str(out),
            "--config",
            str(slas_file),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    (cli_csv,) = (out / "payments").glob("*.csv")
    csv_path, manifest = data.audit_export("payments", start, end)
    csv = csv_path.read_bytes()
    assert (
        csv == cli_csv.read_bytes()
        and csv_path.name == cli_csv.name == "20261113T000000Z_20261120T000000Z.csv"
    )
    page_m, cli_m = (
        json.loads(manifest),
        json.loads(cli_csv.with_name(cli_csv.name + ".manifest.json").read_text()),
    )
    # the page's preview has the CSV's columns (its download names: test_browser.py)
    assert list(preview.columns) == csv.split(b"\n", 1)[0].decode().split(",")
    assert (
        preview["start"].str.endswith("Z").all()
        and preview["status"].isin(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "RUNNING"]).all()
    )
    assert page_m["sha256"] == cli_m["sha256"] and page_m["rows"] == cli_m["rows"] == csv.count(b"\n") - 1
    assert len(preview) == min(200, page_m["rows"])


def test_health_lists_every_collected_machine(on_demo: None, truth: dict) -> None:
    at = open_page("health")
    table = frame_with(at, "watermark")
    assert {m["name"] for m in truth["machines"].values()} <= set(table["name"])


# -- readability: units, words, targets ------------------------------------------------------------
LATENCY_SLAS = """\
version: 1
defaults:
  success_objective: 99%
  latency: {threshold_s: 60, objective: 95%}
  window: 30d
state_machines:
  ai-inference-rag-answer: {latency: {threshold_s: 20, objective: 95%, p95_max_s: 30}}
"""


def test_sla_latency_is_drawn_against_its_targets(
    monkeypatch: pytest.MonkeyPatch, demo_lake: Path, tmp_path: Path
) -> None:
    slas = tmp_path / "slas.yaml"
    slas.write_text(LATENCY_SLAS)
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas))
    at = open_page("sla", period="7d")
    p95 = figure(at, "p95 duration per day")
    unit = p95["layout"]["yaxis"]["title"]["text"]
    size = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}[unit]
    [line] = p95["layout"]["shapes"]
    assert line["line"]["dash"] == "dash" and line["y0"] == pytest.approx(60_000 / size)
    bars = figure(at, "Latency percentiles per state machine")
    target = next(t for t in bars["data"] if t["name"] == "latency target")
    bar_unit = bars["layout"]["xaxis"]["title"]["text"].split()[0]
    bar_size = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}[bar_unit]
    marks = dict(zip(target["y"], target["x"], strict=True))
    assert marks["ai-inference-rag-answer"] == pytest.approx(30_000 / bar_size)  # its own p95 ceiling
    others = [v * bar_size for k, v in marks.items() if k != "ai-inference-rag-answer"]
    assert others and others == pytest.approx([60_000] * len(others))
    table = frame_with(at, "success_objective")
    assert table["p95"].str.fullmatch(r"(\d+ ms|[\d.]+ (s|min|h|d)|–)").all()
    assert set(table["latency_target"]) >= {"20.0 s", "1.0 min"}


def test_sla_alerts_say_in_words_which_fire(on_demo: None) -> None:
    at = open_page("sla", domain="ai-inference", period="30d")
    alerts = frame_with(at, "long_burn")
    assert set(alerts["alert"]) <= {"FIRING: page now", "FIRING: open a ticket", "not firing"}
    firing = alerts["firing"].tolist()
    assert firing == sorted(firing, reverse=True), "firing rows come first"
    assert (alerts["alert"].str.startswith("FIRING") == alerts["firing"]).all()
    expected = alerts[alerts["firing"]]
    if len(expected):
        assert any(f"{len(expected)} burn-rate alert(s) firing" in e.value for e in at.error)
    else:
        assert any("No burn-rate alert is firing" in s.value for s in at.success)
    # the table's numbers against the query's own, row for row
    raw = data.burn_rate_alerts(data.period_window(Filters(period="30d"))[1], "ai-inference")
    assert int(raw["firing"].sum()) == len(expected)


def test_overview_tiles_fit_and_overspent_budget_is_in_words(on_demo: None) -> None:
    at = open_page("overview", period="30d")
    p95 = [m.value for m in at.metric if m.label.startswith("p95, ")]
    assert p95 and all(len(v) <= 6 for v in p95), p95
    budgets = [m for m in at.metric if m.label == "Error budget left"]
    cards = [s.value for s in at.subheader if s.value != "Worst offenders"]
    ai = budgets[cards.index(md_escape("ai-inference"))]
    assert ai.value == "Overspent" and "the budget used" in ai.proto.delta
    assert not any(b.value.startswith("-") for b in budgets)
    worst = frame_with(at, "budget_left")
    assert worst["budget_left"].str.fullmatch(r"\d+%|overspent \([\d.,]+× budget\)|–").all()


def test_flows_graph_counts_caught_errors(on_demo: None, demo_lake: Path) -> None:
    """The Task state with the most caught failures in the last 7 days shows that count on the graph."""
    import duckdb

    start, end = data.period_window(Filters(period="7d"))
    con = duckdb.connect()  # its own: fetchone leaves the rest of a result pending on the connection
    name, domain, state, caught = con.execute(
        """SELECT m.name, m.domain, r.state_name, count(*) AS n
           FROM read_parquet($runs, hive_partitioning = true) r
           JOIN read_parquet($machines) m USING (state_machine_arn)
           WHERE r.status = 'CAUGHT' AND r.state_type = 'Task' AND r.parent_state IS NULL
             AND r.entered_time >= $start AND r.entered_time < $end
           GROUP BY ALL ORDER BY n DESC, m.name LIMIT 1""",
        {
            "runs": f"{demo_lake}/state_runs/*/*/*.parquet",
            "machines": f"{demo_lake}/state_machines/part-0.parquet",
            "start": start,
            "end": end,
        },
    ).fetchone()
    at = open_page("flows", machine=name, domain=domain, period="7d")
    assert at.segmented_control(key="flow_metric").value == "problem_rate"
    dot = charts(at, "graphviz_chart")[0].spec
    pattern = rf"{re.escape(state)}\\nTask\\n[\d,]+ visits · [\d.]+% failed · {caught} caught"
    assert re.search(pattern, dot), dot[:3000]
