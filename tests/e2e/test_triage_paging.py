"""The triage list says how many failures it shows of how many, and pages on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import data

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def test_showing_n_of_total_then_more(monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path):
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=60)
    at.query_params["period"] = "30d"
    at.run()
    at.session_state["triage_page"] = 10
    at.switch_page("app_pages/failures.py").run()
    assert not at.exception, [e.value for e in at.exception]
    start, end = data.period_window("30d")
    total = len(data.triage_list(start, end, None, None, 100_000))  # every failure of the period
    assert total > 20
    assert f"Showing the newest 10 of {total:,} failures in the period." in [c.value for c in at.caption]
    at.button(key="triage_more").click().run()
    assert f"Showing the newest 20 of {total:,} failures in the period." in [c.value for c in at.caption]
    table = next(d.value for d in at.dataframe if "failed_state" in d.value.columns)
    assert len(table) == 20
