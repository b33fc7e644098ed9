"""The simulated account: definitions, determinism, ground truth, and the same rows as the collector."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime

import boto3
import duckdb
import pyarrow as pa
import pytest
from botocore.stub import Stubber

from collectors.simulate import GROUND_TRUTH_FILE, World, build_demo, make_plan, records, scenario
from collectors.simulate.build import _days
from collectors.simulate.definitions import enterprise
from collectors.stepfunctions import fetch as sf
from collectors.stepfunctions.normalize import history_event_types, normalize_execution
from lake.asl import parse_definition
from lake.store import Lake
from lake.tables import TABLES

END = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
ARGS = {"days": 14, "executions": 2500, "seed": 11, "end": END}


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("sim") / "lake")
    build_demo(path, **ARGS)
    return path


@pytest.fixture(scope="module")
def truth(lake_dir: str) -> dict:
    with open(f"{lake_dir}/{GROUND_TRUTH_FILE}") as f:
        return json.load(f)


def _sql(lake_dir: str, query: str, **params: object) -> list[tuple]:
    con = duckdb.connect()
    for t in ("executions", "state_runs", "events"):
        glob = Lake(lake_dir).table_glob(t)
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{glob}', hive_partitioning=true)")  # noqa: S608
    return con.execute(query, params).fetchall()


# -- definitions ---------------------------------------------------------------------------------
def test_every_definition_parses_and_every_modelled_state_exists() -> None:
    specs = enterprise()
    assert len(specs) >= 12 and len({s.domain for s in specs}) >= 4
    for s in specs:
        graph = parse_definition(json.dumps(s.definition))
        names = {st.name for st in graph}
        modelled = [*s.states, *s.choices, *s.map_items, *s.map_runs, *s.aborts, *s.stalls]
        assert set(modelled) <= names, (s.name, set(modelled) - names)


def test_the_platform_patterns_are_all_there() -> None:
    states = [(st, s) for s in enterprise() for st in parse_definition(s.definition)]
    resources = {st.resource for st, _ in states if st.resource}
    assert "arn:aws:states:::bedrock:invokeModel" in resources
    assert any(r.endswith(".waitForTaskToken") for r in resources)
    assert any(".sync" in r for r in resources)
    human = [st for st, _ in states if (st.resource or "").endswith(".waitForTaskToken")]
    assert all(
        st.raw.get("HeartbeatSeconds") and st.raw.get("TimeoutSeconds") and st.has_catch for st in human
    )
    assert {st.map_mode for st, _ in states if st.type == "Map"} == {"INLINE", "DISTRIBUTED"}
    assert any(st.type == "Parallel" for st, _ in states)
    assert any(st.has_retry and st.has_catch for st, _ in states)


# -- determinism ---------------------------------------------------------------------------------
def _table(lake: str, name: str) -> pa.Table:
    t = Lake(lake).read(name)
    return t.sort_by([(k, "ascending") for k in TABLES[name].key])


def test_same_seed_builds_an_identical_lake_with_any_number_of_workers(lake_dir: str, tmp_path) -> None:
    again = str(tmp_path / "again")
    build_demo(again, **ARGS, workers=2)  # the fixture was built in one process
    for name in TABLES:
        assert _table(lake_dir, name).equals(_table(again, name)), name
    assert Lake(lake_dir).partitions("executions") == Lake(again).partitions("executions")
    with open(f"{lake_dir}/{GROUND_TRUTH_FILE}") as a, open(f"{again}/{GROUND_TRUTH_FILE}") as b:
        assert json.load(a) == json.load(b)


def test_another_seed_builds_another_lake(lake_dir: str, tmp_path) -> None:
    other = str(tmp_path / "other")
    build_demo(other, **{**ARGS, "seed": 12, "executions": 300, "days": 3})
    assert not set(_table(other, "executions").column("execution_arn").to_pylist()) & set(
        _table(lake_dir, "executions").column("execution_arn").to_pylist()
    )


def test_meta_says_demo_and_a_real_lake_is_never_overwritten(lake_dir: str, tmp_path) -> None:
    meta = Lake(lake_dir).read_meta()
    assert meta["source"] == "demo" and meta["seed"] == 11 and meta["ground_truth"] == GROUND_TRUTH_FILE
    real = Lake(str(tmp_path / "real"))
    real.write_meta(source="aws")
    with pytest.raises(ValueError, match="collected data"):
        build_demo(real.uri, days=1, executions=10, end=END)


# -- the same rows as the collector --------------------------------------------------------------
def _lake_rows(lake_dir: str, table: str, arn: str, domain: str, date: str) -> list[dict]:
    t = Lake(lake_dir).read(table, domain, date)
    rows = [r for r in t.to_pylist() if r["execution_arn"] == arn]
    key = TABLES[table].key[-1]
    return sorted(rows, key=lambda r: r[key])


def _strip(rows: list[dict]) -> list[dict]:
    return sorted(
        ({k: v for k, v in r.items() if k not in ("domain", "date")} for r in rows),
        key=lambda r: (r.get("entered_event_id") or 0, r.get("event_id") or 0),
    )


def _from_logs(desc: dict, events: list[dict], sm: dict, spec, end_ms: int):
    """FilterLogEvents (stubbed) over the records an Express execution wrote → the logs source's rows."""
    from collectors.logs import fetch as lf
    from collectors.logs.collect import normalize_records
    from collectors.logs.mapping import by_execution, parse
    from collectors.simulate.express import log_messages

    logs = boto3.client("logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    messages = log_messages(desc["executionArn"], events, include_data=spec.include_execution_data, desc=desc)
    page = {"events": [{"logStreamName": "s", "timestamp": 0, "message": m} for m in messages]}
    with Stubber(logs) as stub:
        stub.add_response("filter_log_events", page)
        got = list(lf.filter_log_events(logs, "g", records.ms_to_dt(0), records.ms_to_dt(end_ms)))
    ((arn, recs),) = by_execution(parse(e.message) for e in got).items()
    return normalize_records(sm, arn, recs, collected_at=records.ms_to_dt(end_ms))


def test_lake_rows_equal_what_the_collector_makes_of_the_same_boto3_records(lake_dir: str) -> None:
    """Sampled executions: stubbed boto3 responses → fetch_execution → normalize == rows in the lake."""
    plan = make_plan(
        lake_dir, days=ARGS["days"], executions=ARGS["executions"], seed=ARGS["seed"], end=END, events="all"
    )
    world = World(plan)
    client = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    checked, statuses, machines = 0, set(), set()
    for day_ms in _days(plan.start_ms, plan.end_ms)[-4:]:  # the last days hold RUNNING ones too
        day = world.draw_day(day_ms)
        for i in range(0, len(day["m"]), 4):
            desc, events, sm = world.raw(day, i)
            if sm["type"] == "EXPRESS":  # no history API: the records it logged, read as the logs source does
                norm = _from_logs(desc, events, sm, world.specs[int(day["m"][i])], plan.end_ms)
            else:
                stub = Stubber(client)  # validates each response against botocore's output shapes
                stub.add_response("describe_execution", desc)
                stub.add_response("get_execution_history", {"events": events})
                with stub:
                    fetched = sf.fetch_execution(client, records.list_executions_item(desc))
                stub.assert_no_pending_responses()
                norm = normalize_execution(
                    fetched.execution,
                    fetched.events,
                    state_machine=sm,
                    collected_at=records.ms_to_dt(plan.end_ms),
                )
            ex = norm.execution
            where = (ex["execution_arn"], ex["domain"], ex["date"])
            gap = plan.gap
            if gap and sm["name"] == gap.machine and gap.start_ms <= day["start"][i] < gap.end_ms:
                assert not _lake_rows(lake_dir, "executions", *where)  # the collection missed it
                continue
            assert _strip(_lake_rows(lake_dir, "executions", *where)) == _strip([ex])
            assert _strip(_lake_rows(lake_dir, "state_runs", *where)) == _strip(norm.state_runs)
            assert _strip(_lake_rows(lake_dir, "events", *where)) == _strip(norm.events)
            checked += 1
            statuses.add(ex["status"])
            machines.add(ex["state_machine_name"])
    assert checked > 100
    assert {"SUCCEEDED", "FAILED"} <= statuses and len(machines) >= 10


def test_state_machine_and_list_records_have_boto3_shapes(lake_dir: str) -> None:
    client = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    plan = make_plan(
        lake_dir, days=ARGS["days"], executions=ARGS["executions"], seed=ARGS["seed"], end=END, events="all"
    )
    world = World(plan)
    day = world.draw_day(_days(plan.start_ms, plan.end_ms)[-2])
    items = [records.list_executions_item(world.raw(day, i)[0]) for i in range(5)]
    lake_sm = {r["state_machine_arn"]: r for r in Lake(lake_dir).read("state_machines").to_pylist()}
    stub = Stubber(client)
    for s in world.specs:
        stub.add_response("describe_state_machine", records.describe_state_machine(s, plan.start_ms))
        stub.add_response("list_tags_for_resource", records.list_tags_response(s))
    stub.add_response("list_executions", {"executions": items})
    with stub:
        for s in world.specs:
            desc = sf.describe_state_machine(client, s.arn())
            tags = {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceArn=s.arn())["tags"]}
            row = sf.state_machine_row(
                desc,
                sf.Machine(s.arn(), tags),
                "domain",
                records.ACCOUNT_ID,
                s.region,
                lake_sm[s.arn()]["collected_at"],
            )
            assert {k: v for k, v in row.items() if k != "creation_date"} == {
                k: v for k, v in lake_sm[s.arn()].items() if k != "creation_date"
            }
        assert client.list_executions(stateMachineArn=world.specs[0].arn())["executions"] == items


