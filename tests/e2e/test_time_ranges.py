"""Time ranges, links and freshness through AppTest: the last hour, a custom range in the URL, a link that
names nothing, results that follow a new write at once, and 'data as of' turning red when collection is
late. Expected figures are read back from the lake with pandas, not from the dashboard's queries."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from apptest_pages import arn_of, figure, open_page
from dash_lakes import write_failures, write_runs
from streamlit.testing.v1 import AppTest

from dashboard.components.text import md_escape
from lake.store import Lake

pytestmark = pytest.mark.e2e

END = datetime(2026, 11, 20, tzinfo=UTC)  # the demo lake's window end (conftest.DEMO_END): its "now"
FAILED = ("FAILED", "TIMED_OUT", "ABORTED")
MACHINE, DOMAIN = "payments-refund-approval", "payments"
PAGES = ("overview", "sla", "failures", "flows", "execution", "audit", "health")


@pytest.fixture
def live_lake(
    tmp_path: Path, demo_lake: Path, slas_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A copy of the demo lake the test may write to, served to the dashboard."""
    lake = tmp_path / "lake"
    shutil.copytree(demo_lake, lake)
    monkeypatch.setenv("STEPSCOPE_LAKE", str(lake))
    monkeypatch.setenv("STEPSCOPE_SLAS", str(slas_file))
    monkeypatch.setenv("STEPSCOPE_ALLOW_ANONYMOUS", "1")  # some tests mark the copy `source: aws`
    yield lake


def failed_between(lake: Path, start: datetime, end: datetime) -> set[str]:
    """ARNs of the lake's failed executions started in [start, end), read with pandas."""
    ex = Lake(str(lake)).read("executions").to_pandas()
    hit = ex["status"].isin(FAILED) & (ex["start_time"] >= start) & (ex["start_time"] < end)
    return set(ex.loc[hit, "execution_arn"])


def triage_arns(at: AppTest) -> set[str]:
    """The executions the triage list shows (none when the page says there are none)."""
    tables = [df.value for df in at.dataframe if "link" in df.value.columns]
    if not tables:
        assert any("No failed executions in this period" in s.value for s in at.success)
        return set()
    return {arn_of(link) for link in tables[0]["link"]}


def sidebar_window(at: AppTest) -> str:
    return next(c.value for c in at.sidebar.caption if "→" in c.value)


# -- the last hour, and a write seen at once ---------------------------------------------------------
def test_the_last_hour_shows_its_failures_only_and_a_new_write_at_once(live_lake: Path) -> None:
    at = open_page("failures", period="1h")
    assert sidebar_window(at) == "2026-11-19 23:00 → 2026-11-20 00:00 UTC"
    assert triage_arns(at) == failed_between(live_lake, END - timedelta(hours=1), END)
    # a collector writes three failures, two of them in the last hour; same session, nothing cleared
    starts = [END - timedelta(minutes=50), END - timedelta(minutes=8), END - timedelta(minutes=90)]
    new = write_failures(str(live_lake), MACHINE, DOMAIN, starts, "Test.Injected", committed_at=END)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = triage_arns(at)
    assert shown == failed_between(live_lake, END - timedelta(hours=1), END)
    assert set(new[:2]) <= shown and new[2] not in shown
    # the heatmap of the hour runs in time order, in 5-minute columns from 23:00
    heat = figure(at, "Failures by state machine × 5 min (UTC, in time order)")["data"][0]
    assert heat["x"] == [f"11-19 23:{m:02d}" for m in range(0, 60, 5)]
    row = dict(zip(heat["x"], heat["z"][heat["y"].index(MACHINE)], strict=True))
    assert row["11-19 23:10"] >= 1 and row["11-19 23:50"] >= 1
    assert sum(sum(r) for r in heat["z"]) == len(shown)


