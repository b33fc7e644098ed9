"""The metric questions on a tiny lake (metrics_tiny_lake.py): each expected figure is recomputed here from
the raw datapoints and executions with plain pandas / DuckDB, never read back from the answer."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest

import queries
from queries.metrics import (
    EXPRESS_GB_SECOND_USD,
    EXPRESS_REQUEST_USD,
    Metrics,
    bucket_seconds,
    completeness,
    near_limit,
)
from tests.unit import metrics_tiny_lake as tiny
from tests.unit.metrics_tiny_lake import D1, D2, A, B, C, E

TERMINAL = ("ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsAborted", "ExecutionsTimedOut")


@pytest.fixture(scope="module")
def metrics(tmp_path_factory: pytest.TempPathFactory) -> Metrics:
    path = str(tmp_path_factory.mktemp("metrics") / "lake")
    tiny.build(path)
    return Metrics(queries.connect(path))


@pytest.fixture(scope="module")
def ledger(metrics: Metrics) -> pd.DataFrame:
    return metrics.completeness_ledger(D1, D2 + timedelta(days=1)).set_index(["state_machine_arn", "day"])


def _cloudwatch(machine: str, metric: str, day, stat: str = "Sum") -> float:
    return sum(v for t, v in tiny.STATES.get((machine, metric, stat), []) if t.date() == day)


def test_the_lake_side_is_every_execution_by_its_start_day(metrics: Metrics, ledger: pd.DataFrame) -> None:
    glob = f"{metrics.q.lake.uri}/executions/*/*/*.parquet"
    counted = duckdb.connect().execute(
        "SELECT state_machine_arn, start_time::DATE, count(*) FROM read_parquet($g) GROUP BY ALL", {"g": glob}
    )
    expected = {(arn, day): n for arn, day, n in counted.fetchall()}
    got = {k: int(v) for k, v in ledger["lake"].items() if v}
    assert got == expected
    assert got[(A, D1.date())] == 4  # the running one too: the lake holds it


def test_started_is_the_sum_never_the_sample_count(ledger: pd.DataFrame) -> None:
    for (arn, day), row in ledger.iterrows():
        want, got = _cloudwatch(arn, "ExecutionsStarted", day), row["cloudwatch_started"]
        assert got == want or (pd.isna(got) and want == 0), (arn, day)
    a1 = ledger.loc[(A, D1.date())]
    assert a1["cloudwatch_started"] == 4 == _cloudwatch(A, "ExecutionsStarted", D1.date(), "SampleCount") / 2
    assert a1["status"] == "complete" and a1["missing"] == 0


def test_a_redriven_execution_is_finished_once_on_the_day_it_first_ended(ledger: pd.DataFrame) -> None:
    for day in (D1.date(), D2.date()):
        plain = sum(_cloudwatch(A, m, day) for m in TERMINAL)
        again = sum(_cloudwatch(A, "Redriven" + m, day) for m in TERMINAL)
        assert ledger.loc[(A, day), "cloudwatch_finished"] == plain - again
    # a1, a2 and a3's first failure on D1; on D2 only a5 (a3's end after its redrive is not a second one)
    assert ledger.loc[(A, D1.date()), "cloudwatch_finished"] == 3
    assert ledger.loc[(A, D2.date()), "cloudwatch_finished"] == 1
    assert ledger.loc[(A, D2.date()), "cloudwatch_redriven"] == 1


def test_gaps_are_flagged_with_their_likely_cause(ledger: pd.DataFrame) -> None:
    def plain(v: object) -> object:
        return None if pd.isna(v) else v

    causes = {k: tuple(plain(r[c]) for c in ("status", "cause", "missing")) for k, r in ledger.iterrows()}
    assert causes == {
        (E, D1.date()): ("complete", None, 0),
        (A, D1.date()): ("complete", None, 0),
        (A, D2.date()): ("missing", "collection_lag", 2),  # on and after the cursor's day (D2 09:00)
        (B, D1.date()): ("missing", "not_tagged", 2),  # before the first day B has in the lake
        (B, D2.date()): ("complete", None, 0),
        (C, D1.date()): ("extra", "extra", -1),
        (C, D2.date()): ("no_metrics", "no_metrics", None),
    }
    assert "2025-03-04 09:00 UTC" in ledger.loc[(A, D2.date()), "explanation"]
    assert "2025-03-04" in ledger.loc[(B, D1.date()), "explanation"]


def test_the_total_reads_as_executions_collected_of_counted(ledger: pd.DataFrame) -> None:
    total = completeness(ledger.reset_index())
    counted = [(arn, t.date()) for (arn, m, s), pts in tiny.STATES.items() if m == "ExecutionsStarted"
               and s == "Sum" for t, _ in pts]  # fmt: skip
    days = set(counted)
    in_lake = sum(1 for e in tiny.executions() if (e["state_machine_arn"], e["start_time"].date()) in days)
    assert total.collected == in_lake == 10
    assert total.counted == sum(_cloudwatch(a, "ExecutionsStarted", d) for a, d in days) == 13
    assert (total.missing, total.gaps) == (4, 2)
    assert total.text() == "10 of 13 executions collected"


def test_one_domain_only(metrics: Metrics) -> None:
    care = metrics.completeness_ledger(D1, D2 + timedelta(days=1), domain="care")
    assert set(care["state_machine_arn"]) == {C}


def test_headroom_is_the_most_in_each_bucket_against_its_limit(metrics: Metrics) -> None:
    start, end = tiny.at(D1, 14), tiny.at(D1, 15)
    room = metrics.headroom(start, end)
    assert room.attrs["bucket_s"] == bucket_seconds(start, end) == 60
    open_ = room[room["series"] == "open_executions"].set_index("bucket")
    points = dict(tiny.ACCOUNT[("OpenExecutionCount", "Maximum", ())])
    assert {k.to_pydatetime(): v for k, v in open_["value"].items()} == points
    assert (open_["limit"] == 1_000_000).all()
    rate = room[room["series"] == "transitions_per_s"].set_index("bucket")["value"].dropna()
    consumed = tiny.ACCOUNT[("ConsumedCapacity", "Sum", (("ServiceMetric", "StateTransition"),))]
    assert {k.to_pydatetime(): v for k, v in rate.items()} == {t: v / 60 for t, v in consumed}
    throttled = room[room["series"] == "throttled_transitions"]["value"].fillna(0).sum()
    assert throttled == 5 + 7
    assert near_limit(room) == [
        "us-east-1: open executions reached 85% of the limit (850,000 of 1,000,000) at 2025-03-03 14:01 UTC."
    ]
    assert near_limit(room, share=0.2) == near_limit(room) + [
        "us-east-1: state transitions per second reached 20% of the limit (1,000 of 5,000) at 2025-03-03 14:00 UTC."
    ]
    hourly = metrics.headroom(D1, D1 + timedelta(days=7))  # a week: hourly buckets, the most of the hour
    assert hourly.attrs["bucket_s"] == 3600
    hour = hourly[hourly["series"] == "open_executions"]
    assert list(hour["bucket"]) == [tiny.at(D1, 14)] and list(hour["value"]) == [850_000]


def test_function_figures_weight_the_periods_by_invocations(metrics: Metrics) -> None:
    f = metrics.functions(D1, D2).set_index("function_name").loc[tiny.FUNCTION]
    inv = dict(tiny.LAMBDA[("Invocations", "Sum")])
    p95 = dict(tiny.LAMBDA[("Duration", "p95")])
    avg = dict(tiny.LAMBDA[("Duration", "Average")])
    assert f["invocations"] == sum(inv.values()) == 40
    assert f["errors"] == 1 and f["throttles"] == 2
    assert f["p95_ms"] == pytest.approx(sum(p95[t] * inv[t] for t in inv) / sum(inv.values()))  # 175
    assert f["mean_ms"] == pytest.approx(sum(avg[t] * inv[t] for t in inv) / sum(inv.values()))
    assert f["max_ms"] == max(v for _, v in tiny.LAMBDA[("Duration", "Maximum")])
    assert metrics.functions(D1, D2, ["nope"]).empty
    series = metrics.function_series(tiny.FUNCTION, D1, D2)
    assert list(series["invocations"]) == [10, 30] and list(series["throttles"]) == [0, 2]


def test_express_cost_is_billed_gb_seconds_and_requests(metrics: Metrics) -> None:
    costs = metrics.express_costs(D1, D2).set_index("state_machine_arn")
    assert list(costs.index) == [E]
    billed = dict(tiny.STATES[(E, "ExpressExecutionBilledDuration", "Sum")])
    memory = dict(tiny.STATES[(E, "ExpressExecutionBilledMemory", "Average")])
    started = sum(v for _, v in tiny.STATES[(E, "ExecutionsStarted", "Sum")])
    gb_s = sum(billed[t] / 1000 * memory[t] / 1024 for t in billed)  # 20 s × 64 MB + 30 s × 128 MB
    assert costs.loc[E, "gb_seconds"] == pytest.approx(gb_s) == pytest.approx(5.0)
    assert costs.loc[E, "executions"] == started == 2
    assert costs.loc[E, "estimated_cost_usd"] == pytest.approx(
        gb_s * EXPRESS_GB_SECOND_USD + started * EXPRESS_REQUEST_USD
    )


def test_a_lake_without_metrics_has_no_counts(tmp_path) -> None:
    from tests.unit import queries_tiny_lake

    queries_tiny_lake.build(str(tmp_path / "lake"))
    m = Metrics(queries.connect(str(tmp_path / "lake")))
    first = queries_tiny_lake.t(1, 0)
    ledger = m.completeness_ledger(first, first + timedelta(days=3))
    assert len(ledger) and ledger["cloudwatch_started"].isna().all()
    assert set(ledger["status"]) == {"no_metrics"}
    assert completeness(ledger).counted == 0
    assert m.headroom(first, first + timedelta(days=3)).empty