def test_every_event_type_in_the_lake_is_a_real_history_event_type(lake_dir: str) -> None:
    types = {r[0] for r in _sql(lake_dir, "SELECT DISTINCT type FROM events")}
    assert types <= set(history_event_types())
    assert {
        "TaskFailed",
        "MapIterationStarted",
        "ParallelStateStarted",
        "MapRunStarted",
        "ExecutionRedriven",
        "TaskTimedOut",
        "ExecutionAborted",
    } <= types


# -- ground truth --------------------------------------------------------------------------------
def test_the_outage_failures_are_in_the_lake_inside_its_window(lake_dir: str, truth: dict) -> None:
    outage = next(i for i in truth["incidents"] if i["kind"] == "outage")
    start, end = datetime.fromisoformat(outage["start"]), datetime.fromisoformat(outage["end"])
    assert end - start == (end - start).__class__(hours=scenario.OUTAGE_HOURS)
    for m in outage["machines"]:
        inside = _sql(
            lake_dir,
            """
            SELECT count(DISTINCT e.execution_arn),
                   count(DISTINCT CASE WHEN r.state_name = $state AND r.error = $error THEN e.execution_arn END),
                   count(DISTINCT CASE WHEN e.status NOT IN ('SUCCEEDED', 'RUNNING') THEN e.execution_arn END)
            FROM executions e LEFT JOIN state_runs r USING (execution_arn)
            WHERE e.state_machine_arn = $arn AND e.start_time >= $start AND e.start_time < $end""",
            state=outage["state"],
            error=outage["error"],
            arn=m["state_machine_arn"],
            start=start,
            end=end,
        )[0]
        assert inside == (
            m["executions_started_in_window"],
            m["executions_with_state_failed"],
            m["executions_not_succeeded"],
        )
    rag = outage["machines"][0]
    assert rag["executions_started_in_window"] > 0
    assert rag["executions_with_state_failed"] / rag["executions_started_in_window"] > 0.5
    outside = _sql(
        lake_dir,
        """
        SELECT count(*) FILTER (WHERE state_name = $state AND error = $error) / count(*)
        FROM state_runs WHERE state_machine_arn = $arn AND state_name = $state
          AND (entered_time < $start OR entered_time >= $end + INTERVAL 1 DAY)""",
        state=outage["state"],
        error=outage["error"],
        arn=rag["state_machine_arn"],
        start=start,
        end=end,
    )
    assert outside[0][0] < 0.05


