"""The metrics source against a real moto server: datapoints put for tagged and untagged machines
and the Lambda functions they call, collected twice; and every AWS operation a full `collect` makes
checked against the README's IAM policy."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from lakecheck import run
from scenario import ROLE, wait_terminal

from collectors.aws import targets
from collectors.ratelimit import RateLimiter
from lake.store import Lake

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ACCT, REGION = "123456789012", "us-east-1"


def definition(*functions: str) -> str:
    """A Task per function: the first by its bare ARN (with an alias), the others through lambda:invoke."""
    states: dict[str, Any] = {}
    for i, fn in enumerate(functions):
        nxt = {"Next": f"S{i + 1}"} if i + 1 < len(functions) else {"End": True}
        if i == 0:
            states[f"S{i}"] = {
                "Type": "Task",
                "Resource": f"arn:aws:lambda:{REGION}:{ACCT}:function:{fn}:live",
                **nxt,
            }
        else:
            states[f"S{i}"] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": fn, "Payload.$": "$"},
                **nxt,
            }
    return json.dumps({"StartAt": "S0", "States": states})


def machine(sfn: Any, name: str, domain: str | None, *functions: str) -> str:
    tags = [{"key": "domain", "value": domain}] if domain else []
    return sfn.create_state_machine(name=name, definition=definition(*functions), roleArn=ROLE, tags=tags)[
        "stateMachineArn"
    ]


def test_the_lake_holds_exactly_what_was_put_for_the_tagged_machines(moto, tmp_path: Path):
    sfn, cw = boto3.client("stepfunctions"), boto3.client("cloudwatch")
    claims = machine(sfn, "claims", "claims", "score", "ground")
    intake = machine(sfn, "intake", "intake", "ground")
    stray = machine(sfn, "stray", None, "strayfn")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    put: Counter[tuple[str, str, str]] = Counter()  # (namespace, metric, dimension value) → sum put
    for i in range(6):
        ts = now - timedelta(minutes=50 - 7 * i)
        data = [
            ("AWS/States", "ExecutionsSucceeded", "StateMachineArn", claims, 3 + i),
            ("AWS/States", "ExecutionsFailed", "StateMachineArn", intake, i % 2),
            ("AWS/States", "ExecutionsSucceeded", "StateMachineArn", stray, 100),
            ("AWS/Lambda", "Invocations", "FunctionName", "score", 10 + i),
            ("AWS/Lambda", "Errors", "FunctionName", "ground", 1),
            ("AWS/Lambda", "Invocations", "FunctionName", "strayfn", 100),
        ]
        for ns, metric, dim, value, v in data:
            cw.put_metric_data(
                Namespace=ns,
                MetricData=[
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": dim, "Value": value}],
                        "Timestamp": ts,
                        "Value": v,
                        "Unit": "Count",
                    }
                ],
            )
            put[(ns, metric, value)] += v
        cw.put_metric_data(
            Namespace="AWS/States",
            MetricData=[
                {"MetricName": "OpenExecutionCount", "Timestamp": ts, "Value": 40 + i, "Unit": "Count"}
            ],
        )

    lake = tmp_path / "lake"
    first = run(lake, since=now - timedelta(hours=2))
    second = run(lake, since=now - timedelta(hours=2))
    assert not first.errors and not second.errors
    t = Lake(str(lake)).read("metrics")
    got = t.to_pylist()
    keys = [
        (r["namespace"], r["metric_name"], r["dimensions"], r["stat"], r["period_s"], r["timestamp"])
        for r in got
    ]
    assert len(keys) == len(set(keys)) == 6 * 5  # none duplicated by the second run
    sums: Counter[tuple[str, str, str]] = Counter()
    for r in got:
        if r["dimensions"] != "{}":
            sums[(r["namespace"], r["metric_name"], next(iter(json.loads(r["dimensions"]).values())))] += r[
                "value"
            ]
    assert sums == {k: v for k, v in put.items() if stray not in k and "strayfn" not in k}
    opened = sorted((r["timestamp"], r["value"]) for r in got if r["metric_name"] == "OpenExecutionCount")
    assert [v for _, v in opened] == [40.0 + i for i in range(6)]
    joins = {(r["metric_name"], r["state_machine_arn"], r["function_name"]) for r in got}
    assert ("ExecutionsSucceeded", claims, None) in joins and ("Errors", None, "ground") in joins
    # ground is called by two domains: its series belongs to neither; score's to claims.
    dom = {r["function_name"]: d for r, d in zip(got, _domains(lake, t), strict=True) if r["function_name"]}
    assert dom == {"score": "claims", "ground": None}
    assert first.counts["functions"] == 2 and first.counts["datapoints"] == second.counts["datapoints"] == 30


def _domains(lake: Path, t: Any) -> list[str | None]:
    """The domain of each row of `Lake.read("metrics")`, read back through DuckDB's Hive partitioning."""
    import duckdb

    con = duckdb.connect()
    q = "select namespace, metric_name, dimensions, timestamp, domain from read_parquet($glob, hive_partitioning=true)"
    got = con.execute(q, {"glob": f"{lake}/metrics/*/*/*.parquet"}).fetchall()
    by = {(n, m, d, ts): dom for n, m, d, ts, dom in got}
    return [by[(r["namespace"], r["metric_name"], r["dimensions"], r["timestamp"])] for r in t.to_pylist()]


