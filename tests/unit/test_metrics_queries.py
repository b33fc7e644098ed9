"""The metric questions on a tiny lake (metrics_tiny_lake.py): each expected figure is recomputed here from
the raw datapoints and executions with plain pandas / DuckDB, never read back from the answer."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pandas as pd
import pytest

import queries
from lake.derived import METRICS_DAILY_KEY, WEIGHTS
from lake.layout import NO_DOMAIN
from lake.store import Lake
from lake.upgrade import LakeFormatError
from queries.metrics import (
    EXPRESS_GB_SECOND_USD,
    EXPRESS_REQUEST_USD,
    Metrics,
    bucket_seconds,
    completeness,
    near_limit,
)
from stepscope import cli
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

    def on_d1(metric: str, stat: str) -> dict:
        return {t: v for t, v in tiny.LAMBDA[(metric, stat)] if t < D2}

    inv, p95, avg = on_d1("Invocations", "Sum"), on_d1("Duration", "p95"), on_d1("Duration", "Average")
    assert f["invocations"] == sum(inv.values()) == 40
    assert f["errors"] == 1 and f["throttles"] == 2
    assert f["p95_ms"] == pytest.approx(sum(p95[t] * inv[t] for t in inv) / sum(inv.values()))  # 175
    assert f["mean_ms"] == pytest.approx(sum(avg[t] * inv[t] for t in inv) / sum(inv.values()))
    assert f["max_ms"] == max(on_d1("Duration", "Maximum").values())
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


# -- the daily rollup: what the functions, Express costs and the ledger read for whole days ----------------
def _datapoints(metrics: Metrics) -> pd.DataFrame:
    """Every raw datapoint of the tiny lake, with its partition (domain NULL for account level)."""
    glob = f"{metrics.q.lake.uri}/metrics/*/*/*.parquet"
    return duckdb.execute(
        "SELECT * FROM read_parquet($g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR'})",
        {"g": glob},
    ).df()


SERIES = ["domain", "date", *METRICS_DAILY_KEY]  # a series of one day


def test_the_daily_rollup_is_each_days_datapoints_summed(metrics: Metrics) -> None:
    """metrics_daily, recomputed with pandas from the datapoints: per series and day the count, sum,
    lowest and highest, and for Lambda Duration the Invocations at the same time as its weight."""
    points = _datapoints(metrics)
    points["domain"] = points["domain"].fillna(NO_DOMAIN)
    points["date"] = points["date"].astype(str)
    same = ["account_id", "region", "namespace", "dimensions", "period_s", "timestamp"]
    counts = points[points["stat"] == "Sum"][[*same, "metric_name", "value"]]
    counts = counts.rename(columns={"metric_name": "weight_metric", "value": "weight"})
    points["weight_metric"] = [
        WEIGHTS.get((n, m)) for n, m in zip(points["namespace"], points["metric_name"], strict=True)
    ]
    paired = points.merge(counts, on=[*same, "weight_metric"], how="left")
    paired["weighted"] = paired["value"] * paired["weight"]
    want = (
        paired.groupby(SERIES)
        .agg(
            datapoints=("value", "size"),
            value_sum=("value", "sum"),
            value_min=("value", "min"),
            value_max=("value", "max"),
            weight_sum=("weight", lambda w: w.sum(min_count=1)),
            weighted_sum=("weighted", lambda w: w.sum(min_count=1)),
        )
        .reset_index()
        .sort_values(SERIES, ignore_index=True)
    )
    got = pd.read_parquet(f"{metrics.q.lake.uri}/metrics_daily/part-0.parquet")
    got = got.sort_values(SERIES, ignore_index=True)[want.columns]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    p95 = got[(got["metric_name"] == "Duration") & (got["stat"] == "p95") & (got["date"] == "2025-03-04")]
    # D2: 120 x 20 + 300 x 5 (09:02 had no Invocations datapoint: no weight); the highest is 500
    assert p95[["weight_sum", "weighted_sum", "value_max"]].values.tolist() == [[25, 3900, 500]]


def _functions_from_datapoints(points: pd.DataFrame) -> pd.DataFrame:
    """The functions figures as they are defined on the datapoints: per (function, time, period) its
    invocations, errors, throttles and durations; the periods' Average and p95 weighted by invocations."""
    lam = points[points["namespace"] == "AWS/Lambda"]

    def stat(metric: str, stat: str, name: str) -> pd.Series:
        sel = lam[(lam["metric_name"] == metric) & (lam["stat"] == stat)]
        return sel.groupby(["function_name", "timestamp", "period_s"])["value"].sum().rename(name)

    parts = [
        stat("Invocations", "Sum", "inv"),
        stat("Errors", "Sum", "err"),
        stat("Throttles", "Sum", "thr"),
        stat("Duration", "Average", "avg"),
        stat("Duration", "p95", "p95"),
        stat("Duration", "Maximum", "max"),
    ]
    p = pd.concat(parts, axis=1).reset_index()
    rows = []
    for fn, g in p.groupby("function_name"):
        weighted = {
            c: (g[c] * g["inv"]).sum() / g.loc[g[c].notna() & g["inv"].notna(), "inv"].sum()
            for c in ("avg", "p95")
        }
        rows.append(
            {
                "function_name": fn,
                "invocations": g["inv"].sum(),
                "errors": g["err"].sum(),
                "throttles": g["thr"].sum(),
                "mean_ms": weighted["avg"],
                "p95_ms": weighted["p95"],
                "max_ms": g["max"].max(),
            }
        )
    return pd.DataFrame(rows)