def test_true_failure_rates_match_the_lake(lake_dir: str, truth: dict) -> None:
    got = dict(
        ((arn, st), n)
        for arn, st, n in _sql(
            lake_dir, "SELECT state_machine_arn, status, count(*) FROM executions GROUP BY ALL"
        )
    )
    for arn, m in truth["machines"].items():
        assert {st: n for (a, st), n in got.items() if a == arn} == m["by_status"]
        finished = m["executions"] - m["by_status"].get("RUNNING", 0)
        assert m["failure_rate"] == round((finished - m["by_status"].get("SUCCEEDED", 0)) / finished, 6)
    assert (
        sum(m["executions"] for m in truth["machines"].values())
        == _sql(lake_dir, "SELECT count(*) FROM executions")[0][0]
    )
    assert any(m["redriven"] for m in truth["machines"].values())


def test_the_deployment_regresses_latency_from_the_new_version_on(lake_dir: str, truth: dict) -> None:
    dep = next(i for i in truth["incidents"] if i["kind"] == "deployment")
    at = datetime.fromisoformat(dep["start"])
    rows = _sql(
        lake_dir,
        """
        SELECT e.start_time, e.state_machine_version_arn, r.duration_ms
        FROM executions e JOIN state_runs r USING (execution_arn)
        WHERE e.state_machine_arn = $arn AND r.state_name = $state AND r.status = 'SUCCEEDED'""",
        arn=dep["state_machine_arn"],
        state=dep["state"],
    )
    assert {v for t, v, _ in rows if t >= at} == {dep["new_version_arn"]}
    assert {v for t, v, _ in rows if t < at} == {dep["old_version_arn"]}
    before = statistics.median(d for t, _, d in rows if t < at)
    after = statistics.median(d for t, _, d in rows if t >= at)
    assert after > 1.8 * before


