"""The served dashboard in headless Chromium, on a copy of the demo lake it may write to: the Flows graph
redrawn whole after switching machines, links that keep what they say (a bad filter, a custom range, the
page pickers), and auto-refresh showing a new write without a click."""

from __future__ import annotations

import re
import shutil
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_kit import served
from dash_lakes import write_failures
from test_browser import assert_clean, settle

from dashboard.components.graph import to_dot
from lake.asl import parse_definition
from lake.store import Lake

pytestmark = pytest.mark.e2e

END = datetime(2026, 11, 20, tzinfo=UTC)  # the demo lake's window end: its "now"
# Three machines whose graphs differ in shape at the same node positions (a Task box where the previous
# graph had the End circle, a Choice diamond where it had a box): what a redraw in place got wrong.
SWITCHES = ("customer-care-ticket-triage", "payments-refund-approval", "ai-inference-rag-answer")
NODES_JS = """() => [...document.querySelectorAll('[data-testid="stGraphVizChart"] svg g.node')].map(n => ({
    id: n.querySelector('title').textContent,
    text: [...n.querySelectorAll('text')].map(t => t.textContent),
    shapes: n.querySelectorAll('path, polygon, ellipse').length,
    drawn: [...n.querySelectorAll('path, polygon, ellipse')].every(s =>
        s.tagName === 'path' ? !!s.getAttribute('d') :
        s.tagName === 'polygon' ? !!s.getAttribute('points') : !!s.getAttribute('rx')),
}))"""


REFRESH_S = 4  # the auto-refresh interval of the test's server (STEPSCOPE_REFRESH_S)


@pytest.fixture(scope="module")
def lake_copy(demo_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("browser-links") / "lake"
    shutil.copytree(demo_lake, lake)
    return lake


@pytest.fixture(scope="module")
def live_url(lake_copy: Path, slas_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("streamlit-links") / "server.log"
    with served(lake_copy, slas_file, log, env={"STEPSCOPE_REFRESH_S": str(REFRESH_S)}) as base:
        yield base


def query(pg: object) -> dict[str, str]:
    return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(pg.url).query).items()}


def expected_node_ids(lake: Path, name: str) -> list[str]:
    """The node ids of the machine's DOT graph: every state of its definition, Start and the End markers."""
    machines = Lake(str(lake)).read("state_machines").to_pandas()
    definition = machines.loc[machines["name"] == name, "definition"].iloc[0]
    return re.findall(r"^\s+(n[0-9a-f]{8}_\d+) \[", to_dot(parse_definition(definition)), re.M)


def test_switching_machines_on_flows_draws_every_node(live_url: str, page: object, lake_copy: Path) -> None:
    page.goto(f"{live_url}/flows")
    settle(page, "Flows")
    for name in SWITCHES:
        page.get_by_label("State machine").last.click()  # the page's picker (the sidebar's comes first)
        page.get_by_role("option", name=name, exact=True).click()
        want = expected_node_ids(lake_copy, name)
        page.wait_for_function(
            "ids => { const t = [...document.querySelectorAll("
            "'[data-testid=\"stGraphVizChart\"] svg g.node title')].map(e => e.textContent);"
            " return t.length === ids.length && ids.every(i => t.includes(i)); }",
            arg=want,
            timeout=60_000,
        )
        page.wait_for_timeout(1500)  # what a person sees seconds later: the redraw has settled
        nodes = page.evaluate(NODES_JS)
        assert sorted(n["id"] for n in nodes) == sorted(want), name
        undrawn = [n["text"] for n in nodes if not n["shapes"] or not n["drawn"]]
        assert undrawn == [], f"{name}: nodes not drawn {undrawn}"
        states = parse_definition(
            Lake(str(lake_copy)).read("state_machines").to_pandas().set_index("name").loc[name, "definition"]
        )
        labels = {n["text"][0] for n in nodes if n["text"]}
        assert {s.name for s in states} <= labels, name
        assert query(page).get("machine") == name, "the machine drawn is in the link"
    assert_clean(page)


def test_links_keep_a_bad_filter_a_custom_range_and_the_audit_domain(live_url: str, page: object) -> None:
    page.goto(f"{live_url}/failures?domain=no-such-domain")
    settle(page, "Failures")
    page.get_by_text('No domain called "no-such-domain" in this lake').wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert query(page).get("domain") == "no-such-domain", page.url
    # a custom range opens as linked and stays in the address bar
    page.goto(f"{live_url}/failures?period=custom&from=2026-11-16T14:00&to=2026-11-16T20:00")
    settle(page, "Failures")
    page.get_by_text("2026-11-16 14:00 → 2026-11-16 20:00 UTC").wait_for(timeout=30_000)
    assert {k: query(page).get(k) for k in ("period", "from", "to")} == {
        "period": "custom",
        "from": "2026-11-16T14:00",
        "to": "2026-11-16T20:00",
    }
    # another period, then the custom one again: it starts from the window shown, both ends in the link
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("radio", name="24h", exact=True).click()
    page.get_by_text("2026-11-19 00:00 → 2026-11-20 00:00 UTC").wait_for(timeout=30_000)
    page.wait_for_function("() => !location.search.includes('from=')", timeout=30_000)
    assert query(page).get("period") == "24h"
    sidebar.get_by_role("radio", name="custom", exact=True).click()
    both = "() => ['period=custom', 'from=', 'to='].every(p => location.search.includes(p))"
    page.wait_for_function(both, timeout=30_000)  # the URL is written a parameter at a time
    assert {k: query(page).get(k) for k in ("period", "from", "to")} == {
        "period": "custom",
        "from": "2026-11-19T00:00",
        "to": "2026-11-20T00:00",
    }
    # the Audit page's domain picker is the domain filter: in the link
    page.goto(f"{live_url}/audit")
    settle(page, "Audit export")
    page.get_by_label("Domain").last.click()
    page.get_by_role("option", name="supply-chain", exact=True).click()
    page.wait_for_function("() => location.search.includes('domain=supply-chain')", timeout=30_000)
    assert_clean(page)


def test_auto_refresh_shows_a_new_write_without_a_click(live_url: str, page: object, lake_copy: Path) -> None:
    page.goto(f"{live_url}/failures?period=1h&live=true")
    settle(page, "Failures")
    page.get_by_text(f"Auto-refresh every {REFRESH_S} s").wait_for(timeout=30_000)  # the server's setting
    none = page.get_by_text("No failed executions in this period.")
    none.wait_for(timeout=30_000)  # the demo's last hour has no failure
    write_failures(
        str(lake_copy),
        "payments-refund-approval",
        "payments",
        [END - timedelta(minutes=10)],
        "Test.Refreshed",
        committed_at=END,
    )
    t0 = time.monotonic()
    none.wait_for(state="detached", timeout=45_000)  # at most one refresh interval, plus the rerun
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    assert time.monotonic() - t0 < 45
    assert query(page).get("live") == "true"
    assert_clean(page)
