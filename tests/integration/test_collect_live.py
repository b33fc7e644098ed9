"""Executions caught RUNNING are revisited until terminal; CLI errors are one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from lakecheck import run
from scenario import ROLE, wait_terminal

from lake.store import Lake

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def approval_flow(queue_url: str) -> dict:
    """Waits on a task token (human review): RUNNING until the test answers, however slow the machine."""
    return {
        "StartAt": "Think",
        "States": {
            "Think": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "Next": "Done",
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }


def approve_all(sqs, queue_url: str, sfn, n: int) -> None:
    answered, deadline = 0, time.monotonic() + 30
    while answered < n:
        assert time.monotonic() < deadline, f"only {answered} of {n} task tokens arrived"
        for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            sfn.send_task_success(taskToken=json.loads(m["Body"])["token"], output="{}")
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            answered += 1


def test_running_executions_are_revisited_until_terminal(moto, tmp_path: Path):
    sfn, sqs = boto3.client("stepfunctions"), boto3.client("sqs")
    queue = sqs.create_queue(QueueName="reviews")["QueueUrl"]
    arn = sfn.create_state_machine(
        name="review",
        definition=json.dumps(approval_flow(queue)),
        roleArn=ROLE,
        tags=[{"key": "domain", "value": "review"}],
    )["stateMachineArn"]
    execs = [sfn.start_execution(stateMachineArn=arn, name=f"r-{i}")["executionArn"] for i in range(3)]
    lake = tmp_path / "lake"

    first = run(lake)
    rows = {r["execution_arn"]: r for r in Lake(str(lake)).read("executions").to_pylist()}
    assert set(rows) == set(execs) and {r["status"] for r in rows.values()} == {"RUNNING"}
    assert {r["stop_time"] for r in rows.values()} == {None}
    state = [s for s in Lake(str(lake)).read("cursors").to_pylist() if s["source"] == "histories"]
    assert [s["open_items"] for s in state] == [3]
    assert first.counts["new"] == 3

    approve_all(sqs, queue, sfn, len(execs))
    wait_terminal(sfn, execs)
    # No look-back: only the newest execution is listed again, the older ones are found
    # through the lake's RUNNING rows and DescribeExecution.
    second = run(lake, lookback=timedelta(0))
    assert second.counts["updated"] == 3
    assert second.api["calls"]["stepfunctions.GetExecutionHistory"] == 3
    assert second.api["calls"]["stepfunctions.DescribeExecution"] >= 2
    rows = {r["execution_arn"]: r for r in Lake(str(lake)).read("executions").to_pylist()}
    assert {r["status"] for r in rows.values()} == {"SUCCEEDED"}
    for a in execs:
        hist = sfn.get_execution_history(executionArn=a)["events"]
        assert rows[a]["event_count"] == len(hist)
        names = [
            r["state_name"] for r in Lake(str(lake)).read("state_runs").to_pylist() if r["execution_arn"] == a
        ]
        assert sorted(names) == ["Done", "Think"]
    assert Lake(str(lake)).read("cursors").to_pylist()[0]["open_items"] == 0

    third = run(lake)
    assert third.api["calls"].get("stepfunctions.GetExecutionHistory", 0) == 0


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environ.update(
        PYTHONPATH=str(ROOT),
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "collectors", "collect", "--lake", str(tmp_path / "lake"), *args],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_without_credentials_says_so_in_one_line(moto_server, tmp_path: Path):
    p = _cli(tmp_path, "--region", "us-east-1", AWS_ENDPOINT_URL=moto_server.url)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "stepscope: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    ]
    assert not (tmp_path / "lake").exists()


def test_cli_unreachable_endpoint(tmp_path: Path):
    p = _cli(
        tmp_path,
        "--region",
        "us-east-1",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
    )
    assert p.returncode == 2
    assert p.stderr.startswith("stepscope: cannot reach the AWS endpoint")
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--since", "yesterday"], "bad --since 'yesterday'"),
        (["--since", "2999-01-01"], "in the future"),
        (["--lookback", "1 hour"], "bad duration '1 hour'"),
        (["--concurrency", "0"], "expected a positive integer"),
    ],
)
def test_cli_bad_options(tmp_path: Path, args, needle):
    p = _cli(tmp_path, *args)
    assert p.returncode == 2
    assert needle in p.stderr