def test_the_degradation_slows_the_state_down_over_its_window(lake_dir: str, truth: dict) -> None:
    deg = next(i for i in truth["incidents"] if i["kind"] == "degradation")
    start, end = datetime.fromisoformat(deg["start"]), datetime.fromisoformat(deg["end"])
    rows = _sql(
        lake_dir,
        """
        SELECT entered_time, duration_ms, error FROM state_runs
        WHERE state_machine_arn = $arn AND state_name = $state""",
        arn=deg["state_machine_arn"],
        state=deg["state"],
    )
    before = [d for t, d, _ in rows if t < start]
    late = [d for t, d, _ in rows if t >= start + (end - start) * 2 / 3]
    assert statistics.median(late) > 2 * statistics.median(before)
    timeouts_late = sum(e == "States.Timeout" for t, _, e in rows if t >= start + (end - start) * 2 / 3)
    timeouts_before = sum(e == "States.Timeout" for t, _, e in rows if t < start)
    assert timeouts_late / len(late) > 5 * max(timeouts_before, 1) / len(before)


def test_botocore_rejects_a_record_that_breaks_its_shape(lake_dir: str) -> None:
    """The shape checks above are live: a misspelt details field is refused."""
    from botocore.exceptions import ParamValidationError

    plan = make_plan(
        lake_dir, days=ARGS["days"], executions=ARGS["executions"], seed=ARGS["seed"], end=END, events="all"
    )
    world = World(plan)
    day = world.draw_day(_days(plan.start_ms, plan.end_ms)[-2])
    _, events, _ = world.raw(day, 0)
    events[1]["stateEnteredEventDetail"] = events[1].pop("stateEnteredEventDetails")
    client = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with pytest.raises(ParamValidationError, match="stateEnteredEventDetail"):
        Stubber(client).add_response("get_execution_history", {"events": events})


@pytest.mark.parametrize("mode", ["sample", "none"])
def test_events_modes_keep_every_execution_and_fewer_events(tmp_path, mode: str) -> None:
    s = build_demo(str(tmp_path / mode), days=3, executions=800, seed=5, end=END, events=mode)
    lake = Lake(str(tmp_path / mode))
    assert len(lake.read("executions")) == s.executions > 700
    assert len(lake.read("state_runs")) == s.rows["state_runs"] > s.executions
    events = lake.read("events")
    with_events = set(events.column("execution_arn").to_pylist())
    if mode == "none":
        assert len(events) == 0
    else:
        assert 0 < len(with_events) < s.executions / 20
    assert lake.read_meta()["events_mode"] == mode


