"""Every question against the tiny hand-made lake in queries_tiny_lake.py (expected values worked by hand)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from queries_tiny_lake import CARE_A, EX, PAY_A, PAY_B, build, t

import queries
from queries import sla_config

START, END = t(1, 0), t(3, 0)  # 1 and 2 January 2025
CFG = sla_config.parse(
    "defaults: {success_objective: 90%, latency: {threshold_s: 5, objective: 50%}, min_executions: 5, window: 7d}"
)


@pytest.fixture(scope="module")
def q(tmp_path_factory):
    path = tmp_path_factory.mktemp("lake")
    build(str(path))
    conn = queries.connect(str(path))
    yield conn
    conn.close()


def test_lake_info_and_catalogue(q):
    info = q.lake_info()
    assert info["source"] == "demo" and info["executions"] == 20 and info["state_machines"] == 3
    assert info["first_start"] == t(31, 12, month=12, year=2024) and info["last_start"] == t(3, 9)
    assert q.domains().to_dict("records") == [
        {"domain": "care", "state_machines": 1, "executions": 6},
        {"domain": "pay", "state_machines": 2, "executions": 14},
    ]
    assert list(q.state_machines("pay")["state_machine_arn"]) == [PAY_A, PAY_B]
    assert q.domain_names() == list(q.domains()["domain"]) == ["care", "pay"]  # from folder names


def test_sla_report_by_domain(q):
    rep = q.sla_report(CFG, START, END).set_index("key")
    pay = rep.loc["pay"]
    # pay: 13 terminal (b4 is RUNNING), 10 succeeded, a2 only after a redrive.
    assert (pay.executions, pay.succeeded, pay.failed, pay.first_attempt_succeeded) == (13, 10, 3, 9)
    assert pay.success_rate == pytest.approx(10 / 13) and pay.first_attempt_success_rate == pytest.approx(
        9 / 13
    )
    # durations 500,1000,1500,2000,2500,3000,4000,...,10000: exact interpolated percentiles
    assert (pay.p50_ms, pay.p95_ms, pay.p99_ms) == pytest.approx((4000, 9400, 9880))
    assert pay.within_threshold == 8 and pay.within_threshold_share == pytest.approx(8 / 13)
    assert pay.budget_total == pytest.approx(1.3) and pay.budget_consumed == 3
    assert pay.budget_remaining == pytest.approx(1 - 3 / 1.3)
    assert pay.latency_budget_remaining == pytest.approx(1 - 5 / 6.5)
    assert pay.status == "BREACHED"
    care = rep.loc["care"]  # c1-c4 in the period: 4 < min_executions 5
    assert (care.executions, care.succeeded, care.status) == (4, 3, "INSUFFICIENT_DATA")


def test_sla_report_by_machine_with_exclusion_and_statuses(q):
    cfg = sla_config.parse("""
defaults: {success_objective: 70%, min_executions: 3, warning_budget_remaining: 50%}
state_machines:
  pay-b: {success_objective: 50%}
  care-a:
    exclusions: [{start: 2025-01-02T12:00:00Z, end: 2025-01-02T12:02:00Z, reason: upgrade}]
