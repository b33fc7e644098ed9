"""SLA file rules: `latency: none` and its precedence, keys that match nothing in the lake, YAML syntax
errors with their line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from queries import sla
from queries.sla_config import (
    Objective,
    SlaConfigError,
    latency_gaps,
    load,
    parse,
    unknown_keys,
)

ROOT = Path(__file__).resolve().parents[2]
ARN = "arn:aws:states:eu-west-1:111122223333:stateMachine:"

LATENCY = """\
defaults:
  latency: {threshold_s: 300, objective: 95%, p95_max_s: 600}
domains:
  payments: {latency: {threshold_s: 120}}
  care: {latency: none}
state_machines:
  payments-batch: {latency: none}
  care-triage: {latency: {threshold_s: 60}}
  care-chat: {latency: {threshold_s: 30, objective: 90%}}
  care-survey: {success_objective: 97%}
"""


def _lat(obj: Objective) -> tuple[float | None, float | None, float | None]:
    """(threshold_s, objective, p95_max_s)"""
    return obj.latency_threshold_s, obj.latency_objective, obj.latency_p95_max_s


def _no_latency(obj: Objective) -> bool:
    return (
        obj.latency_judged is False
        and obj.latency_threshold_s is None
        and obj.latency_objective is None
        and obj.latency_p95_max_s is None
    )


# -- latency: none ---------------------------------------------------------------------------------
def test_latency_none_on_a_machine_inside_a_domain_with_latency():
    cfg = parse(LATENCY)
    pay = cfg.for_domain("payments")
    assert pay.latency_judged and (pay.latency_threshold_s, pay.latency_objective) == (120, 0.95)
    batch = cfg.for_machine(ARN + "payments-batch", "payments-batch", "payments")
    assert _no_latency(batch)
    # and the machine's other keys still come from its domain and the defaults
    assert batch.success == pay.success and batch.window == pay.window
    # the machine is not judged on latency: slow, late executions do not breach
    fig = sla.evaluate({"executions": 100, "succeeded": 100, "within_threshold": 0, "p95_ms": 1e9}, batch)
    assert fig["latency_threshold_ms"] is None and fig["latency_budget_remaining"] is None
    assert fig["status"] == "OK"


def test_latency_none_on_a_domain_and_what_its_machines_get():
    cfg = parse(LATENCY)
    assert _no_latency(cfg.for_domain("care"))
    # a machine that says nothing about latency keeps its domain's none
    survey = cfg.for_machine(ARN + "care-survey", "care-survey", "care")
    assert _no_latency(survey) and survey.success == pytest.approx(0.97)
    # a block under a `none` domain turns latency on with that block's keys only: no objective, no p95
    # ceiling inherited from the defaults above the none
    triage = cfg.for_machine(ARN + "care-triage", "care-triage", "care")
    assert triage.latency_judged
    assert _lat(triage) == (60, None, None)
    chat = cfg.for_machine(ARN + "care-chat", "care-chat", "care")
    assert _lat(chat) == (30, 0.9, None)
    # the same block under a domain that judges latency overrides key by key
    triage_pay = cfg.for_machine(ARN + "care-triage", "care-triage", "payments")
    assert _lat(triage_pay) == (60, 0.95, 600)


def test_latency_none_in_the_defaults_and_back_on_in_a_domain():
    cfg = parse("defaults: {latency: none}\ndomains: {pay: {latency: {threshold_s: 5, objective: 99%}}}")
    assert _no_latency(cfg.defaults) and _no_latency(cfg.for_domain("other"))
    pay = cfg.for_domain("pay")
    assert pay.latency_judged and (pay.latency_threshold_s, pay.latency_objective) == (5, 0.99)


def test_repo_example_has_a_machine_without_latency_objective():
    cfg = load(ROOT / "slas.yaml")
    name = "customer-care-agent-review"
    review = cfg.for_machine(ARN + name, name, "customer-care")
    assert _no_latency(review) and review.owner == "care-automation"
    assert cfg.for_domain("customer-care").latency_threshold_s == 600


@pytest.mark.parametrize("value", ["null", "~", "None", "NONE", "off", "false", "'none '"])
def test_only_the_word_none_switches_latency_off(value):
    with pytest.raises(SlaConfigError) as e:
        parse(f"domains: {{pay: {{latency: {value}}}}}", "slas.yaml")
    msg = str(e.value)
    assert msg.startswith("slas.yaml: domains.pay.latency: expected a mapping")
    assert "threshold_s, objective, p95_max_s, or none" in msg


def test_latency_none_cannot_carry_figures():
    with pytest.raises(ValueError, match="latency_judged=False"):
        Objective(latency_judged=False, latency_threshold_s=60)


def test_a_block_under_none_still_needs_a_threshold_for_its_objective():
    # the file alone validates (the machine's domain is known only from the lake) ...
    cfg = parse(
        "defaults: {latency: {threshold_s: 9}}\ndomains: {care: {latency: none}}\n"
        "state_machines: {care-chat: {latency: {objective: 90%}}}"
    )
    # ... but in the lake the machine is in `care`, whose none leaves it no threshold to inherit
    assert latency_gaps(cfg, [(ARN + "care-chat", "care-chat", "care")]) == [
        "state_machines.care-chat.latency: objective needs threshold_s: its domain 'care' has latency: none, "
        "so there is no threshold to inherit and its latency is not judged"
    ]
    # the same machine in a domain that gives a threshold, or a machine without a block: nothing to report
    assert latency_gaps(cfg, [(ARN + "care-chat", "care-chat", "payments")]) == []
    assert latency_gaps(cfg, [(ARN + "care-other", "care-other", "care")]) == []


# -- keys that match nothing in the lake -----------------------------------------------------------
DOMAINS = ["ai-inference", "customer-care", "payments", "risk-compliance", "supply-chain"]
MACHINES = [
    (ARN + "payments-settlement-batch", "payments-settlement-batch"),
    (ARN + "payments-refund-approval", "payments-refund-approval"),
    (ARN + "customer-care-agent-review", "customer-care-agent-review"),
]


def test_misspelt_domain_is_named_with_the_lake_domains_and_a_hint():
    cfg = parse("domains: {paymnets: {success_objective: 99%}, payments: {owner: x}}")
    assert unknown_keys(cfg, DOMAINS, MACHINES) == [
        "domains.paymnets: no domain called 'paymnets' in the lake (domains: ai-inference, customer-care, "
        "payments, risk-compliance, supply-chain); did you mean 'payments'?"
    ]


def test_unknown_domain_far_from_any_gets_no_hint():
    [msg] = unknown_keys(parse("domains: {logistics: {}}"), DOMAINS, MACHINES)
    assert msg.startswith("domains.logistics: no domain called 'logistics' in the lake (domains: ")
    assert "did you mean" not in msg


def test_misspelt_machine_by_name_and_by_arn():
    cfg = parse(
        "state_machines:\n"
        "  payments-setlement-batch: {window: 7d}\n"
        f"  '{ARN}payments-refund-aproval': {{window: 7d}}\n"
        f"  '{ARN}customer-care-agent-review': {{window: 7d}}\n"  # exact ARN: known
        "  payments-refund-approval: {window: 7d}\n"  # exact name: known
        "  nightly-zzz: {window: 7d}\n"
    )
    assert unknown_keys(cfg, DOMAINS, MACHINES) == [
        "state_machines.payments-setlement-batch: no state machine called 'payments-setlement-batch' in the "
        "lake (by name or ARN); did you mean 'payments-settlement-batch'?",
        f"state_machines.{ARN}payments-refund-aproval: no state machine called "
        f"'{ARN}payments-refund-aproval' in the lake (by name or ARN); did you mean "
        f"'{ARN}payments-refund-approval'?",
        "state_machines.nightly-zzz: no state machine called 'nightly-zzz' in the lake (by name or ARN)",
    ]


def test_a_key_under_the_wrong_section_says_where_it_belongs():
    cfg = parse("domains: {payments-settlement-batch: {}}\nstate_machines: {payments: {}}")
    msgs = unknown_keys(cfg, DOMAINS, MACHINES)
    assert len(msgs) == 2
    assert msgs[0].endswith("'payments-settlement-batch' is a state machine: put it under state_machines")
    assert msgs[1].endswith("'payments' is a domain: put it under domains")


def test_known_keys_and_an_empty_lake():
    cfg = parse("domains: {payments: {}}\nstate_machines: {payments-settlement-batch: {}}")
    assert unknown_keys(cfg, DOMAINS, MACHINES) == []
    assert unknown_keys(parse("domains: {payments: {}}"), [], []) == [
        "domains.payments: no domain called 'payments' in the lake (the lake has no domains)"
    ]


def test_a_long_domain_list_is_cut():
    many = [f"domain-{i:02}" for i in range(20)]
    [msg] = unknown_keys(parse("domains: {x: {}}"), many, [])
    assert "domain-11, ..." in msg and "domain-12" not in msg


# -- YAML syntax errors ----------------------------------------------------------------------------
def test_yaml_syntax_error_names_line_and_column(tmp_path):
    bad = tmp_path / "slas.yaml"
    bad.write_text(
        "version: 1\n"
        "defaults:\n"
        "  success_objective: 99%\n"
        "  window: 30d: oops\n"  # line 4: a second ':' at column 14
        "domains: {}\n"
    )
    with pytest.raises(SlaConfigError) as e:
        load(bad)
    first, *rest = str(e.value).splitlines()
    assert first == f"{bad}: not valid YAML: line 4, column 14: mapping values are not allowed here"
    # then the offending line and a caret under the column
    assert rest[0].strip() == "window: 30d: oops"
    assert rest[1].index("^") - rest[0].index("w") == len("window: 30d")


def test_yaml_syntax_error_gives_the_parser_context_with_its_own_position(tmp_path):
    bad = tmp_path / "slas.yaml"
    bad.write_text('version: 1\ndefaults:\n  owner: "platform-team\n')  # a quote never closed
    with pytest.raises(SlaConfigError) as e:
        load(bad)
    lines = str(e.value).splitlines()
    assert lines[0] == f"{bad}: not valid YAML: line 4, column 1: found unexpected end of stream"
    assert lines[-1] == "  while scanning a quoted scalar that starts at line 3, column 10"
    assert "<unicode string>" not in str(e.value)