def test_demo_command_prints_a_summary_and_rejects_a_bad_end(tmp_path, capsys) -> None:
    from stepscope.cli import main

    assert (
        main(
            [
                "demo",
                "--lake",
                str(tmp_path / "d"),
                "--days",
                "2",
                "--executions",
                "300",
                "--end",
                "2026-03-01T00:00Z",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "executions" in err and "ground truth" in err and "MB on disk" in err
    assert main(["demo", "--lake", str(tmp_path / "e"), "--end", "last tuesday"]) == 2
    assert "bad end 'last tuesday'" in capsys.readouterr().err


# -- CloudWatch metrics ----------------------------------------------------------------------------
TERMINAL_EVENTS = {
    "ExecutionSucceeded": "ExecutionsSucceeded",
    "ExecutionFailed": "ExecutionsFailed",
    "ExecutionAborted": "ExecutionsAborted",
    "ExecutionTimedOut": "ExecutionsTimedOut",
}


def _metric_sql(lake_dir: str, query: str, **params: object) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for t in ("executions", "state_runs", "events", "metrics", "state_machines"):
        glob = Lake(lake_dir).table_glob(t)
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{glob}', hive_partitioning=true)")  # noqa: S608
    # each per-machine datapoint with its period as a half-open window [t0, t1)
    con.execute(
        "CREATE VIEW points AS SELECT state_machine_arn, metric_name, stat, timestamp AS t0, "
        "timestamp + to_seconds(period_s) AS t1, value FROM metrics "
        "WHERE namespace = 'AWS/States' AND state_machine_arn IS NOT NULL"
    )
    return con.execute(query, params).fetchall()


def test_cloudwatch_counts_each_start_the_lake_holds_plus_what_collection_missed(
    lake_dir: str, truth: dict
) -> None:
    [gap] = truth["collection_gaps"]
    rows = _metric_sql(
        lake_dir,
        """
        SELECT p.state_machine_arn, p.t0, p.value, count(e.execution_arn)
        FROM points p LEFT JOIN executions e
          ON e.state_machine_arn = p.state_machine_arn AND e.start_time >= p.t0 AND e.start_time < p.t1
        WHERE p.metric_name = 'ExecutionsStarted' AND p.stat = 'Sum'
        GROUP BY ALL""",
    )
    short: dict[str, float] = {}
    for arn, t0, counted, held in rows:
        if arn == gap["state_machine_arn"] and counted != held:
            day = t0.date().isoformat()
            short[day] = short.get(day, 0) + counted - held
        else:
            assert counted == held, (arn, t0)
    assert short == gap["by_day"] and sum(short.values()) == gap["executions_missing"] > 0
    # and no execution of the lake started in a minute CloudWatch has no datapoint for
    total = _metric_sql(lake_dir, "SELECT sum(value) FROM metrics WHERE metric_name = 'ExecutionsStarted'")
    assert total[0][0] == s_executions(lake_dir) + gap["executions_missing"]


def s_executions(lake_dir: str) -> int:
    return _metric_sql(lake_dir, "SELECT count(*) FROM executions")[0][0]


def test_terminal_and_redrive_counts_are_the_histories_events(lake_dir: str, truth: dict) -> None:
    """Every terminal event of a history (a redriven execution has two) is one ExecutionsX count in its
    period, its end after a redrive one RedrivenExecutionsX too, and each redrive one ExecutionsRedriven."""
    [gap] = truth["collection_gaps"]
    got = _metric_sql(
        lake_dir,
        """WITH ev AS (
            SELECT e.state_machine_arn, v.type, v.timestamp,
                   v.event_id > min(v.event_id) FILTER (WHERE v.type = 'ExecutionRedriven')
                       OVER (PARTITION BY v.execution_arn) AS after_redrive
            FROM events v JOIN executions e USING (execution_arn)
        ), expected AS (
            SELECT p.state_machine_arn, p.metric_name, p.t0, p.value,
                   count(*) FILTER (WHERE p.metric_name = 'ExecutionsRedriven' AND ev.type = 'ExecutionRedriven'
                                    OR p.metric_name = 'Executions' || replace(ev.type, 'Execution', '')
                                       AND ev.type <> 'ExecutionRedriven'
                                    OR p.metric_name = 'RedrivenExecutions' || replace(ev.type, 'Execution', '')
                                       AND coalesce(ev.after_redrive, false)) AS n
            FROM points p LEFT JOIN ev
              ON ev.state_machine_arn = p.state_machine_arn AND ev.timestamp >= p.t0 AND ev.timestamp < p.t1
            WHERE p.stat = 'Sum' AND p.metric_name <> 'ExecutionsStarted' AND p.state_machine_arn <> $gap
            GROUP BY ALL
        )
        SELECT metric_name, sum(value), sum(n), count(*) FILTER (WHERE value <> n) FROM expected GROUP BY 1""",
        gap=gap["state_machine_arn"],
    )
    by_metric = {m: (v, n, bad) for m, v, n, bad in got}
    for metric, (value, n, bad) in by_metric.items():
        assert bad == 0 and value == n, metric
    assert by_metric["ExecutionsSucceeded"][0] > 1000
    assert (
        by_metric["ExecutionsRedriven"][0]
        == by_metric["RedrivenExecutionsSucceeded"][0]
        + by_metric.get("RedrivenExecutionsFailed", (0,))[0]
        + by_metric.get("RedrivenExecutionsTimedOut", (0,))[0]
        + by_metric.get("RedrivenExecutionsAborted", (0,))[0]
        > 0
    )


def test_execution_time_is_start_to_each_end(lake_dir: str) -> None:
    got = _metric_sql(
        lake_dir,
        """WITH ends AS (
            SELECT e.state_machine_arn, v.timestamp, epoch_ms(v.timestamp) - epoch_ms(e.start_time) AS ms
            FROM events v JOIN executions e USING (execution_arn)
            WHERE v.type IN ('ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut')
        ), times AS (
            SELECT state_machine_arn, t0, t1,
                   max(value) FILTER (WHERE stat = 'Average') AS avg_ms,
                   max(value) FILTER (WHERE stat = 'Maximum') AS max_ms
            FROM points WHERE metric_name = 'ExecutionTime' GROUP BY ALL
        )
        SELECT p.state_machine_arn, p.t0, p.avg_ms, p.max_ms, avg(ends.ms), max(ends.ms)
        FROM times p JOIN ends
          ON ends.state_machine_arn = p.state_machine_arn AND ends.timestamp >= p.t0 AND ends.timestamp < p.t1
        GROUP BY ALL""",
    )
    assert len(got) > 1000
    for _, _, avg_ms, max_ms, mean, longest in got:
        assert max_ms == longest and avg_ms == pytest.approx(mean)


def test_lambda_metrics_are_the_task_attempts_and_throttle_in_the_outage(lake_dir: str, truth: dict) -> None:
    """Each function's Invocations, Errors and Throttles are the attempts of the Task states calling it, from
    the histories (a throttled attempt is no invocation), and its throttles pile up during the model outage."""
    from collectors.simulate.cloudwatch import Account

    account = Account(enterprise())
    calls = [
        (s.arn(), state, fn)
        for s, fns in zip(account.specs, account.state_fn, strict=True)
        for state, fn in fns.items()
        if s.name != truth["collection_gaps"][0]["name"]
    ]
    attempts = _metric_sql(
        lake_dir,
        """
        WITH ev AS (
            SELECT e.state_machine_arn, v.type, v.details_json,
                   last_value(CASE WHEN v.type = 'TaskStateEntered' THEN v.state_name END IGNORE NULLS)
                       OVER (PARTITION BY v.execution_arn ORDER BY v.event_id) AS state
            FROM events v JOIN executions e USING (execution_arn)
        ), calls AS (SELECT unnest($arns) AS arn, unnest($states) AS state, unnest($fns) AS fn)
        SELECT c.fn,
               count(*) FILTER (WHERE type IN ('TaskSucceeded', 'TaskTimedOut') OR type = 'TaskFailed'
                                AND details_json->>'error' NOT IN ('Lambda.TooManyRequestsException',
                                    'Lambda.ServiceException', 'Lambda.AWSLambdaException')) AS invocations,
               count(*) FILTER (WHERE type = 'TaskFailed' AND details_json->>'error' NOT IN (
                                    'Lambda.TooManyRequestsException', 'Lambda.ServiceException',
                                    'Lambda.AWSLambdaException')) AS errors,
               count(*) FILTER (WHERE type = 'TaskFailed'
                                AND details_json->>'error' = 'Lambda.TooManyRequestsException') AS throttles
        FROM ev JOIN calls c ON c.arn = ev.state_machine_arn AND c.state = ev.state
        WHERE type IN ('TaskSucceeded', 'TaskFailed', 'TaskTimedOut')
        GROUP BY 1""",
        arns=[a for a, _, _ in calls],
        states=[s for _, s, _ in calls],
        fns=[f for _, _, f in calls],
    )
    counted = {
        (fn, metric): v
        for fn, metric, v in _metric_sql(
            lake_dir,
            "SELECT function_name, metric_name, sum(value) FROM metrics WHERE namespace = 'AWS/Lambda' "
            "AND stat = 'Sum' GROUP BY ALL",
        )
    }
    assert len(attempts) >= 20
    for fn, invocations, errors, throttles in attempts:
        assert counted.get((fn, "Invocations"), 0) == invocations, fn
        assert counted.get((fn, "Errors"), 0) == errors, fn
        assert counted.get((fn, "Throttles"), 0) == throttles, fn
    outage = next(i for i in truth["incidents"] if i["kind"] == "outage")
    fns = sorted({fn for s, fns in zip(account.specs, account.state_fn, strict=True)
                  if s.name in {m["name"] for m in outage["machines"]} for fn in fns.values()})  # fmt: skip
    inside, outside = _metric_sql(
        lake_dir,
        """
        SELECT timestamp >= $start AND timestamp < $end AS inside,
               sum(value) FILTER (WHERE metric_name = 'Throttles') / sum(value) AS rate
        FROM metrics WHERE list_contains($fns, function_name) AND stat = 'Sum'
          AND metric_name IN ('Invocations', 'Throttles')
        GROUP BY 1 ORDER BY 1 DESC""",
        start=datetime.fromisoformat(outage["start"]),
        end=datetime.fromisoformat(outage["end"]),
        fns=fns,
    )
    assert inside[1] > 0.1 and inside[1] > 20 * (outside[1] or 0)


def test_every_gauge_has_a_datapoint_in_each_period_and_its_limit(lake_dir: str) -> None:
    rows = _metric_sql(
        lake_dir,
        """
        SELECT region, metric_name, period_s, count(*), min(value), max(value)
        FROM metrics WHERE namespace = 'AWS/States' AND dimensions IN ('{}', '{"ServiceMetric":"StateTransition"}')
          AND metric_name <> 'ConsumedCapacity'
        GROUP BY ALL""",
    )
    per = {(r, m, p): (n, lo, hi) for r, m, p, n, lo, hi in rows}
    regions = {r for r, _, _ in per}
    assert regions == {"us-east-1", "eu-west-1"}
    minutes = 14 * 24 * 60  # the window's 14 days are all younger than 15 days: one-minute periods
    for r in regions:
        assert per[(r, "OpenExecutionLimit", 60)] == (minutes, 1_000_000, 1_000_000)
        assert per[(r, "OpenExecutionCount", 60)][0] == minutes and per[(r, "OpenExecutionCount", 60)][2] >= 1
        assert per[(r, "ProvisionedRefillRate", 60)][1] == 5_000
    # the most open at once never exceeds the executions of the Region the lake holds
    most = per[("us-east-1", "OpenExecutionCount", 60)][2]
    assert most <= s_executions(lake_dir)


def test_a_first_day_that_draws_no_execution_builds(tmp_path) -> None:
    """A demo ending at 19:00 starts at 19:00 two days before: with this seed its first, five-hour day
    draws no execution at all, and the build goes on with the days that do."""
    path = str(tmp_path / "lake")
    build_demo(path, days=2, executions=300, seed=5, events="none", end=datetime(2026, 12, 1, 19, tzinfo=UTC))
    days = [d for _, d in Lake(path).partitions("executions")]
    assert "2026-11-29" not in days and {"2026-11-30", "2026-12-01"} <= set(days)
    glob = Lake(path).table_glob("executions")
    ((first,),) = duckdb.connect().execute(f"SELECT min(start_time) FROM read_parquet('{glob}')").fetchall()  # noqa: S608
    assert first >= datetime(2026, 11, 30, tzinfo=UTC)
