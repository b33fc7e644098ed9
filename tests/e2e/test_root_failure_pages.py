"""On-call sees the root failure first: the state whose failure ended the execution, not the Fail state a
Catch routed to; error groups by it, new ones first; an execution links to its group, its owner and runbook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from apptest_pages import open_page

from dashboard.components.text import md_escape
from lake.store import Lake

pytestmark = pytest.mark.e2e


def _table(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _failures(demo_lake: Path) -> pd.DataFrame:
    return Lake(str(demo_lake)).read("failures").to_pandas()


def test_scoring_incident_shows_the_timed_out_task_not_the_fail_state(on_demo, demo_lake):
    at = open_page("failures", period="30d", domain="risk-compliance")
    triage = _table(at, "where")
    scoring = triage[triage["state_machine_name"] == "risk-compliance-transaction-monitoring"]
    caught = scoring[scoring["failed_state"] == "ScoringFailed"]
    assert len(caught) > 0
    assert set(caught["where"]) == {"ScoreTransaction"}
    assert "States.Timeout" in set(caught["root_error"]) and "ScoringFailed" not in set(caught["root_error"])
    groups = _table(at, "root_state")
    assert "ScoringFailed" not in set(groups["root_state"])
    assert list(groups["badge"]) == sorted(groups["badge"], key=lambda b: b != "NEW")  # NEW first


def test_model_outage_shows_the_bedrock_error_at_the_model_state(on_demo, demo_lake):
    at = open_page("failures", period="30d", domain="ai-inference")
    triage = _table(at, "where")
    bedrock = triage[triage["root_error"] == "Bedrock.ServiceUnavailableException"]
    want = _failures(demo_lake)
    want = want[want["root_error"] == "Bedrock.ServiceUnavailableException"]
    assert len(bedrock) == len(want) > 0  # all of them are in the 30 days of a 14-day lake
    assert {w.rsplit("/", 1)[-1] for w in bedrock["where"]} == {"InvokeModel"}
    assert (bedrock.loc[bedrock["where"] != "InvokeModel", "where"].str.match(r"ExtractPages\[\d+\]/")).all()
    assert "DocumentExtractionFailed" not in set(_table(at, "root_state")["error"])


def test_execution_page_names_root_and_end_links_group_runbook_and_similar(
    monkeypatch, on_demo, demo_lake, tmp_path
):
    """The biggest error group whose root differs from where its executions ended (a Catch → Fail)."""
    f = _failures(demo_lake)
    f = f[f["root_state"].notna() & (f["root_state"] != f["failed_state"])]
    key = ["state_machine_name", "root_state", "root_error", "failed_state"]
    biggest = f.groupby(key).size().sort_values(ascending=False).index[0]
    mine = f[(f[key] == pd.Series(biggest, index=key)).all(axis=1)].sort_values("start_time")
    assert len(mine) > 1
    machine, root_state, root_error, ended = biggest
    machines = Lake(str(demo_lake)).read("state_machines").to_pandas().set_index("name")
    domain = machines.loc[machine, "domain"]
    slas = tmp_path / "slas.yaml"
    slas.write_text(
        f"domains:\n  {domain}:\n    owner: the-owners\n    runbook_url: https://runbooks.example.com/x\n"
    )
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas))
    arn = mine["execution_arn"].iloc[-1]
    at = open_page("execution", execution=arn)
    md = " ".join(m.value for m in at.markdown)
    assert "Root failure" in md and md_escape(root_state) in md and "the\\-owners" in md
    assert any(f"ended in state {md_escape(ended)}" in c.value for c in at.caption)
    assert root_error in [c.value for c in at.code]
    buttons = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert buttons["Runbook"] == "https://runbooks.example.com/x"
    assert buttons["Error group"].startswith("failures?signature=")
    similar = _table(at, "link")
    assert arn not in " ".join(similar["link"]) and len(similar) == min(5, len(mine) - 1)

    sig = buttons["Error group"].split("signature=")[1].split("&")[0]
    at = open_page("failures", period="30d", signature=sig)
    triage = _table(at, "where")
    assert set(triage["where"].str.rsplit("/", n=1).str[-1]) == {root_state} and len(triage) == len(mine)