def test_a_day_heatmap_runs_in_time_order_not_by_hour_of_day(on_demo: None, demo_lake: Path) -> None:
    at = open_page("failures", period="24h")
    heat = figure(at, "Failures by state machine × hour (UTC, in time order)")["data"][0]
    assert heat["x"][0] == "11-19 00:00" and heat["x"][-1] == "11-19 23:00" and len(heat["x"]) == 24
    assert sum(sum(r) for r in heat["z"]) == len(failed_between(demo_lake, END - timedelta(hours=24), END))
    longer = open_page("failures", period="7d")
    assert figure(longer, "Failures by state machine × hour of day (UTC)")["data"][0]["x"] == [
        str(h) for h in range(24)
    ]


# -- a custom range in the URL -----------------------------------------------------------------------
def test_a_custom_range_round_trips_through_the_url(on_demo: None, demo_lake: Path) -> None:
    start, end = datetime(2026, 11, 16, 14, tzinfo=UTC), datetime(2026, 11, 16, 20, tzinfo=UTC)
    at = open_page("failures", period="custom", **{"from": "2026-11-16T14:00", "to": "2026-11-16T20:00"})
    assert at.datetime_input(key="from").value == start.replace(tzinfo=None)
    assert sidebar_window(at) == "2026-11-16 14:00 → 2026-11-16 20:00 UTC"
    assert triage_arns(at) == failed_between(demo_lake, start, end) != set()
    # moving an end moves the range (the browser test checks the address bar); the link reopens it
    at.datetime_input(key="to").set_value(datetime(2026, 11, 16, 18, 30)).run()
    assert sidebar_window(at) == "2026-11-16 14:00 → 2026-11-16 18:30 UTC"
    again = open_page("failures", period="custom", **{"from": "2026-11-16T14:00", "to": "2026-11-16T18:30"})
    assert triage_arns(again) == failed_between(demo_lake, start, datetime(2026, 11, 16, 18, 30, tzinfo=UTC))


def test_switching_to_a_custom_range_starts_from_the_window_shown(on_demo: None) -> None:
    at = open_page("failures", period="24h")
    at.segmented_control(key="period").set_value("custom").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.datetime_input(key="from").value == datetime(2026, 11, 19)  # both ends, so the link has them
    assert at.datetime_input(key="to").value == datetime(2026, 11, 20)
    assert sidebar_window(at) == "2026-11-19 00:00 → 2026-11-20 00:00 UTC"


# -- links that name nothing -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("page", "param", "value", "says"),
    [
        ("overview", "domain", "no-such-domain", 'No domain called "no-such-domain" in this lake'),
        ("failures", "domain", "no-such-domain", 'No domain called "no-such-domain" in this lake'),
        ("audit", "domain", "no-such-domain", 'No domain called "no-such-domain" in this lake'),
        ("failures", "machine", "ghost-flow", 'No state machine called "ghost-flow" in this lake'),
        ("flows", "machine", "ghost-flow", 'No state machine called "ghost-flow" in this lake'),
        ("overview", "period", "2h", 'No period called "2h"'),
        ("sla", "period", "2h", 'No period called "2h"'),
    ],
)
def test_a_bad_filter_is_reported_and_kept_in_the_url(
    on_demo: None, page: str, param: str, value: str, says: str
) -> None:
    at = open_page(page, **{param: value})
    assert any(e.value.startswith(md_escape(says)) for e in at.error), [e.value for e in at.error]
    # the widget bound to the URL keeps the value (the browser test checks the address bar)
    widget = at.segmented_control(key="period") if param == "period" else at.selectbox(key=param)
    assert widget.value == value
    assert not at.dataframe and not at.get("plotly_chart"), "nothing is shown for a link that names nothing"
    at.run()  # still there after the page reruns
    widget = at.segmented_control(key="period") if param == "period" else at.selectbox(key=param)
    assert widget.value == value and any(e.value.startswith(md_escape(says)) for e in at.error)


def test_a_machine_of_another_domain_is_named_and_a_valid_pick_clears_the_message(on_demo: None) -> None:
    at = open_page("failures", domain="payments", machine="ai-inference-rag-answer")
    assert any(
        md_escape('State machine "ai-inference-rag-answer" is not in domain "payments"') in e.value
        for e in at.error
    )
    at.selectbox(key="domain").set_value("ai-inference").run()
    assert not at.error
    shown = triage_arns(at)  # the machine's failures, now in its own domain
    assert shown and all(":execution:ai-inference-rag-answer:" in arn for arn in shown)