def _express_from_datapoints(points: pd.DataFrame) -> pd.DataFrame:
    """Express costs on the datapoints: per machine and time its executions, billed ms and memory;
    GB-seconds = each period's billed duration x its memory, the memory weighted by billed duration."""
    st = points[(points["namespace"] == "AWS/States") & points["state_machine_arn"].notna()]
    pick = {
        ("ExecutionsStarted", "Sum"): "started",
        ("ExpressExecutionBilledDuration", "Sum"): "billed",
        ("ExpressExecutionBilledMemory", "Average"): "memory",
    }
    sel = st[[(m, s) in pick for m, s in zip(st["metric_name"], st["stat"], strict=True)]]
    if sel.empty:
        return pd.DataFrame()
    sel = sel.assign(col=[pick[(m, s)] for m, s in zip(sel["metric_name"], sel["stat"], strict=True)])
    p = sel.pivot_table(
        index=["state_machine_arn", "timestamp"], columns="col", values="value", aggfunc="sum"
    )
    p = p.reindex(columns=["started", "billed", "memory"]).reset_index()
    rows = []
    for arn, g in p.groupby("state_machine_arn"):
        if g["billed"].notna().sum() == 0:
            continue
        mb_ms = (g["billed"] * g["memory"]).sum()
        gb_s = mb_ms / 1000 / 1024
        rows.append(
            {
                "state_machine_arn": arn,
                "executions": g["started"].sum(),
                "billed_ms": g["billed"].sum(),
                "memory_mb": mb_ms / g.loc[g["memory"].notna(), "billed"].sum(),
                "gb_seconds": gb_s,
                "estimated_cost_usd": gb_s * EXPRESS_GB_SECOND_USD + g["started"].sum() * EXPRESS_REQUEST_USD,
            }
        )
    return pd.DataFrame(rows)


PERIODS = {
    "whole days": (D1, D2 + timedelta(days=1)),
    "a partial first day": (tiny.at(D1, 14) + timedelta(seconds=30), D2 + timedelta(days=1)),
    "a partial last day": (D1, tiny.at(D2, 9, 1)),
    "both days partial": (tiny.at(D1, 14, 1), tiny.at(D2, 9, 1) + timedelta(seconds=30)),
    "inside one day": (tiny.at(D2, 9) + timedelta(seconds=30), tiny.at(D2, 9, 5)),
    "one whole day": (D2, D2 + timedelta(days=1)),
}


@pytest.mark.parametrize("period", PERIODS)
def test_rolled_up_figures_are_those_of_the_datapoints_over_any_period(metrics: Metrics, period: str) -> None:
    """Whole days from the rollup, partial days from the datapoints: the same figures as the datapoints
    of [start, end) give by the figures' definitions, recomputed here with pandas."""
    start, end = PERIODS[period]
    points = _datapoints(metrics)
    inside = points[(points["timestamp"] >= start) & (points["timestamp"] < end)]
    want = _functions_from_datapoints(inside)
    got = metrics.functions(start, end)
    assert len(want) == 1 and want.iloc[0]["invocations"] > 0  # every period holds some of f's datapoints
    pd.testing.assert_frame_equal(got, want[got.columns], check_dtype=False)
    costs, expected = metrics.express_costs(start, end), _express_from_datapoints(inside)
    assert len(costs) == len(expected)
    if len(expected):
        pd.testing.assert_frame_equal(costs, expected[costs.columns], check_dtype=False)


def test_a_lake_with_metrics_but_no_rollup_is_refused_then_mended(metrics: Metrics, tmp_path, capsys) -> None:
    """A lake written before the rollup existed: every rolled-up question names the command that writes
    it, and after `stepscope rebuild-derived` the answers are the ones of the lake written whole."""
    old = tmp_path / "old"
    shutil.copytree(metrics.q.lake.uri, old)
    shutil.rmtree(old / "metrics_daily")
    m = Metrics(queries.connect(str(old)))
    for ask in (
        lambda q: q.completeness_ledger(D1, D2 + timedelta(days=1)),
        lambda q: q.functions(D1, D2 + timedelta(days=1)),
        lambda q: q.express_costs(D1, D2),
    ):
        with pytest.raises(
            LakeFormatError, match="has metrics but no metrics_daily.*stepscope rebuild-derived"
        ):
            ask(m)
    assert cli.main(["rebuild-derived", "--lake", str(old)]) == 0
    mended = Metrics(queries.connect(str(old)))
    start, end = PERIODS["both days partial"]
    for ask in (
        lambda q: q.completeness_ledger(D1, D2 + timedelta(days=1)),
        lambda q: q.functions(start, end),
        lambda q: q.express_costs(D1, D2),
    ):
        pd.testing.assert_frame_equal(ask(mended), ask(metrics))


def test_the_first_metrics_write_to_a_lake_without_the_rollup_makes_it_of_every_partition(
    metrics: Metrics, tmp_path
) -> None:
    """A collector writing an older lake: its first metrics partition brings the rollup of all the others."""
    old = tmp_path / "old"
    shutil.copytree(metrics.q.lake.uri, old)
    rollup = pd.read_parquet(old / "metrics_daily" / "part-0.parquet")
    shutil.rmtree(old / "metrics_daily")
    Lake(str(old)).write("metrics", [], domain="pay", date=D2.date().isoformat())  # nothing new in it
    again = pd.read_parquet(old / "metrics_daily" / "part-0.parquet")
    assert len(rollup) > 20 and set(rollup["date"]) == {"2025-03-03", "2025-03-04"}
    pd.testing.assert_frame_equal(again, rollup)
