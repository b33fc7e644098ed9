"""Fixtures for the dashboard tests: a small simulated lake (plus one hostile execution), an SLA file,
Streamlit's caches cleared before every test, and for the browser tests the served dashboard and a
headless Chromium page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import streamlit as st
from browser_kit import CHROMIUM, CHROMIUM_FLAGS, WIDTH
from dash_lakes import write_hostile_execution

from collectors.simulate import GROUND_TRUTH_FILE, build_demo

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
DEMO_END = "2026-11-20T00:00:00Z"
HOSTILE_START = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)

# Objectives chosen so the status of two domains is known from the ground truth alone: ai-inference
# (an injected two-hour model outage) cannot meet 99.9 %, supply-chain easily meets 50 %.
SLAS_YAML = """\
version: 1
defaults:
  success_objective: 99%
  window: 30d
  min_executions: 20
domains:
  ai-inference: {success_objective: 99.9%}
  supply-chain: {success_objective: 50%}
"""


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """14 simulated days (about 3,000 executions, fixed end) and one execution whose texts are markup."""
    lake = tmp_path_factory.mktemp("dash") / "lake"
    build_demo(str(lake), days=14, executions=3000, seed=7, end=DEMO_END)
    write_hostile_execution(str(lake), HOSTILE_START)
    return lake


@pytest.fixture(scope="session")
def truth(demo_lake: Path) -> dict:
    return json.loads((demo_lake / GROUND_TRUTH_FILE).read_text())


@pytest.fixture(scope="session")
def slas_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("slas") / "slas.yaml"
    path.write_text(SLAS_YAML)
    return path


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Cached results are per process: a test on another lake or SLA file must not see the previous answers."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture
def on_demo(monkeypatch: pytest.MonkeyPatch, demo_lake: Path, slas_file: Path) -> None:
    """The dashboard reads the test lake with the test SLA file."""
    monkeypatch.setenv("STEPSCOPE_LAKE", str(demo_lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    ctx = browser.new_context(viewport={"width": WIDTH, "height": 1800})
    pg = ctx.new_page()
    pg.dialogs = []  # every alert/confirm a page raises (there must be none)
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()
