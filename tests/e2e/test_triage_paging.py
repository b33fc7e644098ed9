"""The triage list says how many failures it shows of how many, and pages on."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_pages import APP
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.filters import Filters


def test_showing_n_of_total_then_more(monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path):
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["period"] = "30d"
    at.run()
    at.session_state["triage_page"] = 10
    at.switch_page("app_pages/failures.py").run()
    assert not at.exception, [e.value for e in at.exception]
    start, end = data.period_window(Filters(period="30d"))
    total = len(data.triage_list(start, end, None, None, 100_000))  # every failure of the period
    assert total > 20
    assert f"Showing the newest 10 of {total:,} failures in the period." in [c.value for c in at.caption]
    at.button(key="triage_more").click().run()
    assert f"Showing the newest 20 of {total:,} failures in the period." in [c.value for c in at.caption]
    table = next(d.value for d in at.dataframe if "failed_state" in d.value.columns)
    assert len(table) == 20
