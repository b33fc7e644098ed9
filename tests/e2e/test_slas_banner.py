"""The SLA file's banner through Streamlit's AppTest: keys that match nothing in the lake are named on
every page, and a broken file stops only the pages that show SLA figures."""

from __future__ import annotations

from pathlib import Path

import apptest_pages
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components.text import md_escape

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
INVALID = "The SLA configuration is not valid"
NO_EFFECT = "have no effect on this lake"

MISSPELT = """\
version: 1
defaults: {success_objective: 99%}
domains:
  paymnets: {success_objective: 99.9%}
  supply-chain: {success_objective: 50%}
"""
# line 4 holds a second ':' (column 14): a YAML syntax error, not a validation one
BROKEN = """\
version: 1
defaults:
  success_objective: 99%
  window: 30d: oops
"""
WHERE = "line 4, column 14: mapping values are not allowed here"


def _with_slas(monkeypatch: pytest.MonkeyPatch, lake: Path, folder: Path, text: str) -> Path:
    path = folder / "slas.yaml"
    path.write_text(text)
    monkeypatch.setenv("STEPSCOPE_LAKE", str(lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(path))
    return path


@pytest.fixture
def misspelt(monkeypatch: pytest.MonkeyPatch, demo_lake: Path, tmp_path: Path) -> Path:
    return _with_slas(monkeypatch, demo_lake, tmp_path, MISSPELT)


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch, demo_lake: Path, tmp_path: Path) -> Path:
    return _with_slas(monkeypatch, demo_lake, tmp_path, BROKEN)


def open_page(page: str) -> AppTest:
    return apptest_pages.open_page(page, period="7d")


def texts(at: AppTest) -> str:
    return "\n".join(t.value for t in at.text)


def subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


# -- keys that match nothing in the lake -----------------------------------------------------------
@pytest.mark.parametrize("page", ["failures", "overview"])
def test_misspelt_domain_is_named_in_a_warning(misspelt: Path, page: str) -> None:
    at = open_page(page)
    [banner] = [w.value for w in at.warning if NO_EFFECT in w.value]
    assert str(misspelt) in banner
    body = texts(at)
    assert "domains.paymnets: no domain called 'paymnets' in the lake (domains: " in body
    assert "did you mean 'payments'?" in body
    assert "supply-chain" not in body.split("(domains:")[0], "a known key is not reported"
    assert not at.error, "a misspelt key is a warning, not an error"


def test_misspelt_domain_does_not_stop_the_page(misspelt: Path) -> None:
    at = open_page("overview")
    assert md_escape("supply-chain") in subheaders(at) and "Worst offenders" in subheaders(at)
    assert at.metric


def test_no_warning_when_every_key_is_in_the_lake(
    monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path
) -> None:
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    at = open_page("failures")
    assert not [w.value for w in at.warning if NO_EFFECT in w.value]
    assert "no domain called" not in texts(at)


# -- a broken file ---------------------------------------------------------------------------------
def _shows_the_syntax_error(at: AppTest, path: Path) -> None:
    assert any(INVALID in e.value and str(path) in e.value for e in at.error)
    body = texts(at)
    assert f"{path}: not valid YAML: {WHERE}" in body
    # shown as text: its line breaks (the offending line, the caret) survive
    [problem] = [t.value for t in at.text if WHERE in t.value]
    assert "\n" in problem and "window: 30d: oops" in problem.splitlines()[1]


def test_broken_file_failures_page_goes_on(broken: Path) -> None:
    at = open_page("failures")
    _shows_the_syntax_error(at, broken)
    assert any("The rest of this page" in e.value for e in at.error)
    assert {"Triage: most recent failures", "Error groups", "Where and when"} <= set(subheaders(at))
    assert at.get("plotly_chart"), "the heatmap is drawn"
    assert at.dataframe, "the triage list is shown"


def test_broken_file_flows_page_goes_on(broken: Path) -> None:
    at = open_page("flows")
    _shows_the_syntax_error(at, broken)
    assert at.get("graphviz_chart"), "the flow graph is drawn"
    assert {"Most common paths", "Time spent per state"} <= set(subheaders(at))


def test_broken_file_health_page_goes_on(broken: Path) -> None:
    at = open_page("health")
    _shows_the_syntax_error(at, broken)
    assert [m.label for m in at.metric] == ["Executions in the lake", "State machines", "Newest day of data"]


@pytest.mark.parametrize("page", ["sla", "overview"])
def test_broken_file_stops_the_sla_pages(broken: Path, page: str) -> None:
    at = open_page(page)
    _shows_the_syntax_error(at, broken)
    assert not any("The rest of this page" in e.value for e in at.error)
    assert not at.dataframe and not at.get("plotly_chart") and not at.metric, "no report without the file"
    assert not subheaders(at)