""")
    rep = q.sla_report(cfg, START, END, by="state_machine").set_index("key")
    a, b, c = rep.loc[PAY_A], rep.loc[PAY_B], rep.loc[CARE_A]
    # pay-a: 8/10, budget 3 failures, 2 used → 1/3 left < 50% → WARNING
    assert a.success_rate == 0.8 and a.budget_remaining == pytest.approx(1 / 3) and a.status == "WARNING"
    # pay-b: 2/3 against 50%: budget 1.5, 1 used → 1/3 left → WARNING; latency not configured
    assert b.status == "WARNING" and b.within_threshold_share is None
    # care-a: c1 excluded → c2, c3, c4: 2/3 < 70% → BREACHED
    assert (c.executions, c.excluded, c.status) == (3, 1, "BREACHED")
    assert c.domain == "care" and c.state_machine_name == "care-a"


def test_sla_report_rolling_windows_and_empty_keys(q):
    cfg = sla_config.parse("defaults: {window: 7d, min_executions: 1}\ndomains: {ghost: {owner: nobody}}")
    rep = q.sla_report(cfg, end=t(3, 0)).set_index("key")
    assert rep.loc["pay", "executions"] == 13 and rep.loc["care", "executions"] == 5  # c0 on 31 Dec counts
    assert "ghost" not in rep.index  # a key of the file that no domain of the lake has: no made-up row
    assert rep.loc["pay", "period_start"] == t(27, 0, month=12, year=2024)
    # A domain of the lake with nothing in its window still gets its row.
    empty = sla_config.parse("defaults: {window: 7d, min_executions: 1}\ndomains: {care: {window: 7d}}")
    rep = q.sla_report(empty, end=t(20, 0)).set_index("key")
    assert rep.loc["care", "executions"] == 0 and rep.loc["care", "status"] == "INSUFFICIENT_DATA"


def test_attainment_series_and_burndown(q):
    s = q.sla_attainment_series(CFG, START, END, domain="pay")
    assert list(s["executions"]) == [10, 3] and list(s["success_rate"]) == pytest.approx([0.8, 2 / 3])
    assert list(s["within_threshold_share"]) == pytest.approx([0.5, 1.0]) and list(s["success_met"]) == [
        False,
        False,
    ]
    b = q.budget_burndown(CFG, END, domain="pay")  # 7-day window: 27 Dec → 3 Jan
    assert len(b) == 7 and b["ts"].iloc[-1] == END
    assert list(b["failed"]) == [0, 0, 0, 0, 0, 2, 3]
    assert b["budget_remaining"].iloc[-1] == pytest.approx(1 - 3 / 1.3)
    assert b["ideal_remaining"].iloc[0] == pytest.approx(6 / 7) and b["ideal_remaining"].iloc[-1] == 0


def test_burn_rate_alerts(q):
    # min_executions 1: the tiny lake's 13 executions may alert (an alert needs min_executions and 2 failures)
    cfg = sla_config.parse("defaults: {success_objective: 90%, window: 30d, min_executions: 1}")
    al = q.burn_rate_alerts(cfg, now=t(2, 3, 20))
    assert sorted(al["threshold"].unique()) == pytest.approx([1.0, 6.0, 14.4])
    dom = al[(al["domain"] == "pay") & al["state_machine_arn"].isna()].set_index("long_window")
    # 1 h: b1, b2, b3 (1 failed) → burn 1/3 / 0.1; 5 m: b3 alone → 10; 3 d: 13 with 3 failed
    assert dom.loc["1h", "long_burn"] == pytest.approx(10 / 3) and dom.loc[
        "1h", "short_burn"
    ] == pytest.approx(10)
    assert dom.loc["3d", "long_burn"] == pytest.approx(3 / 13 / 0.1)
    assert list(dom["firing"]) == [False, False, True]  # only 3d/6h ≥ 1×
    a = al[al["state_machine_arn"] == PAY_A].set_index("long_window")
    assert math.isnan(a.loc["3d", "short_burn"]) and not a.loc["3d", "firing"]  # no pay-a run in the last 6 h


def test_failure_heatmap_in_time_order(q):
    # a9 (10:08) and a10 (10:09) share the 10:05 five-minute bucket; there is no hour of day then
    mh = q.failures_by_machine_hour(t(1, 10), t(1, 10, 30), bucket_s=300)
    assert [(r.state_machine_name, r.bucket, r.failures) for r in mh.itertuples()] == [
        ("pay-a", t(1, 10, 5), 2)
    ]
    assert mh["hour"].isna().all()
    # 2 January by hour: b3 at 03:16 and c4 at 12:30, each in its own hour of that day
    day = q.failures_by_machine_hour(t(2, 0), t(3, 0), bucket_s=3600)
    assert {(r.state_machine_name, r.bucket, r.failures) for r in day.itertuples()} == {
        ("pay-b", t(2, 3), 1),
        ("care-a", t(2, 12), 1),
    }


def test_failure_heatmaps(q):
    mh = q.failures_by_machine_hour(START, END)
    assert {(r.state_machine_name, r.hour, r.failures) for r in mh.itertuples()} == {
        ("care-a", 12, 1),
        ("pay-a", 10, 2),
        ("pay-b", 3, 1),
    }
    sd = q.failures_by_state_day(START, END, domain="pay")
    assert [(str(r.day.date()), r.root_state, r.failures) for r in sd.itertuples()] == [
        ("2025-01-01", "Charge", 1),
        ("2025-01-01", "Wait", 1),
        ("2025-01-02", "Charge", 1),
    ]
    em = q.failures_by_error_machine(START, END, domain="pay")
    assert {(r.root_error, r.state_machine_name, r.failures) for r in em.itertuples()} == {
        ("States.TaskFailed", "pay-a", 1),
        ("States.TaskFailed", "pay-b", 1),
        ("States.Timeout", "pay-a", 1),
    }


def test_error_groups_by_root_failure_new_first_seen_over_the_whole_lake(q):
    groups = q.error_groups(START, END)
    assert list(groups["is_new"]) == [True, True, False]  # new ones first, then by count
    assert groups.attrs["bucket_s"] == 3600  # a 48 h period: hourly buckets
    g = groups.set_index("error")
    task = g.loc["States.TaskFailed"]
    assert task.cause_pattern == "Order <n> failed at <ts>" and task["count"] == 2 and task.machines == 2
    assert task.is_new and task.sample_execution_arn == EX + "pay-b:b3"
    assert (
        len(task.counts) == 48 and task.counts[10] == 1 and task.counts[24 + 3] == 1 and sum(task.counts) == 2
    )
    care = g.loc["Care.Error"]  # the root error (the execution's is Care.Escalated); failed on 31 Dec too
    assert care.root_state == "Route" and care["count"] == 1
    assert not care.is_new and care.first_seen == t(31, 12, month=12, year=2024)  # before the period
    assert (g["trend"] == "steady").all()  # one or two failures: nothing beyond noise
    assert g["signature"].is_unique and len(g) == 3
    # the triage list carries the same signature as the group of each failure
    tl = q.triage_list(START, END, limit=10).set_index("execution_arn")
    for grp in groups.itertuples():
        assert tl.loc[grp.sample_execution_arn, "signature"] == grp.signature


def test_first_seen_looks_at_the_whole_lake_not_a_look_back(q):
    """c0 failed 2 days before the period with the same root signature as c4: over a 1-hour period ending
    with c4 the group is still old, and over a period before c0 nothing is new that is not."""
    g = q.error_groups(t(2, 12), t(2, 13))
    assert list(g["error"]) == ["Care.Error"] and not g["is_new"].iloc[0]
    assert g.attrs["bucket_s"] == 300 and len(g["counts"].iloc[0]) == 12


@pytest.mark.parametrize(
    ("counts", "want"),
    [
        ([0, 0, 1, 3], "steady"),  # 0 → 4: within two standard deviations (2·√4 = 4)
        ([0, 0, 2, 3], "rising"),  # 0 → 5 > 2·√5
        ([10, 12, 9, 14], "steady"),
        ([40, 38, 10, 12], "falling"),
        ([5, 5, 90, 5, 5], "steady"),  # an odd count: the middle bucket is in neither half
        ([3], "steady"),
    ],
)
def test_trend_is_rising_or_falling_only_beyond_noise(counts, want):
    from queries.api import trend

    assert trend(counts) == want


def test_triage_list_and_execution_detail(q):
    tl = q.triage_list(START, END, limit=3)
    assert list(tl["name"]) == ["c4", "b3", "a10"]
    assert tl.iloc[1]["redrive_status"] == "REDRIVABLE" and tl.iloc[2]["failed_state"] == "Wait"
    ex = q.execution(EX + "pay-a:a1")
    assert ex["status"] == "SUCCEEDED" and ex["domain"] == "pay" and str(ex["date"]) == "2025-01-01"
    assert q.execution(EX + "pay-a:a1", domain="care")["name"] == "a1"  # a wrong hint still finds it
    assert q.execution(EX + "pay-a:nope") is None
    runs = q.execution_state_runs(EX + "pay-a:a1")
    assert list(runs["state_name"]) == ["Validate", "Charge", "Done"]
    assert list(q.execution_events(EX + "pay-a:a1")["event_id"]) == [1, 2, 3]
    assert q.execution_events(EX + "pay-a:nope").empty


def test_flow_statistics(q):
    st = q.flow_states(PAY_A, START, END).set_index("state_name")
    assert (st.loc["Charge", "visits"], st.loc["Charge", "failures"], st.loc["Charge", "retries"]) == (
        3,
        1,
        3,
    )
    assert st.loc["Validate", "p50_ms"] == 1000 and st.loc["Validate", "p95_ms"] == pytest.approx(2800)
    edges = {(r.from_state, r.to_state): r.count for r in q.flow_edges(PAY_A, START, END).itertuples()}
    assert edges == {("Validate", "Charge"): 3, ("Charge", "Done"): 2}
    paths = q.flow_paths(PAY_A, START, END)
    assert list(paths["path"]) == ["Validate → Charge → Done", "Validate → Charge"]
    assert list(paths["executions"]) == [2, 1] and list(paths["failed"]) == [0, 1]
    d = q.state_durations(PAY_A, START, END).set_index("state_name")
    assert d.loc["Charge", "max_ms"] == 4000 and d.loc["Charge", "p90_ms"] == pytest.approx(3600)


def test_audit_rows(q):
    rows = q.audit_rows("pay", START, END, CFG)
    assert list(rows["name"]) == [f"a{i}" for i in range(1, 11)] + ["b1", "b2", "b3", "b4"]
    met = [None if pd.isna(v) else bool(v) for v in rows["sla_met"]]
    assert met == [True] * 5 + [False] * 5 + [True, True, False, None]


def test_missing_tables_give_empty_results(tmp_path):
    build(str(tmp_path), with_events=False)
    q = queries.connect(str(tmp_path))
    assert q.execution_events(EX + "pay-a:a1").empty
    assert q.collection_health().empty
    empty = queries.connect(str(tmp_path / "nothing"))
    assert empty.lake_info()["source"] is None and empty.domains().empty and empty.domain_names() == []
    assert empty.sla_report(CFG, START, END).empty and empty.triage_list(START, END).empty


def test_bad_arguments(q):
    with pytest.raises(ValueError, match="timezone-aware"):
        q.triage_list(START.replace(tzinfo=None), END)
    with pytest.raises(ValueError, match="after start"):
        q.triage_list(END, START)
    with pytest.raises(ValueError, match="by must be"):
        q.sla_report(CFG, START, END, by="team")


def test_burn_rate_domain_rows_use_the_domain_objective(q):
    # pay-a has its own 7-day window; the pay domain row keeps the 30-day one and names no machine.
    cfg = sla_config.parse(
        "defaults: {success_objective: 90%, window: 30d}\nstate_machines: {pay-a: {window: 7d}}"
    )
    al = q.burn_rate_alerts(cfg, now=t(2, 3, 20))
    dom = al[(al["domain"] == "pay") & al["state_machine_arn"].isna()]
    assert (
        sorted(dom["threshold"]) == pytest.approx([1.0, 6.0, 14.4]) and dom["state_machine_name"].isna().all()
    )
    a = al[al["state_machine_arn"] == PAY_A]
    assert sorted(a["threshold"]) == pytest.approx([0.1 * 7 / 3, 0.05 * 7 * 4, 0.02 * 7 * 24], abs=1e-6)
    assert set(a["state_machine_name"]) == {"pay-a"}


def test_several_exclusion_windows(q):
    # pay: 10:00-10:02 on 1 Jan (a1, a2); care-a: 12:02-12:03 on 2 Jan (c2). pay-b ran between the
    # two windows and is judged; every question leaves out the same executions.
    cfg = sla_config.parse("""
