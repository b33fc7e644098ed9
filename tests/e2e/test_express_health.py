"""Health says which machines read from CloudWatch Logs can be judged for an SLA, and why not; the
Express machines are collected like the others (their logs cursor in the freshness table)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apptest_pages import open_page

from lake.store import Lake

EXPRESS = {"payments-card-authorisation", "ai-inference-guardrail-check"}


def _section(at):
    return next(d.value for d in at.dataframe if "why" in d.value.columns)


def test_the_demo_express_machines_log_all_and_are_judged(
    monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path
):
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    at = open_page("health")
    table = _section(at)
    assert set(table["name"]) == EXPRESS and set(table["sla"]) == {"judged"}
    why = dict(zip(table["name"], table["why"], strict=True))
    assert "no hash" in why["payments-card-authorisation"]  # it logs without execution data
    assert any("logs ALL" in s.value for s in at.success)
    fresh = next(d.value for d in at.dataframe if "open_executions" in d.value.columns)
    assert EXPRESS <= set(fresh["name"])


def test_a_machine_logging_errors_only_cannot_be_judged(
    monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path, tmp_path: Path
):
    lake = tmp_path / "lake"
    shutil.copytree(demo_lake, lake)
    sms = Lake(str(lake)).read("state_machines").to_pylist()
    for m in sms:
        if m["name"] == "ai-inference-guardrail-check":
            m["logging_level"] = "ERROR"
    Lake(str(lake)).write("state_machines", sms)
    monkeypatch.setenv("STEPSCOPE_LAKE", str(lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    at = open_page("health")
    table = _section(at).set_index("name")
    assert table.loc["ai-inference-guardrail-check", "sla"] == "cannot be judged"
    assert "only failures are recorded" in table.loc["ai-inference-guardrail-check", "why"]
    assert table.loc["payments-card-authorisation", "sla"] == "judged"
    assert any(w.value.startswith("1 machine(s) cannot be judged") for w in at.warning)
