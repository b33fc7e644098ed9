"""The served dashboard in headless Chromium: every page, a triage click-through, markup shown as text."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser_kit import WIDTH, served
from dash_lakes import XSS_CAUSE, XSS_ERROR, XSS_NAME, execution_arn

import queries

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
PAGES = {
    "overview": ("/", "Overview"),
    "sla": ("/sla", "SLA"),
    "failures": ("/failures", "Failures"),
    "flows": ("/flows", "Flows"),
    "execution": ("/execution", "Execution"),
    "audit": ("/audit", "Audit export"),
    "health": ("/health", "Collection health"),
}
# What each page must have drawn before its screenshot: (tables, Plotly charts, graphs).
# Overview and SLA: + headroom (3 charts) and throttles per machine; Flows: + the Task states' Lambda
# functions; Health: + the completeness ledger's gaps and per-machine tables.
DRAWN = {
    "overview": (1, 4, 0),
    "sla": (3, 9, 0),  # with the "By version" table and chart of the triage machine (its v2 deployment)
    "failures": (2, 1, 0),
    "flows": (3, 1, 1),
    "execution": (0, 0, 0),
    "audit": (0, 0, 0),
    "health": (5, 0, 0),
}
FAILED = {"FAILED", "TIMED_OUT", "ABORTED"}


@pytest.fixture(scope="module")
def app_url(demo_lake: Path, slas_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served on the test lake (the `browser` and `page` fixtures are in conftest)."""
    with served(demo_lake, slas_file, tmp_path_factory.mktemp("streamlit") / "server.log") as base:
        yield base


def settle(pg: object, title: str) -> None:
    """Wait until the page's script has run: its title is shown and the 'running' widget is gone."""
    pg.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    pg.wait_for_timeout(1500)  # charts and the graph draw after the last message


def drawn(pg: object) -> tuple[int, int, int]:
    """(tables with their header drawn, Plotly charts with their plot drawn, graphs drawn as SVG)."""
    return tuple(
        pg.evaluate("""() => [
        [...document.querySelectorAll('[data-testid="stDataFrame"]')]
            .filter(e => e.querySelector('canvas') && e.querySelector('[role="columnheader"]')).length,
        [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
            .filter(e => e.querySelector('.main-svg .plot, .main-svg .infolayer')).length,
        [...document.querySelectorAll('[data-testid="stGraphVizChart"]')].filter(e => e.querySelector('svg g')).length,
    ]""")
    )


def wait_drawn(pg: object, expected: tuple[int, int, int], timeout_s: float = 60) -> None:
    """Wait until every table, chart and graph of the page is drawn (they draw after the script ends)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = drawn(pg)
        if all(g >= e for g, e in zip(got, expected, strict=True)):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{pg.url}: drawn (tables, charts, graphs) {got}, expected {expected}")
        pg.wait_for_timeout(250)
    assert drawn(pg) == expected, f"{pg.url}: {drawn(pg)} drawn, expected exactly {expected}"


def full_height(pg: object) -> None:
    """Grow the window to the page's whole height: Streamlit scrolls inside its own container, so a
    `full_page` screenshot alone stops at the window's edge."""
    h = pg.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"]\')].map(e => e.scrollHeight), 0)'
    )
    pg.set_viewport_size({"width": WIDTH, "height": max(1800, min(int(h) + 100, 12_000))})


def visible_headers(pg: object, grid: object) -> list[str]:
    """Column headers the grid drew without scrolling sideways (it only draws columns in view)."""
    return [h.strip() for h in grid.locator('[role="columnheader"]').all_inner_texts()]


def assert_clean(pg: object) -> None:
    body = pg.inner_text("body")
    assert pg.locator('[data-testid="stException"]').count() == 0, body[:2000]
    for bad in ("Traceback", "Page not found", "StreamlitAPIException"):
        assert bad not in body, f"{bad!r} on {pg.url}"
    assert pg.dialogs == []


