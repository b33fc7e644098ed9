"""Figures per state machine version, against a tiny hand-made lake (every expected figure worked out
beside it), and the pieces the pages draw them with (labels, table, chart, version start markers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import queries
from dashboard.components import charts
from dashboard.components.versions import (
    UNVERSIONED,
    alias_label,
    daily_view,
    new_version_starts,
    ran_several,
    version_label,
    versions_view,
)
from lake.store import Lake

ACCT = "111122223333"
SM = f"arn:aws:states:us-east-1:{ACCT}:stateMachine:"
EX = f"arn:aws:states:us-east-1:{ACCT}:execution:"
TRIAGE, SURVEY, PAYOUT = SM + "triage", SM + "survey", SM + "payout"
V1, V2, PROD = TRIAGE + ":1", TRIAGE + ":2", TRIAGE + ":prod"
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)  # 1 and 2 January


def t(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _ex(
    machine: str,
    name: str,
    start: datetime,
    status: str,
    ms: int | None,
    version: str | None = None,
    alias: str | None = None,
) -> dict:
    mname = machine.rsplit(":", 1)[1]
    return {
        "execution_arn": f"{EX}{mname}:{name}",
        "state_machine_arn": machine,
        "state_machine_name": mname,
        "account_id": ACCT,
        "region": "us-east-1",
        "name": name,
        "status": status,
        "start_time": start,
        "stop_time": start + timedelta(milliseconds=ms) if ms is not None else None,
        "duration_ms": ms,
        "redrive_count": 0,
        "state_machine_version_arn": version,
        "state_machine_alias_arn": alias,
        "event_count": 5,
        "history_complete": True,
        "domain": "pay" if machine == PAYOUT else "care",
    }


def executions() -> list[dict]:
    rows = [
        # triage before any version was published: the unqualified machine, one ABORTED run (1 Jan 08:00)
        _ex(TRIAGE, "u1", t(1, 8), "ABORTED", 700),
    ]
    # v1 through the prod alias from 1 Jan 10:01: 1..5 s, the fifth FAILED
    for i in range(1, 6):
        rows.append(
            _ex(TRIAGE, f"a{i}", t(1, 10, i), "FAILED" if i == 5 else "SUCCEEDED", i * 1000, V1, PROD)
        )
    # v1 started directly (no alias), once
    rows.append(_ex(TRIAGE, "d1", t(1, 11), "SUCCEEDED", 1500, V1))
    # v2 through prod from 2 Jan 09:01: 2, 4, 6, 8 s, then a 10 s TIMED_OUT; one still RUNNING at 23:00
    for i in range(1, 6):
        rows.append(
            _ex(TRIAGE, f"b{i}", t(2, 9, i), "TIMED_OUT" if i == 5 else "SUCCEEDED", i * 2000, V2, PROD)
        )
    rows.append(_ex(TRIAGE, "b6", t(2, 23), "RUNNING", None, V2, PROD))
    # v2 outside the period: a canary on 31 Dec and a run on 3 Jan (neither counts, nor moves first_start)
    rows.append(_ex(TRIAGE, "early", t(31, 12, month=12, year=2024), "SUCCEEDED", 99_000, V2, PROD))
    rows.append(_ex(TRIAGE, "late", t(3, 1), "FAILED", 99_000, V2, PROD))
    # survey (same domain): unversioned, two runs; payout (another domain): versioned
    rows.append(_ex(SURVEY, "s1", t(2, 12), "SUCCEEDED", 100))
    rows.append(_ex(SURVEY, "s2", t(2, 13), "SUCCEEDED", 300))
    rows.append(_ex(PAYOUT, "p1", t(1, 12), "SUCCEEDED", 50, PAYOUT + ":7", PAYOUT + ":live"))
    rows.append(_ex(PAYOUT, "p2", t(2, 12), "SUCCEEDED", 60, PAYOUT + ":8", PAYOUT + ":live"))
    return rows


def build(path: Path, *, traps: bool) -> Path:
    """Write the tiny lake at `path`; with `traps`, files that are not Parquet in a partition of another
    domain and in one of days after the period: a question that opened them (rather than keep to the
    partitions of its domain and days) would fail."""
    lake = Lake(str(path))
    lake.write_meta(source="demo")
    lake.write(
        "state_machines",
        [
            {"state_machine_arn": arn, "name": arn.rsplit(":", 1)[1], "domain": dom, "definition": "{}"}
            for arn, dom in ((TRIAGE, "care"), (SURVEY, "care"), (PAYOUT, "pay"))
        ],
    )
    lake.write_partitioned("executions", executions(), date_column="start_time")
    for rel in ("domain=care/date=2025-01-05", "domain=pay/date=2025-01-01") if traps else ():
        bad = path / "executions" / rel / "part-9.parquet"
        bad.parent.mkdir(parents=True, exist_ok=True)
        bad.write_bytes(b"not parquet")
    return path


@pytest.fixture(scope="module")
def q(tmp_path_factory: pytest.TempPathFactory):
    conn = queries.connect(str(build(tmp_path_factory.mktemp("versions"), traps=True)))
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def q_all(tmp_path_factory: pytest.TempPathFactory):
    """The same lake without the traps: for the questions over every domain."""
    conn = queries.connect(str(build(tmp_path_factory.mktemp("versions_all"), traps=False)))
    yield conn
    conn.close()


def _keys(df: pd.DataFrame) -> list[tuple]:
    return [
        (
            r.state_machine_arn,
            None if pd.isna(r.version_arn) else r.version_arn,
            None if pd.isna(r.alias_arn) else r.alias_arn,
        )
        for r in df.itertuples()
    ]


def test_version_figures_of_one_machine(q) -> None:
    df = q.version_figures(TRIAGE, START, END)
    # one row per (machine, version, alias), by first start
    assert _keys(df) == [(TRIAGE, None, None), (TRIAGE, V1, PROD), (TRIAGE, V1, None), (TRIAGE, V2, PROD)]
    assert list(df.columns) == [
        "state_machine_arn",
        "state_machine_name",
        "version_arn",
        "alias_arn",
        "executions",
        "failed",
        "failure_rate",
        "p50_ms",
        "p95_ms",
        "first_start",
        "last_start",
    ]
    unv, v1, v1_direct, v2 = (r for _, r in df.iterrows())
    # unversioned: one ABORTED run of 700 ms → 1 execution, 1 failed, rate 1/1
    assert (unv.executions, unv.failed, unv.failure_rate, unv.p50_ms, unv.p95_ms) == (1, 1, 1.0, 700, 700)
    # v1 via prod: 1000, 2000, 3000, 4000, 5000 ms, one FAILED → rate 1/5;
    # p50 = the 3rd value = 3000; p95 at rank (5-1)·0.95 = 3.8 → 4000 + 0.8·(5000-4000) = 4800
    assert (v1.executions, v1.failed) == (5, 1)
    assert v1.failure_rate == pytest.approx(1 / 5)
    assert (v1.p50_ms, v1.p95_ms) == pytest.approx((3000, 4800))
    assert (v1.first_start, v1.last_start) == (t(1, 10, 1), t(1, 10, 5))
    # v1 started directly: one 1500 ms success
    assert (v1_direct.executions, v1_direct.failed, v1_direct.failure_rate) == (1, 0, 0.0)
    assert (v1_direct.p50_ms, v1_direct.p95_ms) == (1500, 1500)
    # v2 via prod: 2000, 4000, 6000, 8000, 10000 ms (the last TIMED_OUT); b6 RUNNING is not counted.
    # p50 = 6000; p95 at rank 3.8 → 8000 + 0.8·(10000-8000) = 9600. The 31 Dec and 3 Jan runs are outside.
    assert (v2.executions, v2.failed) == (5, 1)
    assert v2.failure_rate == pytest.approx(1 / 5)
    assert (v2.p50_ms, v2.p95_ms) == pytest.approx((6000, 9600))
    # first start: b1 at 2 Jan 09:01 (not the 31 Dec canary); last start: b6 (running, but it started)
    assert (v2.first_start, v2.last_start) == (t(2, 9, 1), t(2, 23))
    assert str(df["first_start"].dt.tz) == "UTC"


def test_version_figures_of_a_domain_group_per_machine(q, q_all) -> None:
    df = q.version_figures(None, START, END, domain="care")
    # survey (no versions) gets its own row; payout (domain pay) does not appear
    assert set(df["state_machine_arn"]) == {TRIAGE, SURVEY}
    survey = df[df["state_machine_arn"] == SURVEY].iloc[0]
    # 100 and 300 ms: p50 = 200, p95 = 100 + 0.95·(300-100) = 290
    assert (survey.executions, survey.failed, survey.p50_ms, survey.p95_ms) == (2, 0, 200, 290)
    assert pd.isna(survey.version_arn) and pd.isna(survey.alias_arn)
    assert df["first_start"].is_monotonic_increasing
    assert ran_several(df) == [TRIAGE]  # survey ran one (unversioned) machine only
    # every domain: payout's two versions (7 on 1 Jan, 8 on 2 Jan) too
    every = q_all.version_figures(None, START, END)
    assert ran_several(every) == [PAYOUT, TRIAGE]
    payout = every[every["state_machine_arn"] == PAYOUT]
    assert [version_label(v) for v in payout["version_arn"]] == ["v7", "v8"]


def test_version_daily_p95(q) -> None:
    daily = q.version_figures(TRIAGE, START, END, by_day=True)
    assert list(daily.columns) == ["day", "state_machine_arn", "version_arn", "executions", "p95_ms"]
    got = [
        (r.day, None if pd.isna(r.version_arn) else r.version_arn, r.executions, r.p95_ms)
        for r in daily.itertuples()
    ]
    # 1 Jan: the unversioned run (700); v1 with its aliases merged: 1000, 1500, 2000, 3000, 4000, 5000
    #   → p95 at rank (6-1)·0.95 = 4.75 → 4000 + 0.75·(5000-4000) = 4750
    # 2 Jan: v2's five finished runs → 9600 (as above); the running one is not counted
    assert got == [
        (pd.Timestamp("2025-01-01", tz="UTC"), None, 1, 700),
        (pd.Timestamp("2025-01-01", tz="UTC"), V1, 6, pytest.approx(4750)),
        (pd.Timestamp("2025-01-02", tz="UTC"), V2, 5, pytest.approx(9600)),
    ]


def test_a_bad_period_is_refused(q) -> None:
    with pytest.raises(ValueError, match="must be after start"):
        q.version_figures(TRIAGE, END, START)
    with pytest.raises(ValueError, match="timezone-aware"):
        q.version_figures(TRIAGE, datetime(2025, 1, 1), END)


def test_labels_and_new_version_starts(q) -> None:
    assert version_label(V2) == "v2" and version_label(None) == UNVERSIONED == "latest (unversioned)"
    assert version_label(float("nan")) == UNVERSIONED
    assert alias_label(PROD) == "prod" and alias_label(None) == ""
    df = q.version_figures(TRIAGE, START, END)
    # by first start: unversioned 1 Jan 08:00, v1 10:01 (its two rows merged), v2 2 Jan 09:01
    assert new_version_starts(df) == [("v1", pd.Timestamp(t(1, 10, 1))), ("v2", pd.Timestamp(t(2, 9, 1)))]
    assert new_version_starts(df.iloc[[3]]) == [] and new_version_starts(df.iloc[0:0]) == []


def test_versions_table(q) -> None:
    view = versions_view(q.version_figures(None, START, END, domain="care"))
    assert list(view.columns) == [
        "state_machine_name",
        "version",
        "version_arn",
        "alias",
        "executions",
        "failure_rate",
        "p50",
        "p95",
        "first_seen",
    ]
    triage = view[view["state_machine_name"] == "triage"]
    assert list(triage["version"]) == [UNVERSIONED, "v1", "v1", "v2"]
    assert list(triage["alias"]) == ["", "prod", "", "prod"]
    assert list(triage["p95"]) == ["700 ms", "4.8 s", "1.5 s", "9.6 s"]
    assert list(triage["executions"]) == [1, 5, 1, 5]
    assert triage["first_seen"].iloc[-1] == pd.Timestamp(t(2, 9, 1))


def test_chart_has_a_line_per_version_and_a_marker_per_new_version(q) -> None:
    figures = q.version_figures(TRIAGE, START, END)
    daily = daily_view(q.version_figures(TRIAGE, START, END, by_day=True))
    starts = new_version_starts(figures)
    fig = charts.version_p95(daily, "day", "p95_ms", "version", "p95 per day by version", markers=starts)
    spec = json.loads(fig.to_json())
    assert [d["name"] for d in spec["data"]] == [UNVERSIONED, "v1", "v2"]
    assert spec["layout"]["yaxis"]["title"]["text"] == "s"  # 9600 ms ≥ 2 s: seconds
    assert list(fig.data[2].y) == [pytest.approx(9.6)]  # 9600 ms in seconds
    lines = spec["layout"]["shapes"]
    assert [s["line"]["dash"] for s in lines] == ["dash", "dash"]
    assert [pd.Timestamp(s["x0"]) for s in lines] == [pd.Timestamp(t(1, 10, 1)), pd.Timestamp(t(2, 9, 1))]
    assert all(s["x0"] == s["x1"] and s["yref"] == "paper" for s in lines)
    notes = spec["layout"]["annotations"]
    assert [n["text"] for n in notes] == ["v1 takes traffic", "v2 takes traffic"]
    assert [pd.Timestamp(n["x"]) for n in notes] == [pd.Timestamp(s["x0"]) for s in lines]
    # the same markers on the SLA page's p95 chart; none asked for, none drawn
    series = pd.DataFrame({"bucket": daily["day"], "p95_ms": daily["p95_ms"]})
    marked = charts.latency(series, "bucket", ["p95_ms"], 5000, "p95 duration per day", markers=starts[1:])
    shapes = json.loads(marked.to_json())["layout"]["shapes"]
    assert [s["line"]["dash"] for s in shapes] == ["dash", "dash"]  # the target, then v2's start
    assert pd.Timestamp(shapes[1]["x0"]) == pd.Timestamp(t(2, 9, 1))
    plain_fig = json.loads(charts.latency(series, "bucket", ["p95_ms"], None, "p95").to_json())
    assert "shapes" not in plain_fig["layout"]


def test_chart_keeps_aws_text_as_text_and_says_when_empty() -> None:
    daily = pd.DataFrame(
        {"day": [pd.Timestamp("2025-01-01", tz="UTC")], "version": ["<b>x</b>"], "p95_ms": [10.0]}
    )
    fig = charts.version_p95(daily, "day", "p95_ms", "version", "t", markers=[("<i>v9</i>", t(1, 0))])
    spec = json.loads(fig.to_json())
    assert spec["data"][0]["name"] == "&lt;b&gt;x&lt;/b&gt;"
    assert spec["layout"]["annotations"][0]["text"] == "&lt;i&gt;v9&lt;/i&gt; takes traffic"
    empty = json.loads(charts.version_p95(daily.iloc[0:0], "day", "p95_ms", "version", "t").to_json())
    assert empty["data"] == [] and empty["layout"]["annotations"][0]["text"] == "No data in this period"
