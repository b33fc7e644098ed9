"""The SLA report, attainment series and burn-down read sla_facts, the failure questions the failures
table: every figure must equal a count straight from the executions rows. A lake whose derived tables
are missing, partly or wholly, or that is in an older format, is refused with the command that mends
it, and after that command every answer is what the lake written whole gives."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sla_expected

import queries
from collectors.simulate import build_demo
from lake.layout import FORMAT_VERSION
from lake.store import Lake
from lake.upgrade import LakeFormatError
from queries import sla_config
from stepscope import cli

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
def test_sla_report_counts_what_the_executions_table_holds(lakes, by, start, domain):
    """Every key's volumes, success, exclusions, threshold counts and exact percentiles, recomputed with
    pandas from the executions rows (tests/unit/sla_expected.py)."""
    q = queries.connect(lakes["full"])
    got = q.sla_report(CONFIG, start, END, by=by, domain=domain)
    q.close()
    assert got["p95_ms"].notna().all()
    assert sla_expected.assert_report_matches(got, lakes["full"], CONFIG, END, by, start, domain) > 100


def test_the_report_counts_edge_days_and_exclusions(lakes):
    """A period of a day and a half (only edge days, no whole one) across a maintenance window."""
    q = queries.connect(lakes["full"])
    start, end = END - timedelta(days=4, hours=12), END - timedelta(days=3)
    got = q.sla_report(CONFIG, start, end, by="state_machine")
    q.close()
    assert got["excluded"].sum() > 0
    assert sla_expected.assert_report_matches(got, lakes["full"], CONFIG, end, "state_machine", start) > 50


def test_the_series_counts_what_the_executions_table_holds(lakes):
    """Per day, from the executions rows: the maintenance window of payments is left out."""
    q = queries.connect(lakes["full"])
    start = datetime(2026, 3, 10, 6, tzinfo=UTC)
    s = q.sla_attainment_series(CONFIG, start, END, grain="day", domain="payments").set_index("bucket")
    ex = Lake(lakes["full"]).read("executions", "payments").to_pandas()
    ex = ex[
        ex.status.isin(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
        & (ex.start_time >= start)
        & (ex.start_time < END)
    ]
    ex = ex[
        ~(
            (ex.start_time >= datetime(2026, 3, 12, 22, tzinfo=UTC))
            & (ex.start_time < datetime(2026, 3, 13, 2, 30, tzinfo=UTC))
        )
    ]
    by_day = ex.groupby(ex.start_time.dt.floor("D"))
    assert list(s.index) == list(by_day.size().index)
    assert list(s["executions"]) == list(by_day.size())
    assert list(s["succeeded"]) == list(by_day.apply(lambda g: int((g.status == "SUCCEEDED").sum())))
    assert list(s["p95_ms"]) == pytest.approx(list(by_day.duration_ms.quantile(0.95)))
    q.close()


def test_the_failure_heatmap_counts_what_the_executions_table_holds(lakes):
    q = queries.connect(lakes["full"])
    start = END - timedelta(days=10)
    cells = q.failures_by_machine_hour(start, END)
    ex = Lake(lakes["full"]).read("executions").to_pandas()
    ex = ex[
        ex.status.isin(["FAILED", "TIMED_OUT", "ABORTED"]) & (ex.start_time >= start) & (ex.start_time < END)
    ]
    want = ex.groupby([ex.state_machine_arn, ex.start_time.dt.hour]).size()
    got = cells.set_index(["state_machine_arn", "hour"])["failures"]
    assert dict(got) == {k: int(v) for k, v in want.items()}
    q.close()


def _answers(path: str, machine: str | None = "payments-settlement-batch") -> dict[str, pd.DataFrame]:
    q = queries.connect(path)
    sm = q.state_machines()
    arn = sm.loc[sm["name"] == machine, "state_machine_arn"].iloc[0]
    start = END - timedelta(days=20, hours=5)
    out = {
        "report": q.sla_report(CONFIG, end=END, by="state_machine"),
        "series": q.sla_attainment_series(CONFIG, start, END, grain="day", domain="payments"),
        "burndown": q.budget_burndown(CONFIG, END, state_machine_arn=arn),
        "machine_hour": q.failures_by_machine_hour(start, END),
        "groups": q.error_groups(start, END),
        "triage": q.triage_list(start, END, limit=40),
    }
    q.close()
    return out


@pytest.mark.parametrize("variant", ["none", "some"])
def test_a_lake_missing_derived_partitions_is_refused_then_mended(lakes, variant, tmp_path, capsys):
    """No figure is made from a lake with holes: each question says which command mends it, and after
    `stepscope rebuild-derived` the derived files and every answer equal the lake written whole."""
    path = tmp_path / variant
    shutil.copytree(lakes[variant], path)
    q = queries.connect(str(path))
    for ask in (
        lambda: q.sla_report(CONFIG, end=END),
        lambda: q.triage_list(END - timedelta(days=30), END),
        lambda: q.sla_attainment_series(CONFIG, END - timedelta(days=30), END),
    ):
        with pytest.raises(LakeFormatError, match=r"have no (sla_facts|failures).*stepscope rebuild-derived"):
            ask()
    q.close()
    assert cli.main(["sla", "--lake", str(path), "--at", "2026-03-17"]) == 3
    assert "stepscope rebuild-derived --lake" in capsys.readouterr().err
    assert cli.main(["rebuild-derived", "--lake", str(path)]) == 0
    n = len(Lake(str(path)).partitions("executions"))
    assert f"rebuilt the derived tables of {n} partitions" in capsys.readouterr().err
    for table in DERIVED:
        parts = sorted((Path(lakes["full"]) / table).rglob("part-0.parquet"))
        assert len(parts) == n
        for p in parts:
            assert (path / p.relative_to(lakes["full"])).read_bytes() == p.read_bytes()
    full, mended = _answers(lakes["full"]), _answers(str(path))
    assert full["triage"]["execution_arn"].nunique() == len(full["triage"]) > 2
    for question, df in full.items():
        pd.testing.assert_frame_equal(df, mended[question], obj=question)


def test_a_format_1_lake_is_refused_by_the_queries_and_upgraded_by_one_command(lakes, tmp_path, capsys):
    """Format 1 kept the Step Functions positions in collection_state: the upgrade moves them to cursors
    (nothing lost), writes the derived tables and the format; `rebuild-sla-facts` still works."""
    old = tmp_path / "old"
    shutil.copytree(lakes["none"], old)
    cursors = Lake(str(old)).read("cursors").to_pandas()
    cursors = cursors[cursors["source"] == "histories"]  # format 1 had only these
    state = cursors.rename(
        columns={
            "key": "state_machine_arn",
            "open_items": "open_executions",
            "incomplete_items": "incomplete_histories",
        }
    ).drop(columns=["source"])
    shutil.rmtree(old / "cursors")
    (old / "collection_state").mkdir()
    state.to_parquet(old / "collection_state" / "part-0.parquet")
    meta = json.loads((old / "_stepscope.json").read_text())
    (old / "_stepscope.json").write_text(json.dumps({**meta, "format_version": 1}))
    with pytest.raises(LakeFormatError, match=f"is in format 1, this version reads format {FORMAT_VERSION}"):
        queries.connect(str(old))
    assert cli.main(["rebuild-derived", "--lake", str(tmp_path / "nothing")]) == 3
    assert cli.main(["rebuild-sla-facts", "--lake", str(old)]) == 0  # the earlier name still works
    assert Lake(str(old)).format_version() == FORMAT_VERSION and not (old / "collection_state").exists()
    moved = Lake(str(old)).read("cursors").to_pandas()
    pd.testing.assert_frame_equal(
        moved.sort_values("key", ignore_index=True), cursors.sort_values("key", ignore_index=True)
    )
    assert len(moved) == 14 and (moved["source"] == "histories").all()
    full, upgraded = _answers(lakes["full"]), _answers(str(old))
    for question, df in full.items():
        pd.testing.assert_frame_equal(df, upgraded[question], obj=question)


ROOT = ["root_state", "root_error", "root_cause", "root_path"]


def test_a_format_2_lake_gets_its_root_failures_replayed_from_its_events(tmp_path, capsys):
    """Format 2 had no root failure: the upgrade replays it from the stored events and gets what the
    collector computed from the raw histories; a partition already done is not redone."""
    full = tmp_path / "full"
    build_demo(str(full), days=3, executions=3000, seed=11, end=END, events="all")
    want = Lake(str(full)).read("executions").to_pandas()
    assert want["root_state"].notna().sum() > 20
    assert (want["root_state"] != want["failed_state"]).sum() > 5  # Catch → Fail: the root is elsewhere
    old = tmp_path / "old"
    shutil.copytree(full, old)
    parts = sorted((old / "executions").rglob("part-0.parquet"))
    for p in parts:
        pd.read_parquet(p).drop(columns=ROOT).to_parquet(p)
    meta = json.loads((old / "_stepscope.json").read_text())
    (old / "_stepscope.json").write_text(json.dumps({**meta, "format_version": 2}))
    with pytest.raises(LakeFormatError, match="is in format 2"):
        queries.connect(str(old))
    assert cli.main(["rebuild-derived", "--lake", str(old)]) == 0
    got = Lake(str(old)).read("executions").to_pandas()
    key = ["execution_arn"]
    pd.testing.assert_frame_equal(
        got.sort_values(key, ignore_index=True)[key + ROOT],
        want.sort_values(key, ignore_index=True)[key + ROOT],
    )
    failures = Lake(str(old)).read("failures").to_pandas().sort_values(key, ignore_index=True)
    failed = want[want["status"].isin(["FAILED", "TIMED_OUT", "ABORTED"])].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(failures[key + ROOT], failed[key + ROOT])  # the derived table has them too
    assert Lake(str(old)).format_version() == FORMAT_VERSION


def test_a_lake_from_a_newer_version_is_refused(lakes, tmp_path):
    new = tmp_path / "new"
    shutil.copytree(lakes["full"], new)
    meta = json.loads((new / "_stepscope.json").read_text())
    (new / "_stepscope.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(LakeFormatError, match="written by a newer Stepscope"):
        queries.connect(str(new))