defaults: {success_objective: 90%, latency: {threshold_s: 5, objective: 50%}, min_executions: 1, window: 7d}
domains:
  pay: {exclusions: [{start: 2025-01-01T10:00:00Z, end: 2025-01-01T10:02:00Z}]}
state_machines:
  care-a: {exclusions: [{start: 2025-01-02T12:02:00Z, end: 2025-01-02T12:03:00Z}]}
""")
    rep = q.sla_report(cfg, START, END, by="state_machine").set_index("key")
    assert [(rep.loc[k, "executions"], rep.loc[k, "excluded"]) for k in (PAY_A, PAY_B, CARE_A)] == [
        (8, 2),
        (3, 0),
        (3, 1),
    ]
    assert list(q.sla_attainment_series(cfg, START, END, domain="pay")["executions"]) == [8, 3]
    assert list(q.budget_burndown(cfg, END, domain="care")["executions"])[-1] == 4  # c0, c1, c3, c4
    audit = q.audit_rows("pay", START, END, cfg)
    assert [n for n, m in zip(audit["name"], audit["sla_met"], strict=True) if pd.isna(m)] == [
        "a1",
        "a2",
        "b4",
    ]


def test_sla_report_keys_with_different_windows(q):
    # care's calendar month starts on 1 January (c0 on 31 December drops out); pay keeps 7 days.
    cfg = sla_config.parse(
        "defaults: {window: 7d, min_executions: 1}\ndomains: {care: {window: calendar_month}}"
    )
    rep = q.sla_report(cfg, end=t(3, 0)).set_index("key")
    assert (rep.loc["care", "executions"], rep.loc["care", "failed"]) == (4, 1)
    assert rep.loc["care", "period_start"] == t(1, 0) and rep.loc["pay", "period_start"] == t(
        27, 0, month=12, year=2024
    )
    assert rep.loc["pay", "executions"] == 13


def test_sla_report_on_days_wholly_inside_the_windows(q):
    # Days strictly inside every window are read without their start times; these periods put
    # 1-7 January in the middle, with window starts and an exclusion landing inside days.
    rep = q.sla_report(CFG, t(31, 0, month=12, year=2024), t(4, 0)).set_index("key")
    assert (rep.loc["pay", "executions"], rep.loc["care", "executions"]) == (13, 6)
    cfg = sla_config.parse("""
