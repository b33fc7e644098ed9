"""The access rules (dashboard/access.py): precedence, group claims, wildcard e-mail domains, export
rights, and a malformed file's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import access
from dashboard.access import AccessConfigError, Grant

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
version: 1
ask: the platform team
group_claim: roles
rules:
  - email: cio@example.com
    domains: all
    export: true
  - email: contractor@example.com
    domains: [supply-chain]
  - group: payments-oncall
    domains: [payments]
  - group: [risk-auditors, risk-leads]
    domains: [risk-compliance, customer-care]
    export: [risk-compliance]
  - email: "*@example.com"
    domains: [customer-care]
  - email: "*@*.partner.example"
    domains: [ai-inference]
"""


@pytest.fixture(scope="module")
def rules() -> access.AccessRules:
    return access.parse(RULES, "access.yaml")


def person(email: str | None = None, roles: object = None, verified: bool | None = True) -> dict:
    claims: dict = {"is_logged_in": True}
    if email is not None:
        claims["email"] = email
    if verified is not None:
        claims["email_verified"] = verified
    if roles is not None:
        claims["roles"] = roles
    return claims


def test_a_rule_naming_the_person_gives_all_and_export(rules: access.AccessRules) -> None:
    g = rules.grant(person("CIO@Example.com"))  # addresses compare without case
    assert g.everything and g.may_export("payments") and g.sees("anything")


def test_group_claim_lists_add_up_within_their_kind(rules: access.AccessRules) -> None:
    g = rules.grant(person("ops@elsewhere.example", ["payments-oncall", "risk-leads", "unrelated"]))
    assert g.domains == {"payments", "risk-compliance", "customer-care"}
    assert g.may_export("risk-compliance") and not g.may_export("payments")
    assert not g.may_export("customer-care")  # seen, not exportable
    # one group given as a plain string, under the configured claim name (not "groups")
    assert rules.grant(person("x@elsewhere.example", "payments-oncall")).domains == {"payments"}
    assert rules.grant({"email": "x@elsewhere.example", "groups": ["payments-oncall"]}).nothing


def test_precedence_address_over_group_over_email_domain(rules: access.AccessRules) -> None:
    # a person's own rule narrows what their group would give (and their e-mail domain's)
    g = rules.grant(person("contractor@example.com", ["payments-oncall"]))
    assert g.domains == {"supply-chain"} and not g.may_export("supply-chain")
    # a group rule decides over the e-mail domain's
    assert rules.grant(person("pat@example.com", ["payments-oncall"])).domains == {"payments"}
    # nothing more specific: the e-mail domain's rule
    assert rules.grant(person("pat@example.com", [])).domains == {"customer-care"}


def test_wildcard_email_domains(rules: access.AccessRules) -> None:
    assert rules.grant(person("a@eu.partner.example")).domains == {"ai-inference"}
    assert rules.grant(person("a@partner.example")).nothing  # *@*.d: subdomains only
    assert rules.grant(person("a@notexample.com")).nothing  # a suffix of the name is not the domain
    assert rules.grant(person("a@sub.example.com")).nothing  # *@d: that domain only


def test_deny_by_default_and_unverified_addresses_do_not_count(rules: access.AccessRules) -> None:
    assert rules.grant(person("nobody@nowhere.example", ["visitors"])).nothing
    assert rules.grant(person(None, None)).nothing
    assert rules.grant(person("cio@example.com", verified=False)).nothing
    assert rules.grant(person("cio@example.com", verified=None)).everything  # no claim: not unverified
    assert rules.ask == "the platform team" and rules.group_claim == "roles"


def test_grant_keys_round_trip_and_differ() -> None:
    a, b = Grant(frozenset({"payments"}), frozenset()), Grant(frozenset({"payments"}), None)
    assert Grant.from_key(a.key) == a and Grant.from_key(b.key) == b and a.key != b.key
    assert access.EVERYTHING.key == (None, None) and access.NOTHING.nothing


def test_the_committed_access_file_validates() -> None:
    rules = access.load(ROOT / "access.yaml")
    assert rules.grant(person("cio@example.com")).everything
    auditor = rules.grant({"email": "x@y.example", "groups": ["risk-auditors"]})
    assert auditor.domains == {"risk-compliance"} and auditor.may_export("risk-compliance")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nrules: []\n", "access.yaml: ask: missing"),
        ("version: 2\nask: x\n", "access.yaml: version: unsupported version 2; allowed: 1"),
        ("ask: x\nrulez: []\n", "access.yaml: rulez: unknown key; allowed: version, ask, group_claim, rules"),
        ("ask: x\nrules: {a: 1}\n", "access.yaml: rules: expected a list of rules, got dict"),
        (
            "ask: x\nrules:\n  - {email: a@b.example, group: g, domains: all}\n",
            "access.yaml: rules[0]: a rule names exactly one of email",
        ),
        ("ask: x\nrules:\n  - {group: g}\n", "access.yaml: rules[0].domains: missing"),
        (
            "ask: x\nrules:\n  - {group: g, domains: payments}\n",
            "access.yaml: rules[0].domains: expected a list of domain names, or all, got str 'payments'",
        ),
        (
            "ask: x\nrules:\n  - {group: g, domains: [payments], export: [risk]}\n",
            "access.yaml: rules[0].export: risk: not among the rule's domains",
        ),
        (
            "ask: x\nrules:\n  - {email: [a@b.example, '*@c.example'], domains: all}\n",
            "access.yaml: rules[0].email: '*@c.example': expected e-mail addresses",
        ),
        ("ask: x\nrules:\n  - {email: not-an-address, domains: all}\n", "rules[0].email: 'not-an-address'"),
        (
            "ask: x\nrules:\n  - {group: [], domains: all}\n",
            "rules[0].group: expected a string or a non-empty",
        ),
        ("ask: x\nrules:\n  - {group: g, domains: all, export: maybe}\n", "rules[0].export: expected true"),
        ("ask: x\nrules:\n  - {group: g, domains: all, owner: me}\n", "rules[0].owner: unknown key"),
    ],
)
def test_a_malformed_file_names_the_file_the_key_and_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(AccessConfigError) as e:
        access.parse(text, "access.yaml")
    assert message in str(e.value), str(e.value)


def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "access.yaml"
    path.write_text("ask: x\nrules:\n  - group: g\n    domains: [payments\n")
    with pytest.raises(AccessConfigError) as e:
        access.load(path)
    first = str(e.value).splitlines()[0]
    assert first.startswith(f"{path}: not valid YAML: line 5, column 1"), first
    with pytest.raises(AccessConfigError, match="cannot read"):
        access.load(tmp_path / "missing.yaml")
