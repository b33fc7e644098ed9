"""The SLA report, attainment series and burn-down read whole days from sla_facts, the failure
questions read the failures table, and the rest comes from executions; with those derived tables
missing (a lake from before them), partly or wholly, every figure must be the same."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import queries
from collectors import __main__ as cli
from collectors.lake import Lake
from collectors.simulate import build_demo
from queries import sla_config

END = datetime(2026, 3, 17, 9, 30, tzinfo=UTC)
# Windows that start inside days and differ between the machines of one domain, and maintenance
# windows inside a day and across midnight.
CONFIG = sla_config.parse("""
defaults: {window: 7d, min_executions: 1, latency: {threshold_s: 30, objective: 90%}}
domains:
  customer-care: {window: calendar_month, latency: {threshold_s: 600, objective: 90%}}
  payments:
    window: 28d
    exclusions: [{start: 2026-03-12T22:00:00Z, end: 2026-03-13T02:30:00Z, reason: upgrade}]
state_machines:
  payments-settlement-batch: {window: 7d, latency: {threshold_s: 1800, objective: 99%}}
  ai-inference-batch-scoring:
    exclusions: [{start: 2026-03-15T10:00:00Z, end: 2026-03-15T10:20:00Z}]
""")


DERIVED = ("sla_facts", "failures")


@pytest.fixture(scope="module")
def lakes(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("facts")
    full = str(root / "full")
    build_demo(full, days=35, executions=6000, seed=5, end=END, events="none")
    none, some = root / "none", root / "some"
    shutil.copytree(full, none)
    shutil.copytree(full, some)
    for table in DERIVED:
        shutil.rmtree(none / table)
        for i, part in enumerate(sorted((some / table).rglob("part-0.parquet"))):
            if i % 3 == (0 if table == "sla_facts" else 1):
                part.unlink()
    return {"full": full, "none": str(none), "some": str(some)}


CASES = [
    ("domain", END - timedelta(days=30), None),
    ("state_machine", END - timedelta(days=30), None),
    ("domain", None, None),
    ("state_machine", None, None),
    ("state_machine", None, "payments"),
    ("domain", END - timedelta(days=1, hours=7), None),
    ("state_machine", datetime(2026, 3, 1, tzinfo=UTC), None),
]


@pytest.mark.parametrize(("by", "start", "domain"), CASES)
def test_sla_report_is_the_same_with_and_without_facts(lakes, by, start, domain):
    reports = {}
    for name, path in lakes.items():
        q = queries.connect(path)
        reports[name] = q.sla_report(CONFIG, start, END, by=by, domain=domain)
        q.close()
    full = reports["full"]
    assert full["executions"].sum() > 100 and full["p95_ms"].notna().all()
    pd.testing.assert_frame_equal(full, reports["none"])
    pd.testing.assert_frame_equal(full, reports["some"])


SERIES = [
    ("day", END - timedelta(days=20), None, None),
    ("week", END - timedelta(days=30), "payments", None),  # across the maintenance window
    ("month", datetime(2026, 2, 1, tzinfo=UTC), None, "payments-settlement-batch"),
    ("day", END - timedelta(days=3, hours=5), "ai-inference", "ai-inference-batch-scoring"),
]


@pytest.mark.parametrize(("grain", "start", "domain", "machine"), SERIES)
def test_series_and_burndown_are_the_same_with_and_without_facts(lakes, grain, start, domain, machine):
    series, burndown = {}, {}
    for name, path in lakes.items():
        q = queries.connect(path)
        arn = None
        if machine:
            sm = q.state_machines()
            arn = sm.loc[sm["name"] == machine, "state_machine_arn"].iloc[0]
        series[name] = q.sla_attainment_series(CONFIG, start, END, grain=grain, domain=domain, state_machine_arn=arn)
        burndown[name] = q.budget_burndown(CONFIG, END, domain=domain, state_machine_arn=arn)
        q.close()
    assert series["full"]["executions"].sum() > 10 and burndown["full"]["executions"].iloc[-1] > 10
    for name in ("none", "some"):
        pd.testing.assert_frame_equal(series["full"], series[name])
        pd.testing.assert_frame_equal(burndown["full"], burndown[name])


def test_the_series_counts_what_the_executions_table_holds(lakes):
    """Per day, from the executions rows: the maintenance window of payments is left out."""
    q = queries.connect(lakes["full"])
    start = datetime(2026, 3, 10, 6, tzinfo=UTC)
    s = q.sla_attainment_series(CONFIG, start, END, grain="day", domain="payments").set_index("bucket")
    ex = Lake(lakes["full"]).read("executions", "payments").to_pandas()
    ex = ex[ex.status.isin(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]) & (ex.start_time >= start)
            & (ex.start_time < END)]
    ex = ex[~((ex.start_time >= datetime(2026, 3, 12, 22, tzinfo=UTC))
              & (ex.start_time < datetime(2026, 3, 13, 2, 30, tzinfo=UTC)))]
    by_day = ex.groupby(ex.start_time.dt.floor("D"))
    assert list(s.index) == list(by_day.size().index)
    assert list(s["executions"]) == list(by_day.size())
    assert list(s["succeeded"]) == list(by_day.apply(lambda g: int((g.status == "SUCCEEDED").sum())))
    assert list(s["p95_ms"]) == pytest.approx(list(by_day.duration_ms.quantile(0.95)))
    q.close()


@pytest.mark.parametrize(("days", "domain", "by_machine"), [(30, None, False), (9, "ai-inference", False),
                                                           (20, None, True)])
def test_failure_questions_are_the_same_with_and_without_the_failures_table(lakes, days, domain, by_machine):
    start = END - timedelta(days=days, hours=5)
    arn = None
    if by_machine:  # the machine that fails most
        q = queries.connect(lakes["full"])
        arn = q.triage_list(END - timedelta(days=30), END, limit=1000)["state_machine_arn"].mode().iloc[0]
        q.close()
    answers = {}
    for name, path in lakes.items():
        q = queries.connect(path)
        answers[name] = {
            "machine_hour": q.failures_by_machine_hour(start, END, domain=domain),
            "state_day": q.failures_by_state_day(start, END, domain=domain, state_machine_arn=arn),
            "error_machine": q.failures_by_error_machine(start, END, domain=domain),
            "groups": q.error_groups(start, END, domain=domain, state_machine_arn=arn, lookback_days=5),
            "triage": q.triage_list(start, END, domain=domain, state_machine_arn=arn, limit=40),
        }
        q.close()
    full = answers["full"]
    assert full["triage"]["execution_arn"].nunique() == len(full["triage"]) > 2
    assert full["groups"]["count"].sum() > 2 and full["machine_hour"]["failures"].sum() >= len(full["triage"])
    for name in ("none", "some"):
        for question, df in full.items():
            pd.testing.assert_frame_equal(df, answers[name][question], obj=f"{question} ({name})")


def test_the_failure_heatmap_counts_what_the_executions_table_holds(lakes):
    q = queries.connect(lakes["full"])
    start = END - timedelta(days=10)
    cells = q.failures_by_machine_hour(start, END)
    ex = Lake(lakes["full"]).read("executions").to_pandas()
    ex = ex[ex.status.isin(["FAILED", "TIMED_OUT", "ABORTED"]) & (ex.start_time >= start) & (ex.start_time < END)]
    want = ex.groupby([ex.state_machine_arn, ex.start_time.dt.hour]).size()
    got = cells.set_index(["state_machine_arn", "hour"])["failures"]
    assert dict(got) == {k: int(v) for k, v in want.items()}
    q.close()


def test_the_report_counts_what_the_executions_table_holds(lakes):
    """An independent count straight from the executions rows, for one machine over its rolling window."""
    q = queries.connect(lakes["full"])
    rep = q.sla_report(CONFIG, end=END, by="state_machine").set_index("state_machine_name")
    row = rep.loc["payments-settlement-batch"]
    ex = Lake(lakes["full"]).read("executions", "payments").to_pandas()
    ex = ex[(ex.state_machine_name == "payments-settlement-batch") & ex.status.isin(
        ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]) & (ex.start_time >= row.period_start) & (ex.start_time < END)]
    excluded = (ex.start_time >= datetime(2026, 3, 12, 22, tzinfo=UTC)) & (ex.start_time < datetime(2026, 3, 13, 2, 30, tzinfo=UTC))
    kept = ex[~excluded]
    assert row.period_start == END - timedelta(days=7)
    assert (row.executions, row.excluded, row.succeeded) == (len(kept), int(excluded.sum()),
                                                             int((kept.status == "SUCCEEDED").sum()))
    assert row.p95_ms == pytest.approx(kept.duration_ms.quantile(0.95))
    assert row.within_threshold == int((kept.duration_ms <= 1_800_000).sum())
    q.close()


def test_rebuilding_the_derived_tables_of_an_old_lake(lakes, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(lakes["none"], old)
    assert cli.main(["rebuild-derived", "--lake", str(old)]) == 0
    n = len(Lake(str(old)).partitions("executions"))
    assert f"rebuilt sla_facts and failures of {n} partitions" in capsys.readouterr().err
    assert cli.main(["rebuild-derived", "--lake", str(tmp_path / "nothing")]) == 2
    assert cli.main(["rebuild-sla-facts", "--lake", str(old)]) == 0  # the earlier name still works
    for table in DERIVED:
        parts = sorted((Path(lakes["full"]) / table).rglob("part-0.parquet"))
        assert len(parts) == n
        for p in parts:
            assert (old / p.relative_to(lakes["full"])).read_bytes() == p.read_bytes()