defaults: {window: 7d, min_executions: 1}
state_machines:
  care-a: {window: calendar_month}
  pay-b: {exclusions: [{start: 2025-01-01T23:00:00Z, end: 2025-01-02T03:06:00Z}]}
""")
    rep = q.sla_report(cfg, end=t(8, 10, 4), by="state_machine").set_index("key")
    # 7 days back from 8 Jan 10:04 starts at 1 Jan 10:04: a5..a10; pay-b loses b1, b2 to the exclusion
    # (b4 is still running); care-a's month starts on 1 January: c1..c5.
    assert [(rep.loc[k, "executions"], rep.loc[k, "excluded"]) for k in (PAY_A, PAY_B, CARE_A)] == [
        (6, 0),
        (1, 2),
        (5, 0),
    ]
    assert rep.loc[PAY_A, "p50_ms"] == pytest.approx(7500) and rep.loc[CARE_A, "succeeded"] == 4
    assert rep.loc[PAY_A, "period_start"] == t(1, 10, 4)


def test_domain_counts_come_from_file_footers_with_the_domain_decoded(tmp_path):
    from lake.store import Lake

    lake = Lake(str(tmp_path))
    lake.write_partitioned(
        "executions",
        [
            {"execution_arn": f"x{i}", "status": "SUCCEEDED", "start_time": t(1 + i % 2, 8), "domain": dom}
            for i, dom in enumerate(
                ["Customer Care/EU+x", "Customer Care/EU+x", "Customer Care/EU+x", "pay 100%"]
            )
        ],
        date_column="start_time",
    )
    q = queries.connect(str(tmp_path))
    assert q.domains().to_dict("records") == [
        {"domain": "Customer Care/EU+x", "state_machines": 0, "executions": 3},
        {"domain": "pay 100%", "state_machines": 0, "executions": 1},
    ]
    assert q.domain_names() == ["Customer Care/EU+x", "pay 100%"]  # the folders' names, unquoted
    assert q.lake_info()["executions"] == 4 and q.lake_info()["domains"] == 2
    q.close()


def test_similar_failures_are_the_latest_of_the_same_root_signature_over_the_whole_lake(q):
    sig = q.triage_list(START, END, limit=1)["signature"].iloc[0]  # c4, Route / Care.Error
    got = q.similar_failures(sig)
    assert list(got["name"]) == ["c4", "c0"] and (got["signature"] == sig).all()  # c0: before any period
    assert list(q.similar_failures(sig, before=t(2, 12, 30))["name"]) == ["c0"]
    assert list(q.similar_failures(sig, limit=1)["name"]) == ["c4"]
    assert q.similar_failures("0" * 12).empty
    assert list(q.triage_list(START, END, signature=sig)["name"]) == ["c4"]


def test_error_signatures_file_matches_a_count_from_the_executions(q, tmp_path):
    """The whole-lake rollup, written partition by partition, equals a plain count of the executions."""
    import duckdb

    lake = q.lake
    order = ["domain", "date", "state_machine_arn", "error", "state"]
    got = lake.read("error_signatures").to_pandas().sort_values(order, ignore_index=True)
    # the tiny lake's causes differ only in ids within a group: error and state tell its groups apart
    glob = f"{lake.root}/executions/*/*/*.parquet"
    want = duckdb.execute(
        """SELECT domain, CAST(date AS VARCHAR) AS date, state_machine_arn, root_error AS error,
                   root_state AS state, count(*) AS failures, min(start_time) AS first_seen,
                   max(start_time) AS last_seen
            FROM read_parquet($glob, hive_partitioning = true)
            WHERE status IN ('FAILED', 'TIMED_OUT', 'ABORTED')
            GROUP BY ALL ORDER BY ALL""",
        {"glob": glob},
    ).df()
    assert len(got) == len(want) == 5
    cols = [*order, "failures", "first_seen", "last_seen"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_dtype=False)
    lake.rebuild_rollups()  # made again in one pass: the same rows
    again = lake.read("error_signatures").to_pandas().sort_values(order, ignore_index=True)
    assert again.equals(got)
