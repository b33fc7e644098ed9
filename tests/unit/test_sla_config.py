"""SLA file validation: what loads, how objectives inherit, and every error path naming file and path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from queries import sla
from queries.sla_config import SlaConfigError, default, load, parse

ROOT = Path(__file__).resolve().parents[2]


def test_repo_example_loads_and_inherits():
    cfg = load(ROOT / "slas.yaml")
    assert {"payments", "customer-care", "ai-inference", "risk-compliance", "supply-chain"} <= set(
        cfg.domains
    )
    pay = cfg.for_domain("payments")
    assert pay.success == pytest.approx(0.98) and pay.latency_threshold_s == 120 and pay.window == "30d"
    m = cfg.for_machine("arn:x", "ai-inference-batch-scoring", "ai-inference")
    assert m.latency_p95_max_s == 9000 and m.success == pytest.approx(0.96) and m.owner == "ml-platform"
    assert cfg.exclusions[0].domain == "payments"
    assert cfg.for_domain("unknown") == cfg.defaults


def test_machine_by_arn_and_window_start():
    cfg = parse("state_machines: {'arn:aws:states:r:1:stateMachine:m': {window: calendar_month}}")
    obj = cfg.for_machine("arn:aws:states:r:1:stateMachine:m", "m", None)
    assert obj.window_start(datetime(2025, 3, 17, 5, tzinfo=UTC)) == datetime(2025, 3, 1, tzinfo=UTC)
    assert default().defaults.window_start(datetime(2025, 3, 31, tzinfo=UTC)) == datetime(
        2025, 3, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "path", "allowed"),
    [
        ("defaults: {sucess_objective: 0.9}", "defaults.sucess_objective", "allowed: success_objective"),
        ("domainz: {}", "domainz", "allowed: version, defaults"),
        ("defaults: {success_objective: 99.5}", "defaults.success_objective", "between 0 and 1"),
        ("defaults: {success_objective: '120%'}", "defaults.success_objective", "between 0 and 1"),
        ("defaults: {success_objective: abc}", "defaults.success_objective", "between 0 and 1"),
        ("defaults: {success_objective: true}", "defaults.success_objective", "between 0 and 1"),
        ("domains: {pay: {window: 14d}}", "domains.pay.window", "allowed: 7d, 28d, 30d, calendar_month"),
        ("domains: {pay: {latency: {threshold_s: -1}}}", "domains.pay.latency.threshold_s", "> 0"),
        (
            "domains: {pay: {latency: {treshold_s: 5}}}",
            "domains.pay.latency.treshold_s",
            "allowed: threshold_s",
        ),
        ("domains: {pay: {latency: {objective: 95%}}}", "domains.pay.latency", "needs threshold_s"),
        (
            "domains: {pay: {latency: {threshold_s: 5, p95_max_s: fast}}}",
            "domains.pay.latency.p95_max_s",
            "> 0",
        ),
        ("domains: {pay: {latency: 5}}", "domains.pay.latency", "expected a mapping"),
        ("domains: {pay: {min_executions: 0}}", "domains.pay.min_executions", ">= 1"),
        ("domains: {pay: {min_executions: 2.5}}", "domains.pay.min_executions", ">= 1"),
        ("domains: {pay: {owner: ''}}", "domains.pay.owner", "non-empty string"),
        ("domains: {pay: {runbook_url: wiki/pay}}", "domains.pay.runbook_url", "http(s) URL"),
        ("domains: {pay: {runbook_url: 'javascript:alert(1)'}}", "domains.pay.runbook_url", "http(s) URL"),
        (
            "domains: {pay: {warning_budget_remaining: 2}}",
            "domains.pay.warning_budget_remaining",
            "between 0 and 1",
        ),
        ("domains: [pay]", "domains", "expected a mapping"),
        ("state_machines: {m: {exclusions: {start: 1}}}", "state_machines.m.exclusions", "expected a list"),
        (
            "state_machines: {m: {exclusions: [{start: 2025-01-01}]}}",
            "state_machines.m.exclusions[0].end",
            "missing",
        ),
        (
            "state_machines: {m: {exclusions: [{start: 2025-01-02, end: 2025-01-01}]}}",
            "state_machines.m.exclusions[0].end",
            "after start",
        ),
        (
            "state_machines: {m: {exclusions: [{start: yesterday, end: 2025-01-01}]}}",
            "state_machines.m.exclusions[0].start",
            "ISO 8601",
        ),
        (
            "state_machines: {m: {exclusions: [{start: 2025-01-01, end: 2025-01-02, reason: 5}]}}",
            "state_machines.m.exclusions[0].reason",
            "expected a string",
        ),
        (
            "state_machines: {m: {exclusions: [{start: 2025-01-01, end: 2025-01-02, why: x}]}}",
            "state_machines.m.exclusions[0].why",
            "allowed: start, end, reason",
        ),
        ("version: 2", "version", "allowed: 1"),
        ("- a\n- b", "<top>", "expected a mapping"),
    ],
)
def test_errors_name_file_path_and_allowed(text, path, allowed):
    with pytest.raises(SlaConfigError) as e:
        parse(text, "slas.yaml")
    msg = str(e.value)
    assert msg.startswith(f"slas.yaml: {path}: ") and allowed in msg


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(SlaConfigError, match="missing.yaml: cannot read"):
        load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults: {a: [}")
    with pytest.raises(SlaConfigError, match="bad.yaml: not valid YAML"):
        load(bad)


def test_status_rules():
    obj = parse(
        "defaults: {success_objective: 90%, min_executions: 10, warning_budget_remaining: 25%,"
        " latency: {threshold_s: 1, objective: 50%, p95_max_s: 2}}"
    ).defaults
    ok = sla.evaluate({"executions": 100, "succeeded": 95, "within_threshold": 80, "p95_ms": 1500}, obj)
    assert ok["status"] == "OK" and ok["budget_remaining"] == pytest.approx(0.5)
    warn = sla.evaluate({"executions": 100, "succeeded": 92, "within_threshold": 80, "p95_ms": 1500}, obj)
    assert warn["status"] == "WARNING"  # 8 of 10 allowed failures used
    edge = sla.evaluate({"executions": 100, "succeeded": 90, "within_threshold": 80, "p95_ms": 1500}, obj)
    assert edge["budget_remaining"] == pytest.approx(0) and edge["status"] == "WARNING"
    assert (
        sla.evaluate({"executions": 100, "succeeded": 89, "within_threshold": 80, "p95_ms": 1}, obj)["status"]
        == "BREACHED"
    )
    assert (
        sla.evaluate({"executions": 100, "succeeded": 99, "within_threshold": 80, "p95_ms": 2500}, obj)[
            "status"
        ]
        == "BREACHED"
    )
    assert (
        sla.evaluate({"executions": 100, "succeeded": 99, "within_threshold": 40, "p95_ms": 1}, obj)["status"]
        == "BREACHED"
    )
    assert sla.evaluate({"executions": 9, "succeeded": 0}, obj)["status"] == "INSUFFICIENT_DATA"
    assert [round(r.threshold(30 * 86400), 6) for r in sla.BURN_RULES] == [14.4, 6.0, 1.0]