def test_every_page_renders_without_error_and_fetches_nothing_from_outside(
    app_url: str, page: object
) -> None:
    """Every page drawn whole, and nothing asked of any other server: an air-gapped network must see each
    page complete (no font, icon or script from elsewhere)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    host = urllib.parse.urlsplit(app_url).netloc
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if urllib.parse.urlsplit(r.url).netloc in (host, "") else outside.append(r.url),
    )
    for name, (path, title) in PAGES.items():
        page.goto(app_url + path)
        settle(page, title)
        full_height(page)
        wait_drawn(page, DRAWN[name])
        assert_clean(page)
        assert "Simulated demo data" in page.inner_text("body")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": WIDTH, "height": 1800})
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000
    assert [u for u in outside if not u.startswith(("data:", "blob:"))] == []


def test_triage_row_click_opens_its_execution(app_url: str, page: object, demo_lake: Path) -> None:
    page.goto(f"{app_url}/failures")
    settle(page, "Failures")
    wait_drawn(page, DRAWN["failures"])
    grid = page.locator('[data-testid="stDataFrame"]').first
    # on a 1400 px window, what on-call needs is in view without scrolling sideways
    shown = visible_headers(page, grid)
    assert shown[:7] == ["Open", "Started (UTC)", "Status", "New?", "Root state", "Root error", "Cause"], (
        shown
    )
    assert "Full cause" not in shown, "the grid draws every column: the check above proves nothing"
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # the row-selection checkbox of the first row: left edge of the grid, below the header row
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    page.wait_for_url("**/execution?execution=*", timeout=30_000)
    settle(page, "Execution")
    assert_clean(page)
    arn = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["execution"][0]
    ex = queries.connect(str(demo_lake)).execution(arn)
    assert ex is not None and ex["status"] in FAILED
    assert page.get_by_text(ex["name"], exact=True).first.is_visible()
    page.screenshot(path=str(SHOTS / "execution-from-triage.png"), full_page=True)


def test_markup_from_aws_is_shown_as_text(app_url: str, page: object) -> None:
    page.goto(f"{app_url}/?execution={urllib.parse.quote(execution_arn(), safe='')}")
    settle(page, "Execution")
    assert_clean(page)
    for text in (XSS_NAME, XSS_CAUSE, XSS_ERROR):  # code blocks draw a moment after the rest
        page.wait_for_function("t => document.body.innerText.includes(t)", arg=text, timeout=30_000)
    assert page.get_by_role("heading", name=XSS_NAME, exact=True).is_visible()
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("b", has_text="Error").count() == 0
    scripts = page.evaluate("[...document.scripts].map(s => s.textContent).join('\\n')")
    assert "alert(1)" not in scripts
    page.wait_for_timeout(500)
    assert page.dialogs == []
    page.screenshot(path=str(SHOTS / "execution-hostile-text.png"), full_page=True)


def test_audit_download_in_the_browser_is_the_export_command_output(
    app_url: str, page: object, demo_lake: Path, slas_file: Path, tmp_path: Path
) -> None:
    page.goto(f"{app_url}/audit?domain=payments&period=7d")
    settle(page, "Audit export")
    page.get_by_text("Preview and prepare the download").click()
    button = page.get_by_role("button", name="Download CSV")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    got = tmp_path / "browser.csv"
    info.value.save_as(got)
    # the file is named from the period, as the command names it; the command gets the same bounds from it
    stem = info.value.suggested_filename.removesuffix(".csv")
    start, end = (datetime.strptime(t, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) for t in stem.split("_"))
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
    cli_csv = out / "payments" / info.value.suggested_filename
    assert got.read_bytes() == cli_csv.read_bytes() and got.read_bytes().count(b"\n") > 1
    assert_clean(page)


def test_overview_verdicts_in_the_browser_are_the_cli_verdicts(
    app_url: str, page: object, demo_lake: Path, slas_file: Path
) -> None:
    """What a CIO reads in the browser is what `stepscope sla --format json` says for the same lake and
    instant, whatever the period picked (a verdict is over the objective's own window)."""
    import json

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "stepscope",
            "sla",
            "--lake",
            str(demo_lake),
            "--config",
            str(slas_file),
            "--format",
            "json",
            "--at",
            json.loads((demo_lake / "_stepscope.json").read_text())["window_end"],
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    from dashboard.components import palette

    want = {r["key"]: palette.status_words(r["status"]) for r in json.loads(out.stdout)}
    for period in ("24h", "90d"):
        page.goto(f"{app_url}/?period={period}")
        settle(page, "Overview")
        for domain, words in want.items():
            heading = page.get_by_role("heading", name=domain, exact=True)
            # the innermost block holding the card's heading: the card itself (ancestors come first)
            card = page.locator('[data-testid="stVerticalBlock"]', has=heading).last
            assert words in card.inner_text(), (period, domain, card.inner_text()[:300])
