"""Express executions (read from CloudWatch Logs) count like Standard ones: in SLAs, triage and the audit
export, recounted here with plain pandas over a tiny lake; and a lake written before `history_source`
existed is upgraded so DuckDB reads old and new partitions together."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import queries
from collectors.logs.collect import normalize_records
from collectors.logs.mapping import by_execution, parse
from collectors.stepfunctions.normalize import normalize_execution, with_root_failures
from lake.layout import FORMAT_VERSION
from lake.store import Lake
from lake.upgrade import upgrade
from queries import sla_config
from queries.log_coverage import judgement

ACCT, REGION = "123456789012", "us-east-1"
SM = "arn:aws:states:us-east-1:123456789012:stateMachine:"
EXPRESS = {
    "state_machine_arn": SM + "card-auth",
    "name": "card-auth",
    "domain": "payments",
    "type": "EXPRESS",
    "logging_level": "ALL",
    "log_group_arn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*",
    "include_execution_data": False,
    "account_id": ACCT,
    "region": REGION,
}
STANDARD = {**EXPRESS, "state_machine_arn": SM + "refunds", "name": "refunds", "type": "STANDARD"}
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
COLLECTED = datetime(2025, 3, 4, tzinfo=UTC)
CFG = sla_config.parse(
    "defaults: {success_objective: 90%, latency: {threshold_s: 1, objective: 50%}, min_executions: 1, window: 7d}"
)


def records(arn: str, start: datetime, task_ms: int, error: str | None) -> list[str]:
    """ExecutionStarted, a Task, then success or failure: log records as AWS writes them."""
    ts = [start + timedelta(milliseconds=x) for x in (0, 5, 10, 10 + task_ms, 15 + task_ms)]
    end = ("TaskFailed", {"error": error, "cause": "c"}) if error else ("TaskSucceeded", {"output": "{}"})
    last = (
        ("ExecutionFailed", {"error": error, "cause": "c"})
        if error
        else ("ExecutionSucceeded", {"output": "{}"})
    )
    kinds = [
        ("ExecutionStarted", {"input": "{}"}),
        ("TaskStateEntered", {"name": "Authorise"}),
        ("TaskScheduled", {"resource": "invoke", "resourceType": "lambda"}),
        end,
        last,
    ]
    return [
        json.dumps(
            {
                "id": str(i),
                "type": k,
                "details": d,
                "previous_event_id": str(i - 1),
                "event_timestamp": str(int(t.timestamp() * 1000)),
                "execution_arn": arn,
                "redrive_count": "0",
            }
        )
        for i, ((k, d), t) in enumerate(zip(kinds, ts, strict=True), 1)
    ]


def build(path: Path) -> None:
    """card-auth (EXPRESS, from logs): 4 executions, 300, 600, 1500 ms and one failed; refunds (STANDARD,
    from the API): 2 executions, 200 ms and 2000 ms. All on 3 March 2025, domain payments."""
    lake = Lake(str(path))
    norms = []
    for i, (ms, err) in enumerate([(300, None), (600, None), (1500, None), (400, "Issuer.Timeout")]):
        arn = f"arn:aws:states:{REGION}:{ACCT}:express:card-auth:x{i}:x{i}"
        ((a, recs),) = by_execution(
            parse(m) for m in records(arn, T0 + timedelta(minutes=i), ms, err)
        ).items()
        norms.append(normalize_records(EXPRESS, a, recs, collected_at=COLLECTED))
    for i, ms in enumerate([200, 2000]):
        arn = f"arn:aws:states:{REGION}:{ACCT}:execution:refunds:r{i}"
        ((a, recs),) = by_execution(
            parse(m) for m in records(arn, T0 + timedelta(hours=1, minutes=i), ms, None)
        ).items()
        events = [r.event for r in recs]
        desc = {
            "executionArn": a,
            "stateMachineArn": STANDARD["state_machine_arn"],
            "name": f"r{i}",
            "status": "SUCCEEDED",
            "startDate": events[0]["timestamp"],
            "stopDate": events[-1]["timestamp"],
        }
        norms.append(normalize_execution(desc, events, state_machine=STANDARD, collected_at=COLLECTED))
    lake.write("state_machines", [EXPRESS, STANDARD])
    for table, rows in (("events", "events"), ("state_runs", "state_runs")):
        lake.write_partitioned(table, [r for n in norms for r in getattr(n, rows)])
    lake.write_partitioned("executions", [n.execution for n in norms])


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("express") / "lake"
    build(path)
    return path


def plain(lake: Path) -> pd.DataFrame:
    return duckdb.execute("SELECT * FROM read_parquet($g)", {"g": f"{lake}/executions/*/*/*.parquet"}).df()


def test_express_executions_count_in_the_sla_like_standard_ones(lake: Path):
    df = plain(lake)
    assert sorted(df["history_source"]) == ["api", "api", "logs", "logs", "logs", "logs"]
    q = queries.connect(str(lake))
    rep = q.sla_report(CFG, T0 - timedelta(days=1), T0 + timedelta(days=1), by="state_machine").set_index(
        "state_machine_name"
    )
    for name, rows in df.groupby("state_machine_name"):
        r = rep.loc[name]
        assert (r["executions"], r["succeeded"], r["failed"]) == (
            len(rows),
            (rows["status"] == "SUCCEEDED").sum(),
            (rows["status"] != "SUCCEEDED").sum(),
        )
        assert r["within_threshold"] == (rows["duration_ms"] <= 1000).sum()  # every finished one, in time
    assert (rep.loc["card-auth", "executions"], rep.loc["card-auth", "failed"]) == (4, 1)
    dom = q.sla_report(CFG, T0 - timedelta(days=1), T0 + timedelta(days=1)).set_index("key").loc["payments"]
    assert dom["executions"] == len(df) == 6
    q.close()


def test_express_failures_are_triaged_and_every_execution_is_in_the_audit(lake: Path):
    df = plain(lake)
    q = queries.connect(str(lake))
    triage = q.triage_list(T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert list(triage["execution_arn"]) == list(df.loc[df["status"] == "FAILED", "execution_arn"])
    assert triage["execution_arn"].iloc[0].split(":")[5] == "express"
    audit = q.audit_rows("payments", T0 - timedelta(days=1), T0 + timedelta(days=1), CFG)
    assert sorted(audit["execution_arn"]) == sorted(df["execution_arn"])
    q.close()


def test_the_health_judgement_of_machines_read_from_logs(lake: Path):
    q = queries.connect(str(lake))
    cov = q.log_coverage()
    assert list(cov["name"]) == ["card-auth"] and cov["judgeable"].all()
    assert cov["why"].iloc[0] == judgement("ALL", False, "g")[1]
    q.close()
    assert judgement("ERROR", True, "g")[0] is False and "successes" in judgement("ERROR", True, "g")[1]
    assert judgement("FATAL", True, "g")[0] is False
    assert judgement("OFF", None, "g") == judgement("ALL", True, None)
    assert judgement("ALL", True, "g") == (True, "logs ALL: every execution and state is recorded")


def test_a_format_2_lake_is_upgraded_to_mark_its_histories_as_from_the_api(lake: Path, tmp_path: Path):
    old = tmp_path / "old"
    shutil.copytree(lake, old)
    for p in (old / "executions").rglob("part-0.parquet"):  # a format 2 lake: neither column
        pd.read_parquet(p).drop(
            columns=["history_source", "root_state", "root_error", "root_cause", "root_path"]
        ).to_parquet(p)
    for table in ("state_runs", "events"):
        for p in (old / table).rglob("part-0.parquet"):
            pd.read_parquet(p).drop(columns=["history_source"]).to_parquet(p)
    meta = json.loads((old / "_stepscope.json").read_text())
    (old / "_stepscope.json").write_text(json.dumps({**meta, "format_version": 2}))
    # a new partition beside the old ones: DuckDB cannot read the mix
    Lake(str(old)).write(
        "events",
        [{"execution_arn": "a", "event_id": 1, "history_source": "logs"}],
        domain="payments",
        date="2025-03-04",
    )
    with pytest.raises(duckdb.Error, match="history_source"):
        duckdb.execute(
            "SELECT history_source FROM read_parquet($g)", {"g": f"{old}/events/*/*/*.parquet"}
        ).fetchall()
    upgrade(Lake(str(old)), root_failures=with_root_failures)
    assert Lake(str(old)).format_version() == FORMAT_VERSION
    for table in ("executions", "state_runs", "events"):
        got = duckdb.execute(
            "SELECT history_source, count(*) FROM read_parquet($g) GROUP BY 1 ORDER BY 1",
            {"g": f"{old}/{table}/*/*/*.parquet"},
        ).fetchall()
        rows = len(Lake(str(lake)).read(table))
        assert got == ([("api", rows), ("logs", 1)] if table == "events" else [("api", rows)]), table
    sms = Lake(str(old)).read("state_machines").to_pylist()
    assert [m["include_execution_data"] for m in sms] == [False, False]
