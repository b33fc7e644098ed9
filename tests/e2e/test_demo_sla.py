"""The default demo shows a believable enterprise: the SLA verdicts it is built to show (its ground truth,
`expected_sla`) are exactly what `stepscope sla` prints and what the Overview's cards say."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from apptest_pages import open_page

from collectors.simulate import GROUND_TRUTH_FILE, build_demo
from dashboard.components import palette
from dashboard.components.text import md_escape
from stepscope import cli

ROOT = Path(__file__).resolve().parents[2]
SLAS = ROOT / "slas.yaml"
END = "2026-11-27T15:00:00Z"


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The demo at its default size (90 days, about 100,000 executions), seed 7, a fixed end."""
    lake = tmp_path_factory.mktemp("default-demo") / "lake"
    build_demo(str(lake), seed=7, end=END)
    return lake, json.loads((lake / GROUND_TRUTH_FILE).read_text())


def test_the_demo_is_built_to_look_like_an_enterprise(default_demo):
    _, truth = default_demo
    expected = {d: e["status"] for d, e in truth["expected_sla"]["domains"].items()}
    counts = Counter(expected.values())
    assert counts["OK"] >= 2 and counts["WARNING"] >= 1
    incident_domains = {i["domain"] for i in truth["incidents"] if i["kind"] in ("outage", "degradation")}
    assert incident_domains == {d for d, s in expected.items() if s == "BREACHED"}
    assert all(e["reason"] for e in truth["expected_sla"]["domains"].values())


def test_the_cli_prints_the_expected_verdicts(default_demo, capsys):
    lake, truth = default_demo
    assert (
        cli.main(
            ["sla", "--lake", str(lake), "--config", str(SLAS), "--at", END, "--format", "json", "--strict"]
        )
        == 0
    )
    got = {r["key"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    assert got == {d: e["status"] for d, e in truth["expected_sla"]["domains"].items()}


def test_the_overview_shows_the_expected_verdicts(default_demo, monkeypatch: pytest.MonkeyPatch):
    lake, truth = default_demo
    monkeypatch.setenv("STEPSCOPE_LAKE", str(lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(SLAS))
    at = open_page("overview", period="7d")
    cards = [s.value for s in at.subheader if s.value != "Worst offenders"]
    badges = [m.value for m in at.markdown if "badge[" in m.value]
    expected = truth["expected_sla"]["domains"]
    assert sorted(cards) == sorted(md_escape(d) for d in expected)
    for name, badge in zip(cards, badges, strict=True):
        domain = next(d for d in expected if md_escape(d) == name)
        assert palette.status_words(expected[domain]["status"]) in badge, (domain, badge)
