"""`collect` against a real moto server running the flows for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MotoServer
from lakecheck import contents, files, ms, run
from scenario import DOMAIN, EXPECTED_STATUS

from lake.store import Lake

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_collect_matches_the_api(env, tmp_path: Path):
    acct, sfn = env
    summary = run(tmp_path / "lake")
    assert not summary.errors
    lake = Lake(str(tmp_path / "lake"))
    assert lake.read_meta()["source"] == "aws"

    machines = {r["name"]: r for r in lake.read("state_machines").to_pylist()}
    assert set(machines) == set(DOMAIN)  # untagged and other-key are absent
    for name, row in machines.items():
        desc = sfn.describe_state_machine(stateMachineArn=acct.machines[name])
        assert row["domain"] == DOMAIN[name]
        assert row["definition"] == desc["definition"]
        assert (
            row["type"] == "STANDARD" and row["account_id"] == "123456789012" and row["region"] == "us-east-1"
        )

    execs = {r["execution_arn"]: r for r in lake.read("executions").to_pylist()}
    assert set(execs) == acct.tagged_executions
    assert summary.counts["new"] == len(execs) and summary.api["calls"][
        "stepfunctions.GetExecutionHistory"
    ] == len(execs)
    events = lake.read("events").to_pylist()
    runs = lake.read("state_runs").to_pylist()
    for name, arns in acct.executions.items():
        for arn in arns:
            if name not in DOMAIN:
                assert not any(e["execution_arn"] == arn for e in events)
                continue
            d = sfn.describe_execution(executionArn=arn)
            hist = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            row = execs[arn]
            assert row["status"] == d["status"] == EXPECTED_STATUS[name]
            assert ms(row["start_time"]) == ms(d["startDate"])
            # moto leaves stopDate out of TIMED_OUT executions: the terminal event has it.
            assert ms(row["stop_time"]) == ms(d.get("stopDate") or hist[-1]["timestamp"])
            term = next((v for k, v in hist[-1].items() if k.endswith("EventDetails")), {})
            want_error = d["error"] if "error" in d else term.get("error")
            if d["status"] == "TIMED_OUT" and want_error is None:
                want_error = "States.Timeout"
            assert (row["error"], row["cause"]) == (
                want_error,
                d["cause"] if "cause" in d else term.get("cause"),
            )
            assert (row["root_state"], row["root_error"]) == root_from_history(hist, d["status"], want_error)
            assert row["history_complete"] is True and row["history_error"] is None
            assert row["event_count"] == len(hist)
            assert row["input"] is None and row["output"] is None  # payloads are opt-in
            mine = sorted((e for e in events if e["execution_arn"] == arn), key=lambda e: e["event_id"])
            assert [(e["event_id"], e["type"]) for e in mine] == [(h["id"], h["type"]) for h in hist]
            entered = {
                h["id"]: h["stateEnteredEventDetails"]["name"]
                for h in hist
                if h["type"].endswith("StateEntered")
            }
            visits = {r["entered_event_id"]: r for r in runs if r["execution_arn"] == arn}
            assert {k: v["state_name"] for k, v in visits.items()} == entered
            exited = {
                h["id"]: h["stateExitedEventDetails"]["name"]
                for h in hist
                if h["type"].endswith("StateExited")
            }
            for v in visits.values():
                if v["exited_event_id"] is not None:
                    assert exited[v["exited_event_id"]] == v["state_name"]
                    assert v["exited_event_id"] > v["entered_event_id"]

    def visit(flow: str, state: str) -> list[dict]:
        return [r for r in runs if r["execution_arn"] in acct.executions[flow] and r["state_name"] == state]

    assert execs[acct.executions["pay-fail"][0]]["error"] == "Payment.Rejected"
    caught = execs[acct.executions["pay-catch-fail"][0]]
    assert (caught["failed_state"], caught["error"]) == ("LookupFailed", "Payment.LookupFailed")
    assert (caught["root_state"], caught["root_error"]) == ("Lookup", "DynamoDB.ResourceNotFoundException")
    assert [r["attempts"] for r in visit("pay-retry", "Lookup")] == [2, 2]  # 1 retry each
    assert {r["status"] for r in visit("pay-retry", "Lookup")} == {"FAILED"}
    assert {r["status"] for r in visit("inf-catch", "Ground")} == {"CAUGHT"}
    assert len(visit("inf-map", "Score")) == 3
    assert {r["parent_state"] for r in visit("inf-map", "Score")} == {"Each"}
    assert sorted(r["iteration"] for r in visit("inf-map", "Score")) == [0, 1, 2]
    assert {r["parent_state"] for r in visit("inf-parallel", "Rules")} == {"Both"}


def root_from_history(hist: list[dict], status: str, error: str | None) -> tuple[str | None, str | None]:
    """The root failure of a linear flow read off its history: the last failed task attempt's state and
    error when the execution failed after it, else the last state entered with the execution's error."""
    if status == "SUCCEEDED":
        return None, None
    state, failed = None, None
    for h in hist:
        if h["type"].endswith("StateEntered"):
            state = h["stateEnteredEventDetails"]["name"]
        elif h["type"] in ("TaskFailed", "TaskTimedOut"):
            failed = (state, h[h["type"][0].lower() + h["type"][1:] + "EventDetails"]["error"])
    return failed or (state, error)


