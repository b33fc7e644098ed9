"""The metrics source over botocore's Stubber, for what moto cannot do: percentile statistics,
PartialData with NextToken, Messages, Forbidden, a 500-query split, throttling, the period-by-age
rule at its edges, and a window re-collected at a coarser period; plus the pure parts."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber

from collectors.aws import Target
from collectors.cloudwatch.calls import called, function_name
from collectors.cloudwatch.collect import segments
from collectors.cloudwatch.normalize import metric_table
from collectors.cloudwatch.queries import LAMBDA, STATES, Listed, MetricQuery, plan
from collectors.run import Run, Summary
from collectors.source import CollectOptions
from lake.store import Lake
from tests.unit.stubbed import ACCT, REGION, SM, description, discovered

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DEFINITION = {
    "StartAt": "Score",
    "States": {
        "Score": {
            "Type": "Task",
            "Resource": f"arn:aws:lambda:{REGION}:{ACCT}:function:score:live",
            "Next": "Ground",
        },
        "Ground": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "ground:prod", "Payload.$": "$"},
            "Next": "Pick",
        },
        "Pick": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName.$": "$.fn"},
            "End": True,
        },
    },
}
MACHINE = {
    "state_machine_arn": SM,
    "name": "claims",
    "type": "STANDARD",
    "domain": "claims",
    "definition": json.dumps(DEFINITION),
}
FUNCTIONS = {"ground": "claims", "score": "claims"}


def stubbed() -> tuple[Target, Stubber]:
    """A target whose discovery finds the one machine, and the Stubber of its CloudWatch client."""
    return discovered(description(MACHINE["definition"], T0), "cloudwatch")


def add_listing(s: Stubber, api: list[dict] | None = None, integrations: list[dict] | None = None) -> None:
    for dim, found in (("APIName", api), ("ServiceIntegrationResourceArn", integrations)):
        s.add_response(
            "list_metrics", {"Metrics": found or []}, {"Namespace": STATES, "Dimensions": [{"Name": dim}]}
        )


def queries(ns: str, period: int, listed: Listed | None = None) -> list[MetricQuery]:
    return plan(ns, period, [MACHINE], FUNCTIONS if ns == LAMBDA else {}, listed or Listed())


def q(qs: list[MetricQuery], metric: str, stat: str, **dims: str) -> MetricQuery:
    return next(
        x
        for x in qs
        if (x.metric_name, x.stat) == (metric, stat) and (not dims or dict(x.dimensions) == dims)
    )


def result(x: MetricQuery, points: list[tuple[datetime, float]], status: str = "Complete") -> dict:
    return {
        "Id": x.id,
        "Label": x.metric_name,
        "Timestamps": [p[0] for p in points],
        "Values": [p[1] for p in points],
        "StatusCode": status,
    }


def add_data(
    s: Stubber,
    qs: list[MetricQuery],
    start: datetime,
    end: datetime,
    results: list[dict],
    *,
    token: str | None = None,
    next_token: str | None = None,
    messages: list[dict] | None = None,
) -> None:
    params: dict[str, Any] = {
        "MetricDataQueries": [x.api() for x in qs],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    if token:
        params["NextToken"] = token
    resp: dict[str, Any] = {"MetricDataResults": results, "Messages": messages or []}
    if next_token:
        resp["NextToken"] = next_token
    s.add_response("get_metric_data", resp, params)


def run(
    t: Target, lake: Path, now: datetime = T0, since: datetime | None = T0 - timedelta(hours=1), **kw: Any
) -> Summary:
    opts = CollectOptions(lake=str(lake), sources=["metrics"], progress_every=0, since=since, **kw)
    return Run(opts, [t], t.limiter, now=lambda: now, err=io.StringIO(), sleep=lambda s: None).run()


def rows(lake: Path) -> list[dict]:
    return Lake(str(lake)).read("metrics").to_pylist()


def utc_days(a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
    cuts = [a]
    while cuts[-1] < b:
        midnight = datetime.combine(cuts[-1].date() + timedelta(days=1), datetime.min.time(), UTC)
        cuts.append(min(b, midnight))
    return list(zip(cuts, cuts[1:], strict=False))


def at(minutes: int) -> datetime:
    return T0 - timedelta(hours=1) + timedelta(minutes=minutes)


# -- a whole run ---------------------------------------------------------------------------------
def test_percentiles_partial_data_next_token_and_messages(tmp_path: Path):
    t, s = stubbed()
    st, lm = queries(STATES, 60), queries(LAMBDA, 60)
    a, b = T0 - timedelta(hours=1), T0
    failed, p99 = q(st, "ExecutionsFailed", "Sum"), q(st, "ExecutionTime", "p99")
    with s:
        add_listing(s)
        add_data(
            s,
            st,
            a,
            b,
            [result(p99, [(at(1), 812.5), (at(2), 990.0)]), result(failed, [(at(1), 2.0)], "PartialData")],
            next_token="page2",
            messages=[{"Code": "MaxDatapointsExceeded", "Value": "more on the next page"}],
        )
        add_data(s, st, a, b, [result(failed, [(at(3), 1.0), (at(1), 2.0)])], token="page2")
        add_data(
            s,
            lm,
            a,
            b,
            [
                result(q(lm, "Duration", "p95", FunctionName="score"), [(at(4), 140.0)]),
                result(q(lm, "Errors", "Sum", FunctionName="ground"), [(at(4), 3.0)]),
            ],
        )
        summary = run(t, tmp_path)
        s.assert_no_pending_responses()
    assert not summary.errors
    got = {(r["metric_name"], r["stat"], r["timestamp"]): r for r in rows(tmp_path)}
    assert {k: r["value"] for k, r in got.items()} == {
        ("ExecutionTime", "p99", at(1)): 812.5,
        ("ExecutionTime", "p99", at(2)): 990.0,
        ("ExecutionsFailed", "Sum", at(1)): 2.0,  # on both pages: kept once
        ("ExecutionsFailed", "Sum", at(3)): 1.0,
        ("Duration", "p95", at(4)): 140.0,
        ("Errors", "Sum", at(4)): 3.0,
    }
    p95 = got[("Duration", "p95", at(4))]
    assert (p95["function_name"], p95["state_machine_arn"], p95["dimensions"], p95["unit"]) == (
        "score",
        None,
        '{"FunctionName":"score"}',
        "Milliseconds",
    )
    fail = got[("ExecutionsFailed", "Sum", at(1))]
    assert (fail["state_machine_arn"], fail["dimensions"], fail["period_s"]) == (
        SM,
        json.dumps({"StateMachineArn": SM}, separators=(",", ":")),
        60,
    )
    # The machine's and its functions' rows are in the domain's partitions.
    assert {k[0] for k in Lake(str(tmp_path)).partitions("metrics")} == {"claims"}
    c = summary.counts
    assert (c["metric_calls"], c["metric_queries"], c["datapoints"]) == (3, 2 * len(st) + len(lm), 7)
    assert (c["metric_messages"], c["functions"], c["unresolved_functions"]) == (
        1,
        2,
        1,
    )  # Pick's FunctionName.$
    cursors = {
        r["key"]: r for r in Lake(str(tmp_path)).read("cursors").to_pylist() if r["source"] == "metrics"
    }
    assert cursors[STATES]["watermark"] == at(3) and cursors[LAMBDA]["watermark"] == at(4)


def test_monthly_cost_is_series_times_runs_times_price(tmp_path: Path):
    t, s = stubbed()
    n = len(queries(STATES, 60)) + len(queries(LAMBDA, 60))
    with s:
        add_listing(s)
        add_data(s, queries(STATES, 60), T0 - timedelta(hours=1), T0, [])
        add_data(s, queries(LAMBDA, 60), T0 - timedelta(hours=1), T0, [])
        summary = run(t, tmp_path, schedule=timedelta(minutes=10), metric_price=0.02)
    runs = 30 * 24 * 6  # every 10 minutes for 30 days
    assert summary.as_dict()["metric_cost_month_usd"] == round((n + 2) * runs * 0.02 / 1000, 2)
    ledger = json.loads(Lake(str(tmp_path)).read("collection_runs").to_pylist()[0]["summary_json"])
    assert ledger["metric_series"] == n and ledger["metric_cost_month_usd"] == round(
        (n + 2) * runs * 0.02 / 1000, 2
    )
    assert (
        "every 10 min" in summary.text()
        and f"${ledger['metric_cost_month_usd']:,.2f} a month" in summary.text()
    )


def test_forbidden_or_unfinished_series_keep_the_cursor_and_the_rerun_replaces(tmp_path: Path):
    t, s = stubbed()
    st, lm = queries(STATES, 60), queries(LAMBDA, 60)
    started = q(st, "ExecutionsStarted", "Sum")
    inv = q(lm, "Invocations", "Sum", FunctionName="score")
    with s:
        add_listing(s)
        add_data(
            s, st, at(0), T0, [result(started, [(at(5), 4.0)], "PartialData")]
        )  # no NextToken: unfinished
        add_data(s, lm, at(0), T0, [result(inv, [], "Forbidden")])
        first = run(t, tmp_path)
    assert len(first.errors) == 2 and "PartialData" in first.errors[0] and "Forbidden" in first.errors[1]
    cur = {r["key"]: r for r in Lake(str(tmp_path)).read("cursors").to_pylist()}
    assert cur[STATES]["watermark"] is None and cur[STATES]["incomplete_items"] == 1
    t, s = stubbed()
    with s:
        add_listing(s)
        add_data(s, st, at(0), T0, [result(started, [(at(5), 6.0), (at(6), 1.0)])])
        add_data(s, lm, at(0), T0, [result(inv, [(at(7), 9.0)])])
        again = run(t, tmp_path)
    assert not again.errors
    assert sorted((r["metric_name"], r["timestamp"], r["value"]) for r in rows(tmp_path)) == [
        ("ExecutionsStarted", at(5), 6.0),
        ("ExecutionsStarted", at(6), 1.0),
        ("Invocations", at(7), 9.0),
    ]


def test_a_throttle_botocore_gave_up_on_loses_nothing(tmp_path: Path):
    t, s = stubbed()
    with s:
        add_listing(s)
        s.add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
        add_data(s, queries(LAMBDA, 60), at(0), T0, [])
        first = run(t, tmp_path)
    assert any("Throttling" in e for e in first.errors)
    assert first.api["calls"]["cloudwatch.GetMetricData"] == 2
    t, s = stubbed()
    failed = q(queries(STATES, 60), "ExecutionsFailed", "Sum")
    with s:
        add_listing(s)
        add_data(s, queries(STATES, 60), at(0), T0, [result(failed, [(at(9), 1.0)])])
        add_data(s, queries(LAMBDA, 60), at(0), T0, [])
        assert not run(t, tmp_path).errors
    assert [(r["metric_name"], r["value"]) for r in rows(tmp_path)] == [("ExecutionsFailed", 1.0)]


def test_more_than_500_queries_are_split_into_calls_of_500(tmp_path: Path):
    t, s = stubbed()
    apis = [
        {"MetricName": m, "Dimensions": [{"Name": "APIName", "Value": f"Api{i:03}"}]}
        for i in range(150)
        for m in ("ThrottledEvents", "ConsumedCapacity", "ProvisionedBucketSize", "ProvisionedRefillRate")
    ]
    listed = Listed(api_names=frozenset((a["MetricName"], a["Dimensions"][0]["Value"]) for a in apis))
    st = queries(STATES, 60, listed)
    assert len(st) == 622
    last = st[-1]
    with s:
        add_listing(s, api=apis)
        add_data(s, st[:500], at(0), T0, [])
        add_data(s, st[500:], at(0), T0, [result(last, [(at(1), 3.0)])])
        add_data(s, queries(LAMBDA, 60), at(0), T0, [])
        summary = run(t, tmp_path)
        s.assert_no_pending_responses()
    assert summary.counts["metric_calls"] == 3 and summary.counts["metric_series"] == 622 + 14
    (row,) = rows(tmp_path)
    assert (row["metric_name"], row["dimensions"], row["domain"] if "domain" in row else None) == (
        last.metric_name,
        '{"APIName":"Api149"}',
        None,
    )
    assert [k[0] for k in Lake(str(tmp_path)).partitions("metrics")] == ["__HIVE_DEFAULT_PARTITION__"]


# -- the period by age -----------------------------------------------------------------------------
EDGE15 = T0 - timedelta(days=15) + timedelta(hours=1)  # T0 is on the hour: already aligned to 300 s
EDGE63 = T0 - timedelta(days=63) + timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "want"),
    [
        (EDGE15, [(EDGE15, T0, 60)]),
        (EDGE15 - timedelta(seconds=1), [(EDGE15 - timedelta(minutes=5), EDGE15, 300), (EDGE15, T0, 60)]),
        (EDGE63, [(EDGE63, EDGE15, 300), (EDGE15, T0, 60)]),
        (
            EDGE63 - timedelta(seconds=1),
            [(EDGE63 - timedelta(hours=1), EDGE63, 3600), (EDGE63, EDGE15, 300), (EDGE15, T0, 60)],
        ),
        # nothing older than 455 days is asked for
        (
            T0 - timedelta(days=500),
            [
                (T0 - timedelta(days=455) + timedelta(hours=1), EDGE63, 3600),
                (EDGE63, EDGE15, 300),
                (EDGE15, T0, 60),
            ],
        ),
    ],
)
def test_the_period_follows_the_age_at_the_15_and_63_day_edges(start, want):
    assert segments(start, T0, T0) == want


def test_an_older_window_is_asked_at_300_s_then_60_s_and_a_coarser_recollect_replaces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    t, s = stubbed()
    st60 = queries(STATES, 60)
    started60 = q(st60, "ExecutionsStarted", "Sum")
    with s:
        add_listing(s)
        add_data(s, st60, at(0), T0, [result(started60, [(at(m), 1.0) for m in range(10)])])
        add_data(s, queries(LAMBDA, 60), at(0), T0, [])
        run(t, tmp_path)
    assert sum(r["value"] for r in rows(tmp_path)) == 10
    # 20 days later the same window exists only at 300 s: re-collecting it replaces the 60 s datapoints.
    later = T0 + timedelta(days=20)
    edge = later - timedelta(days=15) + timedelta(hours=1)
    st300 = queries(STATES, 300)
    started300 = q(st300, "ExecutionsStarted", "Sum")
    t, s = stubbed()
    with s:
        add_listing(s)
        parts = [
            (ns, period, x, y)
            for ns in (STATES, LAMBDA)
            for a, b, period in ((at(0), edge, 300), (edge, later, 60))
            for x, y in utc_days(a, b)
        ]
        # one request per UTC day of each part, a day's parts of both namespaces together (one write)
        for ns, period, x, y in sorted(parts, key=lambda p: p[2].date()):
            found = [result(started300, [(at(0), 5.0), (at(5), 5.0)])] if (ns, x) == (STATES, at(0)) else []
            add_data(s, queries(ns, period), x, y, found)
        written: list[tuple[str | None, str | None]] = []
        write = Lake.write

        def counted(lake: Lake, table: str, rows: Any, **kw: Any) -> int:
            if table == "metrics":
                written.append((kw.get("domain"), kw.get("date")))
            return write(lake, table, rows, **kw)

        monkeypatch.setattr(Lake, "write", counted)
        run(t, tmp_path, now=later)
        s.assert_no_pending_responses()
    # 21 days of 2 namespaces, one of them in two parts (300 s, then 60 s): each partition written once
    assert len({x.date() for _, _, x, _ in parts}) == 21 and len(parts) == 2 * 22
    assert sorted(written) == sorted(set(written)) and written
    assert sorted((r["period_s"], r["timestamp"], r["value"]) for r in rows(tmp_path)) == [
        (300, at(0), 5.0),
        (300, at(5), 5.0),
    ]


# -- the pure parts --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ref", "want"),
    [
        ("score", ("score", None)),
        ("score:prod", ("score", None)),
        (f"arn:aws:lambda:{REGION}:{ACCT}:function:score:7", ("score", None)),
        (f"{ACCT}:function:score:$LATEST", ("score", None)),
        (
            f"arn:aws:lambda:eu-west-1:{ACCT}:function:score",
            (
                None,
                f"arn:aws:lambda:eu-west-1:{ACCT}:function:score is in {ACCT}/eu-west-1, not {ACCT}/{REGION}",
            ),
        ),
        (
            "arn:aws:lambda:us-east-1:1:layer:x",
            (None, "not a Lambda function ARN: arn:aws:lambda:us-east-1:1:layer:x"),
        ),
    ],
)
def test_function_references(ref, want):
    assert function_name(ref, REGION, ACCT) == want


def test_called_functions_domains_integrations_and_unresolved():
    jsonata = {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "ground"},
                "Next": "B",
            },
            "B": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Arguments": {"FunctionName": "{% $states.input.fn %}"},
                "Next": "C",
            },
            "C": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Arguments": {},
                "End": True,
            },
        },
    }
    other = {
        "state_machine_arn": SM + "2",
        "name": "intake",
        "domain": "intake",
        "definition": json.dumps(jsonata),
    }
    c = called([MACHINE, other], REGION, ACCT)
    assert c.functions == {"ground": None, "score": "claims"}  # ground is shared by two domains
    assert c.integrations == {
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::dynamodb:getItem",
    }
    assert c.unresolved == [
        "claims Pick: FunctionName.$ $.fn is resolved at run time",
        "intake B: FunctionName {% $states.input.fn %} is resolved at run time",
    ]


def test_metric_table_contract():
    x = MetricQuery(
        "m1", STATES, "OpenExecutionCount", "Maximum", 60, {"b": "2", "a": "1"}, "Count", kind="gauge"
    )
    page = {
        "Id": "m1",
        "Timestamps": ["2024-05-01T12:01:00Z", T0],
        "Values": [3, 4.5],
        "StatusCode": "Complete",
    }
    out = metric_table([x], [page, page], account_id=ACCT, region=REGION).to_pylist()
    assert [(r["timestamp"], r["value"], r["dimensions"], r["domain"], r["date"]) for r in out] == [
        (T0, 4.5, '{"a":"1","b":"2"}', None, "2024-05-01"),
        (T0 + timedelta(minutes=1), 3.0, '{"a":"1","b":"2"}', None, "2024-05-01"),
    ]
    with pytest.raises(ValueError, match="answers no query"):
        metric_table([x], [{**page, "Id": "zz"}], account_id=ACCT, region=REGION)
    with pytest.raises(ValueError, match="lowercase"):
        MetricQuery("M1", STATES, "X", "Sum", 60)


def test_the_table_has_exactly_the_columns_of_the_contract(tmp_path: Path):
    x = MetricQuery(
        "m1",
        LAMBDA,
        "Errors",
        "Sum",
        60,
        {"FunctionName": "score"},
        "Count",
        function_name="score",
        domain="claims",
    )
    Lake(str(tmp_path)).write_partitioned(
        "metrics", metric_table([x], [result(x, [(T0, 1.0)])], account_id=ACCT, region=REGION)
    )
    (f,) = (tmp_path / "metrics").rglob("*.parquet")
    assert pq.read_schema(f).names == [
        "account_id",
        "region",
        "namespace",
        "metric_name",
        "stat",
        "period_s",
        "timestamp",
        "value",
        "unit",
        "dimensions",
        "state_machine_arn",
        "function_name",
    ]
    assert f.parent.parent.name == "domain=claims"  # `domain` is the partition column, as in every table


def test_the_cli_takes_a_schedule_and_a_price_and_refuses_nonsense(capsys):
    from stepscope.cli import build_parser

    args = build_parser().parse_args(["collect", "--schedule", "1h", "--metric-price", "0.02"])
    assert (args.schedule, args.metric_price) == (timedelta(hours=1), 0.02)
    assert build_parser().parse_args(["collect"]).schedule == timedelta(minutes=5)
    for bad in (["--schedule", "0s"], ["--metric-price", "-1"], ["--metric-price", "nan"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["collect", *bad])
    assert "expected" in capsys.readouterr().err