def express_machine(sfn: Any, name: str, domain: str) -> str:
    """An EXPRESS machine logging ALL to a log group of its own."""
    group = f"/aws/vendedlogs/states/{name}"
    boto3.client("logs").create_log_group(logGroupName=group)
    return sfn.create_state_machine(
        name=name,
        definition=definition("score"),
        roleArn=ROLE,
        type="EXPRESS",
        loggingConfiguration={
            "level": "ALL",
            "includeExecutionData": False,
            "destinations": [
                {
                    "cloudWatchLogsLogGroup": {
                        "logGroupArn": f"arn:aws:logs:{REGION}:{ACCT}:log-group:{group}:*"
                    }
                }
            ],
        },
        tags=[{"key": "domain", "value": domain}],
    )["stateMachineArn"]


IAM_PREFIX = {
    "stepfunctions": "states",
    "resourcegroupstaggingapi": "tag",
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "xray": "xray",
}


def readme_policy() -> set[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"IAM permissions the collector needs.*?```json\n(.*?)```", text, re.S)
    assert block, "the README's IAM policy block"
    return {a for st in json.loads(block.group(1))["Statement"] for a in st["Action"]}


def test_every_operation_of_a_full_collect_is_in_the_readme_policy_and_nothing_else(moto, tmp_path: Path):
    sfn = boto3.client("stepfunctions")
    arn = machine(sfn, "claims", "claims", "score")
    sfn.start_execution(stateMachineArn=arn, input="{}")
    express_machine(sfn, "claims-express", "claims")  # its executions are read from its log group
    boto3.client("cloudwatch").put_metric_data(
        Namespace="AWS/States",
        MetricData=[
            {
                "MetricName": "ExecutionsStarted",
                "Dimensions": [{"Name": "StateMachineArn", "Value": arn}],
                "Value": 1,
            }
        ],
    )
    traced = put_traced_execution(sfn)
    used: set[str] = set()
    normal = run(tmp_path / "a")  # every source, discovery through the tagging API
    used |= set(normal.api["calls"])
    # Where the tagging API is denied, discovery lists the machines instead (moto cannot deny it).
    limiter = RateLimiter()
    (t,) = targets([REGION], [], limiter)
    tagging = boto3.client("resourcegroupstaggingapi", region_name=REGION)
    limiter.attach(tagging, t.account_id, REGION)
    t._clients["resourcegroupstaggingapi"] = tagging
    with Stubber(tagging) as stub:
        stub.add_client_error("get_resources", "AccessDeniedException", "denied", 400)
        fallback = run(tmp_path / "b", limiter=limiter, targets=[t])
    used |= set(fallback.api["calls"])
    assert (
        not normal.errors
        and not fallback.errors
        and fallback.discovery[f"{ACCT}/{REGION}"].startswith("list")
    )
    # Where segments go to CloudWatch Logs (Transaction Search), traces are retrieved instead (moto has no such
    # destination).
    limiter = RateLimiter()
    (t,) = targets([REGION], [], limiter)
    xray = boto3.client("xray", region_name=REGION)
    limiter.attach(xray, t.account_id, REGION)
    t._clients["xray"] = xray
    with Stubber(xray) as stub:
        stub.add_response(
            "get_trace_segment_destination", {"Destination": "CloudWatchLogs", "Status": "ACTIVE"}
        )
        stub.add_response("get_trace_summaries", {"TraceSummaries": [{"Id": traced}]})
        stub.add_response("start_trace_retrieval", {"RetrievalToken": "t"})
        stub.add_response("list_retrieved_traces", {"RetrievalStatus": "COMPLETE", "Traces": []})
        searched = run(tmp_path / "c", limiter=limiter, targets=[t])
    used |= set(searched.api["calls"])
    assert normal.counts["traces"] == 1 and not searched.errors and "Transaction Search" in searched.text()
    actions = {f"{IAM_PREFIX[op.split('.')[0]]}:{op.split('.')[1]}" for op in used}
    assert actions == readme_policy()


def put_traced_execution(sfn: Any) -> str:
    """A finished execution of a machine with tracing on, and its trace in X-Ray; returns the trace id."""
    arn = sfn.create_state_machine(
        name="traced",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
        tags=[{"key": "domain", "value": "claims"}],
        tracingConfiguration={"enabled": True},
    )["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, name="t0", input="{}")["executionArn"]
    wait_terminal(sfn, [ex])
    d = sfn.describe_execution(executionArn=ex)
    trace_id = f"1-{int(d['startDate'].timestamp()):08x}-{'0' * 24}"
    doc = {
        "id": "0123456789abcdef",
        "trace_id": trace_id,
        "name": "traced",
        "origin": "AWS::StepFunctions::StateMachine",
        "resource_arn": ex,
        "start_time": d["startDate"].timestamp(),
        "end_time": d["stopDate"].timestamp(),
    }
    boto3.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps(doc)])
    return trace_id