def test_second_run_changes_nothing_and_reads_no_history(env, tmp_path: Path):
    lake = tmp_path / "lake"
    run(lake)
    before, before_files = contents(lake), files(lake, "executions", "state_runs", "events")
    again = run(lake)
    assert again.api["calls"].get("stepfunctions.GetExecutionHistory", 0) == 0
    assert again.api["calls"].get("stepfunctions.DescribeExecution", 0) == 0
    assert again.counts["new"] == again.counts["updated"] == 0
    assert again.counts["skipped"] == len(env[0].tagged_executions)
    assert files(lake, "executions", "state_runs", "events") == before_files  # byte-identical
    after = contents(lake)
    assert {k: v for k, v in after.items() if k != "collection_runs"} == {
        k: v for k, v in before.items() if k != "collection_runs"
    }
    assert len(Lake(str(lake)).read("collection_runs")) == 2


def test_domain_filter_collects_only_that_domain(env, tmp_path: Path):
    run(tmp_path / "lake", domains=["payments"])
    execs = Lake(str(tmp_path / "lake")).read("executions").to_pylist()
    want = {e for n, es in env[0].executions.items() if DOMAIN.get(n) == "payments" for e in es}
    assert {r["execution_arn"] for r in execs} == want


def test_cli_collect_writes_the_same_lake(env, moto_server: MotoServer, tmp_path: Path):
    run(tmp_path / "inproc")
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "collectors",
            "collect",
            "--lake",
            str(tmp_path / "cli"),
            "--region",
            "us-east-1",
            "--concurrency",
            "4",
        ],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "state machines" in proc.stderr and "GetExecutionHistory" in proc.stderr
    assert contents(tmp_path / "cli") == contents(tmp_path / "inproc")


def test_assumed_role_two_regions_and_an_s3_lake(env, tmp_path: Path):
    import boto3

    run(tmp_path / "local", domains=["inference"])
    boto3.client("s3").create_bucket(Bucket="lake-bucket")
    summary = run(
        "s3://lake-bucket/stepscope",
        role_arns=["arn:aws:iam::123456789012:role/collector"],
        regions=["us-east-1", "eu-west-1"],
        domains=["inference"],
    )
    assert not summary.errors
    assert summary.discovery == {"123456789012/us-east-1": "tagging", "123456789012/eu-west-1": "tagging"}
    assert contents("s3://lake-bucket/stepscope") == contents(tmp_path / "local")
    assert Lake("s3://lake-bucket/stepscope").read_meta()["source"] == "aws"


def test_payloads_only_with_the_opt_in(env, tmp_path: Path):
    acct, sfn = env
    arn = acct.executions["pay-ok"][0]

    def started_details(lake: Path) -> str:
        return next(
            e["details_json"]
            for e in Lake(str(lake)).read("events").to_pylist()
            if e["execution_arn"] == arn and e["type"] == "ExecutionStarted"
        )

    run(tmp_path / "plain", domains=["payments"])
    assert "amount" not in started_details(tmp_path / "plain")
    run(tmp_path / "lake", domains=["payments"], include_payloads=True)
    rows = {r["execution_arn"]: r for r in Lake(str(tmp_path / "lake")).read("executions").to_pylist()}
    assert rows[arn]["input"] == sfn.describe_execution(executionArn=arn)["input"]
    assert rows[arn]["input_sha256"] is not None
    assert "amount" in started_details(tmp_path / "lake")  # requested with includeExecutionData and kept
