"""The latency regression of a new version, on the SLA and Flows pages of the small simulated lake, against
its ground truth (incident `triage-v2-latency-regression`)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from apptest_pages import open_page
from streamlit.testing.v1 import AppTest

from dashboard.components.versions import version_label

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
REGRESSION = "triage-v2-latency-regression"
UNITS_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


@pytest.fixture
def regression(truth: dict) -> dict:
    return next(i for i in truth["incidents"] if i["id"] == REGRESSION)


def version_table(at: AppTest) -> pd.DataFrame:
    for df in at.dataframe:
        if "version_arn" in df.value.columns:
            return df.value
    raise AssertionError("no table with a version_arn column")


def figure(at: AppTest, title: str) -> dict:
    for e in at.get("plotly_chart"):
        spec = json.loads(e.proto.spec)
        if spec["layout"].get("title", {}).get("text") == title:
            return spec
    raise AssertionError(f"no chart titled {title!r}")


def ms(text: str) -> float:
    """A duration as the table shows it ('850 ms', '12.3 s', '4.1 min') back in milliseconds."""
    value, unit = text.split()
    return float(value) * UNITS_MS[unit]


def test_sla_page_shows_the_new_version_slower(on_demo: None, regression: dict) -> None:
    at = open_page("sla", domain=regression["domain"], machine=regression["name"], period="30d")
    assert "By version" in [s.value for s in at.subheader]
    table = version_table(at).set_index("version_arn")
    old, new = regression["old_version_arn"], regression["new_version_arn"]
    assert {old, new} <= set(table.index)
    assert ms(table.loc[new, "p95"]) > ms(table.loc[old, "p95"])
    assert table.loc[new, "version"] == version_label(new) and table.loc[new, "alias"] == "prod"
    # the new version took traffic when it was deployed, and not before
    deployed = pd.Timestamp(regression["start"])
    first_new = pd.Timestamp(table.loc[new, "first_seen"])
    first_new = first_new.tz_localize("UTC") if first_new.tz is None else first_new
    assert deployed <= first_new < deployed + pd.Timedelta(hours=6)

    chart = figure(at, f"p95 per day by version: {regression['name']}")
    assert {t["name"] for t in chart["data"]} == {version_label(old), version_label(new)}
    [note] = chart["layout"]["annotations"]
    assert note["text"] == f"{version_label(new)} takes traffic"
    [line] = chart["layout"]["shapes"]
    assert line["line"]["dash"] == "dash"
    assert pd.Timestamp(line["x0"]).tz_convert("UTC").floor("min") == first_new.floor("min")
    # and on the machine's own p95 chart, beside its latency target (if any)
    p95 = figure(at, "p95 duration per day")
    assert any(a.get("text") == note["text"] for a in p95["layout"]["annotations"])


def test_flows_page_lists_the_versions_of_the_machine_shown(on_demo: None, regression: dict) -> None:
    at = open_page("flows", domain=regression["domain"], machine=regression["name"], period="30d")
    assert at.selectbox(key="flow_machine").value == regression["state_machine_arn"]
    table = version_table(at).set_index("version_arn")
    old, new = regression["old_version_arn"], regression["new_version_arn"]
    assert {old, new} <= set(table.index)
    assert ms(table.loc[new, "p95"]) > ms(table.loc[old, "p95"])


def test_sla_page_without_a_machine_shows_the_domain_machines_with_several_versions(
    on_demo: None, regression: dict
) -> None:
    at = open_page("sla", domain=regression["domain"], period="30d")
    table = version_table(at)
    assert set(table["state_machine_name"]) == {regression["name"]}  # the other machines ran one version
    assert figure(at, f"p95 per day by version: {regression['name']}")["data"]


def test_no_version_section_for_a_domain_without_versions(on_demo: None) -> None:
    at = open_page("sla", domain="supply-chain", period="30d")
    assert "By version" not in [s.value for s in at.subheader]
