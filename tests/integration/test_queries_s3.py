"""A lake in S3 (a real moto server over HTTP) answers every question exactly as the same lake on disk,
and the audit CLI exports it byte for byte."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.fs as pafs
import pytest
from services import point_boto3_at

import queries
from collectors.simulate import build_demo
from lake.store import Lake
from queries import sla_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
END = datetime(2026, 3, 17, 9, 30, tzinfo=UTC)
S3_LAKE = "s3://stepscope-lake/prod/stepscope"
CONFIG = sla_config.parse("""
defaults: {window: 7d, min_executions: 1, latency: {threshold_s: 30, objective: 90%}}
domains:
  payments:
    window: 28d
    exclusions: [{start: 2026-03-12T22:00:00Z, end: 2026-03-13T02:30:00Z}]
""")


@pytest.fixture(scope="module")
def lakes(moto_server, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The same demo lake on disk and in a moto S3 bucket; boto3 and pyarrow point at moto meanwhile."""
    import boto3

    local = str(tmp_path_factory.mktemp("s3lake") / "lake")
    build_demo(local, days=6, executions=1200, seed=3, end=END, events="all")
    with pytest.MonkeyPatch.context() as mp:
        moto_server.reset()
        point_boto3_at(moto_server.url, mp)
        boto3.client("s3").create_bucket(Bucket="stepscope-lake")
        pafs.copy_files(
            local,
            S3_LAKE[len("s3://") :],
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=Lake(S3_LAKE).fs,
        )
        yield local, S3_LAKE


def answers(uri: str) -> dict[str, object]:
    q = queries.connect(uri)
    start = END - timedelta(days=6)
    machines = q.state_machines()
    triage = q.triage_list(start, END, limit=20)
    arn, sm = triage["execution_arn"].iloc[0], triage["state_machine_arn"].iloc[0]
    out: dict[str, object] = {
        "info": {k: v for k, v in q.lake_info().items() if k != "uri"},
        "domains": q.domains(),
        "machines": machines,
        "sla_domain": q.sla_report(CONFIG, start, END),
        "sla_machine": q.sla_report(CONFIG, end=END, by="state_machine"),
        "series": q.sla_attainment_series(CONFIG, start, END, domain="payments"),
        "burndown": q.budget_burndown(CONFIG, END, domain="payments"),
        "burn_rates": q.burn_rate_alerts(CONFIG, now=END),
        "machine_hour": q.failures_by_machine_hour(start, END),
        "state_day": q.failures_by_state_day(start, END),
        "error_machine": q.failures_by_error_machine(start, END),
        "error_groups": q.error_groups(start, END),
        "triage": triage,
        "execution": q.execution(arn),
        "state_runs": q.execution_state_runs(arn),
        "events": q.execution_events(arn),
        "flow_states": q.flow_states(sm, start, END),
        "flow_edges": q.flow_edges(sm, start, END),
        "flow_paths": q.flow_paths(sm, start, END),
        "durations": q.state_durations(sm, start, END),
        "audit": q.audit_rows("payments", start, END, CONFIG),
        "audit_count": q.audit_count("payments", start, END),
        "health": q.collection_health(now=END),
    }
    q.close()
    return out


def same(a: object, b: object) -> bool:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
        return True
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def test_an_s3_lake_gives_the_same_answers(lakes):
    local, s3 = answers(lakes[0]), answers(lakes[1])
    assert s3["info"]["executions"] > 800 and len(s3["triage"]) >= 10 and len(s3["events"]) > 0
    assert s3["sla_machine"]["p95_ms"].notna().all() and s3["audit_count"] == len(s3["audit"])
    for name in local:
        assert same(local[name], s3[name]), name


def test_the_audit_cli_exports_an_s3_lake(lakes, tmp_path):
    def export(uri: str, folder: Path) -> bytes:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "queries",
                "export-audit",
                "--lake",
                uri,
                "--domain",
                "payments",
                "--from",
                "2026-03-09",
                "--to",
                "2026-03-17",
                "--out",
                str(folder),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return (folder / "payments" / "2026-03-09_2026-03-17.csv").read_bytes()

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    local = export(lakes[0], tmp_path / "a")
    assert local.count(b"\n") > 100
    assert export(lakes[1], tmp_path / "b") == local


@pytest.mark.parametrize(("page", "title"), [("overview", "Overview"), ("sla", "SLA")])
def test_the_dashboard_reads_an_s3_lake(lakes, page, title, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("STEPSCOPE_LAKE", lakes[1])
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=120)
    at.query_params["period"] = "30d"
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [title]
    assert any("Simulated demo data" in i.value for i in at.info)
    assert at.dataframe or at.get("plotly_chart"), "the page shows no figure"
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_missing_s3_lake_is_exit_3(lakes, capsys):
    from stepscope import cli

    assert cli.main(["sla", "--lake", "s3://stepscope-lake/prod/nothing-here"]) == 3
    assert "no lake at s3://stepscope-lake/prod/nothing-here" in capsys.readouterr().err
