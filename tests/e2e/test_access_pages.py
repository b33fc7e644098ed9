"""Domain-scoped access through AppTest: every page shown to a signed-in person holds only their domains,
every question reaches the queries with their scope, and the figures of a scope of several domains are
recomputed here with pandas over the lake's own files."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from apptest_pages import figure, open_page, trace_values
from streamlit.testing.v1 import AppTest

import queries
from dashboard import data, signin
from dashboard.access import Grant
from lake.store import Lake
from queries.metrics import Metrics
from queries.traces import Traces

PAGES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "dashboard" / "app_pages").glob("*.py"))
ACCESS_YAML = """\
version: 1
ask: the platform team (#stepscope-access)
rules:
  - group: payments-oncall
    domains: [payments]
  - group: risk-auditors
    domains: [risk-compliance, customer-care]
    export: [risk-compliance]
"""
PAT = {"is_logged_in": True, "email": "pat@payments.example", "groups": ["payments-oncall"]}
RITA = {"is_logged_in": True, "email": "rita@risk.example", "groups": ["risk-auditors"]}
NOBODY = {"is_logged_in": True, "email": "nobody@elsewhere.example", "groups": ["visitors"]}
END = datetime(2026, 11, 20, tzinfo=UTC)
START = END - timedelta(days=14)
FAILED = ("FAILED", "TIMED_OUT", "ABORTED")


@pytest.fixture
def access_file(on_demo: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "access.yaml"
    path.write_text(ACCESS_YAML)
    monkeypatch.setenv("STEPSCOPE_ACCESS", str(path))
    return path


@pytest.fixture(scope="module")
def catalogue(demo_lake: Path) -> pd.DataFrame:
    return Lake(str(demo_lake)).read("state_machines").to_pandas()[["state_machine_arn", "name", "domain"]]


def shown(at: AppTest) -> str:
    """Everything a page shows as text: its texts, tables, options, charts and links."""
    parts = [
        str(e.value)
        for kind in (
            "title",
            "subheader",
            "header",
            "markdown",
            "caption",
            "info",
            "warning",
            "error",
            "text",
        )
        for e in at.get(kind)
    ]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [" ".join(map(str, s.options)) for s in at.selectbox]
    parts += [p.proto.spec for p in at.get("plotly_chart")] + [g.proto.spec for g in at.get("graphviz_chart")]
    parts += [str(m.value) for m in at.metric] + [str(m.label) for m in at.metric]
    return "\n".join(parts)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, object]]]:
    """Every question the queries answer, with the scope in force when it was asked."""
    calls: list[tuple[str, object]] = []
    for cls in (queries.Queries, Metrics, Traces):
        for name, fn in list(vars(cls).items()):
            if name.startswith("_") or not callable(fn):
                continue

            def record(*a: object, __fn=fn, __name=f"{cls.__name__}.{name}", **k: object) -> object:
                calls.append((__name, data._GRANT.get()))
                return __fn(*a, **k)

            monkeypatch.setattr(cls, name, record)
    yield calls


def test_every_page_shows_one_persons_domains_and_every_question_carries_their_scope(
    access_file: Path, asked: list, catalogue: pd.DataFrame
) -> None:
    others = catalogue[catalogue["domain"] != "payments"]
    hidden = {*others["domain"].dropna(), *others["name"]}
    assert "risk-compliance" in hidden and len(hidden) > 10
    mine = catalogue[catalogue["domain"] == "payments"]["name"]
    for page in PAGES:
        at = open_page(page, user=PAT)
        text = shown(at)
        assert not [h for h in hidden if h in text], (page, [h for h in hidden if h in text])
        if page in ("overview", "sla", "failures", "flows"):
            assert any(n in text for n in mine), page  # the check sees what the page draws
    assert asked and {s for _, s in asked} == {Grant(frozenset({"payments"}), frozenset())}, {
        (n, s) for n, s in asked if s != Grant(frozenset({"payments"}), frozenset())
    }


def test_cached_results_never_reach_a_person_of_another_scope(access_file: Path) -> None:
    pat = open_page("overview", user=PAT)
    rita = open_page("overview", user=RITA)  # the same process and caches
    again = open_page("overview", user=PAT)
    cards = [[s.value for s in at.subheader if s.value != "Worst offenders"] for at in (pat, rita, again)]
    assert cards == [["payments"], ["customer\\-care", "risk\\-compliance"], ["payments"]]
    assert [s.options for s in pat.selectbox if s.label == "Domain"] == [["All domains", "payments"]]
    assert [s.options for s in rita.selectbox if s.label == "Domain"] == [
        ["All domains", "customer-care", "risk-compliance"]
    ]


def _rows(demo_lake: Path, table: str, domains: set[str]) -> pd.DataFrame:
    """A table's rows of `domains` started in the period, read with pyarrow (the domain is in the path)."""
    lake = Lake(str(demo_lake))
    df = pd.concat([lake.read(table, domain=d).to_pandas().assign(domain=d) for d in sorted(domains)])
    return df[(df["start_time"] >= START) & (df["start_time"] < END)]


def test_the_figures_of_several_domains_are_those_of_their_executions(
    access_file: Path, demo_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = {"ai-inference", "customer-care"}  # the demo's failures are mostly ai-inference's
    monkeypatch.setattr(
        signin,
        "session",
        lambda source, has_data: signin.Session(signin.SIGNED_IN, Grant(frozenset(two), None)),
    )
    failed = _rows(demo_lake, "failures", two)
    assert len(failed) > 15 and failed["signature"].nunique() > 2
    groups = data.error_groups(START, END, None, None)
    assert (
        dict(zip(groups["signature"], groups["count"], strict=True))
        == failed["signature"].value_counts().to_dict()
    )
    assert [sum(c) for c in groups["counts"]] == list(groups["count"])
    triage = data.triage_list(START, END, None, None, 25)
    newest = failed.sort_values(["start_time", "execution_arn"], ascending=[False, True]).head(25)
    assert list(triage["execution_arn"]) == list(newest["execution_arn"])
    cells = data.failures_by_state_day(START, END, None, None)
    want = failed.assign(root_state=failed["root_state"].fillna("(unknown)")).groupby("root_state").size()
    assert cells.groupby("root_state")["failures"].sum().to_dict() == want.to_dict()
    # the per-day series of the two domains: executions and successes, counted from the executions rows
    ex = _rows(demo_lake, "executions", two)
    terminal = ex[ex["status"].isin([*FAILED, "SUCCEEDED"])]
    per_day = terminal.groupby(terminal["start_time"].dt.floor("D"))["status"]
    series = data.sla_attainment_series(START, END, "day", None, None).set_index("bucket")
    assert series["executions"].to_dict() == per_day.size().to_dict()
    assert series["succeeded"].to_dict() == per_day.apply(lambda s: int((s == "SUCCEEDED").sum())).to_dict()
    # and every domain's report row is the one a person who sees every domain gets
    report = data.sla_report(None, END, "domain", None)
    monkeypatch.setattr(
        signin, "session", lambda source, has_data: signin.Session(signin.DEMO, Grant(None, None))
    )
    full = data.sla_report(None, END, "domain", None)
    pd.testing.assert_frame_equal(report, full[full["domain"].isin(two)].reset_index(drop=True))
    with pytest.raises(data.NotPermitted):  # a question about another's domain is refused, not answered
        monkeypatch.setattr(
            signin,
            "session",
            lambda source, has_data: signin.Session(signin.SIGNED_IN, Grant(frozenset(two), None)),
        )
        data.triage_list(START, END, "payments", None)


def test_the_sla_page_draws_the_p95_of_several_domains(access_file: Path, demo_lake: Path) -> None:
    """The latency line of a person who sees two domains of three: per day, the exact p95 of their
    terminal executions' durations, recomputed with pandas."""
    span = {"from": f"{START:%Y-%m-%dT%H:%M}", "to": f"{END:%Y-%m-%dT%H:%M}"}
    at = open_page("sla", user=RITA, period="custom", **span)
    (line,) = figure(at, "p95 duration per day")["data"]
    ex = _rows(demo_lake, "executions", {"risk-compliance", "customer-care"})
    terminal = ex[ex["status"].isin([*FAILED, "SUCCEEDED"])]
    p95 = terminal.groupby(terminal["start_time"].dt.floor("D"))["duration_ms"].quantile(0.95)
    drawn = trace_values(line)
    assert len(drawn) == len(p95) == 14
    scale = p95.iloc[0] / drawn[0]  # the chart's unit (ms, s or min)
    assert scale in (1, 1000, 60_000, 3_600_000)
    assert [round(v * scale, 3) for v in drawn] == [round(v, 3) for v in p95]


def test_another_domains_execution_reads_like_one_not_in_the_lake(access_file: Path, demo_lake: Path) -> None:
    q = queries.connect(str(demo_lake))
    theirs = q.triage_list(START, END, "risk-compliance", None, limit=1)["execution_arn"].iloc[0]
    mine = q.triage_list(START, END, "payments", None, limit=1)["execution_arn"].iloc[0]
    made_up = theirs.rsplit(":", 1)[0] + ":no-such-execution"
    seen = {}
    for arn in (theirs, made_up, mine):
        at = open_page("execution", user=PAT, execution=arn)
        seen[arn] = ([e.value for e in at.error], [s.value for s in at.subheader])
    assert seen[theirs] == seen[made_up]
    assert seen[theirs][0] and seen[theirs][0][0].startswith("Not permitted:") and not seen[theirs][1]
    assert not seen[mine][0] and seen[mine][1]  # the person's own execution is shown


def test_the_audit_page_refuses_what_the_person_may_not_export(access_file: Path) -> None:
    at = open_page("audit", user=PAT, domain="risk-compliance")
    made_up = open_page("audit", user=PAT, domain="no-such-domain")
    said = [
        [e.value.replace(d, "X") for e in page.error]
        for page, d in ((at, "risk\\-compliance"), (made_up, "no\\-such\\-domain"))
    ]
    assert said[0] == said[1] and not at.toggle  # another's domain reads like one that does not exist
    assert "among the domains you may see" in said[0][0] and "payments" in said[0][0]
    at = open_page("audit", user=RITA, domain="customer-care")  # seen, not exportable
    assert [e.value for e in at.error] == [
        "Not permitted: you may not export customer\\-care. Ask the platform team \\(\\#stepscope\\-access\\) "
        "for the right to export it."
    ]
    at = open_page("audit", user=RITA, domain="risk-compliance")
    assert not at.error and [t.label for t in at.toggle] == ["Preview and prepare the download"]
    assert [s.options for s in at.selectbox if s.label == "Domain" and s.key == "audit_domain"] == [
        ["risk-compliance"]
    ]


def test_signed_out_denied_and_broken_rules_show_nothing_of_the_lake(access_file: Path) -> None:
    out = open_page("overview", user={"is_logged_in": False})
    assert [b.label for b in out.button] == ["Sign in"] and not out.subheader and not out.dataframe
    denied = open_page("overview", user=NOBODY)
    assert [w.value for w in denied.warning] == [
        "**No access rule gives nobody\\@elsewhere\\.example any domain.** Ask the platform team "
        "\\(\\#stepscope\\-access\\) for access."
    ]
    assert [b.label for b in denied.button] == ["Sign out"] and not denied.subheader
    access_file.write_text("ask: x\nrules:\n  - {group: g, domains: [a], export: [b]}\n")
    broken = open_page("overview", user=PAT)
    assert broken.error[0].value.startswith("**The access rules cannot be used**")
    assert [t.value for t in broken.text] == [
        f"{access_file}: rules[0].export: b: not among the rule's domains (export only what it shows)"
    ]
    assert not broken.subheader


def test_without_sign_in_a_demo_says_so_and_real_data_is_refused(
    on_demo: None, demo_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STEPSCOPE_ALLOW_ANONYMOUS", raising=False)
    demo = open_page("overview")
    assert demo.info[0].value.startswith("**Sign-in is off: demo mode.**") and demo.subheader
    real = tmp_path / "real"
    shutil.copytree(demo_lake, real)
    Lake(str(real)).write_meta(source="aws")
    monkeypatch.setenv("STEPSCOPE_LAKE", str(real))
    refused = open_page("overview")
    assert refused.error[0].value.startswith("**Sign-in is required for this lake.**")
    assert not refused.subheader and not refused.dataframe
    monkeypatch.setenv("STEPSCOPE_ALLOW_ANONYMOUS", "1")
    anyone = open_page("overview")
    assert anyone.warning[0].value.startswith("**Sign-in is off:** `STEPSCOPE_ALLOW_ANONYMOUS=1`")
    assert {"payments", "risk\\-compliance"} <= {s.value for s in anyone.subheader}


def test_a_download_of_an_audit_export_is_in_the_access_log(
    access_file: Path, tmp_path: Path, demo_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(demo_lake, lake)
    monkeypatch.setenv("STEPSCOPE_LAKE", str(lake))
    grant = Grant(frozenset({"risk-compliance", "customer-care"}), frozenset({"risk-compliance"}))
    monkeypatch.setattr(
        signin,
        "session",
        lambda source, has_data: signin.Session(signin.SIGNED_IN, grant, email="rita@risk.example"),
    )
    with pytest.raises(data.NotPermitted):
        data.audit_download("customer-care", START, END)
    read = data.audit_download("risk-compliance", START, END)
    assert Lake(str(lake)).read("access_log").num_rows == 0  # nothing until the person downloads it
    body = read()
    log = Lake(str(lake)).read("access_log").to_pandas()
    assert len(log) == 1
    row = log.iloc[0]
    assert (row["who"], row["action"], row["via"]) == ("rita@risk.example", "export", "dashboard")
    assert row["sha256"] == hashlib.sha256(body).hexdigest() and row["rows"] == body.count(b"\n") - 1
    assert (row["period_start"], row["period_end"]) == (pd.Timestamp(START), pd.Timestamp(END))
    assert Lake(str(lake)).partitions("access_log") == [("risk-compliance", f"{row['logged_at']:%Y-%m-%d}")]
    read()  # a second download is a second entry
    assert Lake(str(lake)).read("access_log").num_rows == 2
    assert json.loads(Path(lake / "_stepscope.json").read_text())["source"] == "demo"