def test_pages_that_cannot_honour_a_filter_say_so(on_demo: None) -> None:
    audit = open_page("audit", domain="payments", machine=MACHINE)
    assert any("state machine filter is not applied on this page" in i.value for i in audit.info)
    health = open_page("health", domain="payments")
    assert any("domain filter is not applied on this page" in i.value for i in health.info)
    # the Overview honours a machine: one card, the machine's own
    overview = open_page("overview", machine=MACHINE)
    assert [s.value for s in overview.subheader] == [md_escape(MACHINE)]


def test_the_flows_and_audit_pickers_are_the_filters_in_the_url(on_demo: None) -> None:
    flows = open_page("flows", domain="payments")
    box = flows.selectbox(key="flow_machine")
    box.select_index((box.index + 1) % len(box.options)).run()  # another machine than the one shown
    picked = flows.selectbox(key="flow_machine").value
    assert flows.selectbox(key="machine").value == picked  # the sidebar's filter, bound to `?machine=`
    audit = open_page("audit")
    assert any("Pick the domain to export" in i.value for i in audit.info)
    audit.selectbox(key="audit_domain").set_value("supply-chain").run()
    assert audit.selectbox(key="domain").value == "supply-chain"  # bound to `?domain=`
    assert any(f"Every execution of **{md_escape('supply-chain')}**" in m.value for m in audit.markdown)


# -- data as of, and late collection -----------------------------------------------------------------
def test_data_as_of_the_demo_is_the_end_of_its_window(on_demo: None) -> None:
    at = open_page("failures")
    line = next(c.value for c in at.caption if c.value.startswith("Data as of"))
    assert line.startswith("Data as of 2026-11-20 00:00 UTC: the end of the simulated window")
    assert not any("Collection is late" in e.value for e in at.error)


def _runs_every_5_min(last_finished: datetime) -> list[tuple[datetime, datetime, int]]:
    """Twelve successful runs, one every 5 minutes, each 1 minute long, the last finishing then."""
    return [
        (last_finished - timedelta(minutes=1 + 5 * i), last_finished - timedelta(minutes=5 * i), 0)
        for i in range(12)
    ]


def test_data_as_of_an_aws_lake_on_time(live_lake: Path) -> None:
    Lake(str(live_lake)).write_meta(source="aws")
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    write_runs(str(live_lake), _runs_every_5_min(last))
    at = open_page("failures")
    line = next(c.value for c in at.caption if c.value.startswith("Data as of"))
    assert line == f"Data as of {last:%Y-%m-%d %H:%M} UTC, collected every 5 min as a rule."
    assert not any("Collection is late" in e.value for e in at.error)


def test_late_collection_turns_data_as_of_red_with_a_banner_on_every_page(live_lake: Path) -> None:
    Lake(str(live_lake)).write_meta(source="aws")
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=70)
    # the usual interval comes from the successful runs; a failed one since does not date the data
    failed = (last + timedelta(minutes=4), last + timedelta(minutes=5), 1)
    write_runs(str(live_lake), [*_runs_every_5_min(last), failed])
    runs = Lake(str(live_lake)).read("collection_runs").to_pandas()
    assert pd.Timestamp(runs["finished_at"].max()) > pd.Timestamp(last)  # the newest run is not the as-of
    at = open_page("overview")
    for page in PAGES:
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        red = [c.value for c in at.caption if "Data as of" in c.value]
        assert red == [
            f":red[Data as of {last:%Y-%m-%d %H:%M} UTC, collected every 5 min as a rule; the 1 run(s) "
            "since recorded errors: collection is late.]"
        ], page
        banner = next(e.value for e in at.error if e.value.startswith("Collection is late"))
        assert re.search(r"finished 1 h 1\d min ago, more than 2× its usual interval of 5 min", banner), (
            banner
        )
