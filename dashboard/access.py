"""Who may see which domains: the access rules (`access.yaml`), validated like the SLA file, and the grant
they give a signed-in person. Pure: no Streamlit.

    version: 1
    ask: the platform team (#stepscope-access)   # whom a person matching no rule is told to ask
    group_claim: groups                         # the ID token claim that lists the person's groups
    rules:
      - email: cio@example.com                  # one person
        domains: all
        export: true                            # may export every domain the rule gives
      - group: payments-oncall                  # everyone in the group (a list: any of them)
        domains: [payments]
      - group: risk-auditors
        domains: [risk-compliance]
        export: [risk-compliance]               # may export these (among the rule's domains)
      - email: "*@example.com"                  # a whole e-mail domain ("*@*.example.com": its subdomains)
        domains: [customer-care]

Precedence: the most specific rules that match decide. Rules naming the person's own e-mail address come
first; if none does, the rules naming one of their groups; if none does, the rules naming their e-mail
domain. The rules of that one kind add up (two groups: both groups' domains); the less specific kinds are
not consulted, so a rule naming a person can narrow what their groups would give. Nobody matching any
rule sees nothing (deny by default) and is told whom to ask.

An e-mail address counts only when the ID token does not say it is unverified (`email_verified: false`);
addresses and domains are compared without regard to case. Any wrong key, type or value raises
`AccessConfigError` naming the file, the path and what is allowed; a YAML syntax error names the file, the
line and the column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from queries.sla_config import yaml_error_message

ALL = "all"  # `domains: all`: every domain of the lake
DEFAULT_GROUP_CLAIM = "groups"
KINDS = ("email", "group", "email_domain")  # most specific first
_TOP_KEYS = ("version", "ask", "group_claim", "rules")
_RULE_KEYS = ("email", "group", "domains", "export")
_ADDRESS = re.compile(r"^[^@\s*]+@[^@\s*]+\.[^@\s*]+$")
_WILDCARD = re.compile(r"^\*@(\*\.)?([^@\s*]+\.[^@\s*]+)$")


class AccessConfigError(ValueError):
    """An access file that does not validate; the message names the file, the path and what is allowed."""


@dataclass(frozen=True)
class Grant:
    """What one person may see and export: domain names, or None for every domain of the lake."""

    domains: frozenset[str] | None
    export: frozenset[str] | None

    def sees(self, domain: str | None) -> bool:
        """Whether rows of `domain` may be shown (a row of no domain only to whoever sees every domain)."""
        return self.domains is None or (domain is not None and domain in self.domains)

    def may_export(self, domain: str) -> bool:
        return self.sees(domain) and (self.export is None or domain in self.export)

    @property
    def everything(self) -> bool:
        return self.domains is None

    @property
    def nothing(self) -> bool:
        return self.domains is not None and not self.domains

    @property
    def key(self) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        """A plain, hashable form: part of every cached result's key."""
        return (
            None if self.domains is None else tuple(sorted(self.domains)),
            None if self.export is None else tuple(sorted(self.export)),
        )

    @classmethod
    def from_key(cls, key: tuple[tuple[str, ...] | None, tuple[str, ...] | None]) -> Grant:
        domains, export = key
        return cls(
            None if domains is None else frozenset(domains), None if export is None else frozenset(export)
        )


EVERYTHING = Grant(None, None)
NOTHING = Grant(frozenset(), frozenset())


@dataclass(frozen=True)
class Rule:
    kind: str  # one of KINDS
    values: tuple[str, ...]  # lower-case addresses, group names, or e-mail domains ("*." prefix: subdomains)
    domains: frozenset[str] | None  # None: all
    export: frozenset[str] | None  # None: every domain the rule gives; empty: none

    def matches(self, email: str | None, groups: frozenset[str]) -> bool:
        if self.kind == "group":
            return any(g in groups for g in self.values)
        if email is None:
            return False
        if self.kind == "email":
            return email in self.values
        at = email.rpartition("@")[2]
        return any(
            at.endswith(v[1:]) if v.startswith("*.") else at == v  # "*.example.com" matches a.example.com
            for v in self.values
        )


@dataclass(frozen=True)
class AccessRules:
    source: str
    ask: str
    group_claim: str = DEFAULT_GROUP_CLAIM
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def grant(self, claims: Mapping[str, Any]) -> Grant:
        """The grant of the person an ID token's `claims` describe (NOTHING when no rule matches)."""
        email, groups = person_email(claims), person_groups(claims, self.group_claim)
        for kind in KINDS:
            matched = [r for r in self.rules if r.kind == kind and r.matches(email, groups)]
            if matched:
                return _union(matched)
        return NOTHING


def person_email(claims: Mapping[str, Any]) -> str | None:
    """The claims' e-mail address in lower case, unless the token says it is unverified."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        return None
    return email.strip().lower()


def person_groups(claims: Mapping[str, Any], claim: str) -> frozenset[str]:
    """The groups in the claim `claim`: a list of names, or one name."""
    value = claims.get(claim)
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value if isinstance(v, str | int))
    return frozenset()


def _union(rules: Iterable[Rule]) -> Grant:
    domains: set[str] | None = set()
    export: set[str] | None = set()
    for r in rules:
        if domains is not None:
            domains = None if r.domains is None else domains | r.domains
        gives = r.domains if r.export is None else r.export
        if export is not None:
            export = None if gives is None else export | gives
    return Grant(
        None if domains is None else frozenset(domains),
        None if export is None else frozenset(export),
    )


def load(path: str | os.PathLike[str]) -> AccessRules:
    """Read and validate an access file."""
    try:
        return parse(Path(path).read_text(encoding="utf-8"), os.fspath(path))
    except OSError as e:
        raise AccessConfigError(f"{os.fspath(path)}: cannot read: {e.strerror}") from e


def parse(text: str, source: str = "<string>") -> AccessRules:
    """Validate YAML text; `source` names it in errors."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise AccessConfigError(yaml_error_message(source, e)) from e
    v = _Validator(source)
    doc = v.mapping({} if doc is None else doc, "", _TOP_KEYS)
    if doc.get("version", 1) != 1:
        v.fail("version", f"unsupported version {doc.get('version')!r}; allowed: 1")
    if "ask" not in doc:
        v.fail("ask", "missing: say whom a person without access should ask (a team, a channel, an address)")
    ask = v.text(doc["ask"], "ask")
    claim = v.text(doc.get("group_claim", DEFAULT_GROUP_CLAIM), "group_claim")
    items = doc.get("rules") or []
    if not isinstance(items, list):
        v.fail("rules", f"expected a list of rules, got {_kind(items)}")
    return AccessRules(source, ask, claim, tuple(v.rule(item, f"rules[{i}]") for i, item in enumerate(items)))


class _Validator:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, message: str) -> None:
        raise AccessConfigError(f"{self.source}: {path or '<top>'}: {message}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in allowed:
                self.fail(
                    f"{path}.{key}" if path else str(key), f"unknown key; allowed: {', '.join(allowed)}"
                )
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty string, got {_kind(value)}")
        return str(value).strip()

    def texts(self, value: Any, path: str) -> list[str]:
        """One string or a non-empty list of them."""
        items = value if isinstance(value, list) else [value]
        if not items:
            self.fail(path, "expected a string or a non-empty list of strings, got an empty list")
        return [
            self.text(x, f"{path}[{i}]" if isinstance(value, list) else path) for i, x in enumerate(items)
        ]

    def rule(self, item: Any, path: str) -> Rule:
        item = self.mapping(item, path, _RULE_KEYS)
        who = [k for k in ("email", "group") if k in item]
        if len(who) != 1:
            self.fail(path, "a rule names exactly one of email (an address or *@domain) or group")
        if "domains" not in item:
            self.fail(f"{path}.domains", f"missing: a list of domain names, or {ALL}")
        domains = self.domains(item["domains"], f"{path}.domains")
        export = self.export(item.get("export", False), f"{path}.export", domains)
        if who[0] == "group":
            return Rule("group", tuple(self.texts(item["group"], f"{path}.group")), domains, export)
        emails = [e.lower() for e in self.texts(item["email"], f"{path}.email")]
        wild = [_WILDCARD.match(e) for e in emails]
        if all(wild):
            values = tuple(f"*.{m.group(2)}" if m.group(1) else m.group(2) for m in wild if m)
            return Rule("email_domain", values, domains, export)
        for i, e in enumerate(emails):
            if wild[i] or not _ADDRESS.match(e):
                self.fail(
                    f"{path}.email",
                    f"{e!r}: expected e-mail addresses (pat@example.com), or only e-mail domains "
                    "(*@example.com, *@*.example.com) in one rule",
                )
        return Rule("email", tuple(emails), domains, export)

    def domains(self, value: Any, path: str) -> frozenset[str] | None:
        if value == ALL:
            return None
        if not isinstance(value, list):
            self.fail(path, f"expected a list of domain names, or {ALL}, got {_kind(value)}")
        return frozenset(self.text(d, f"{path}[{i}]") for i, d in enumerate(value))

    def export(self, value: Any, path: str, domains: frozenset[str] | None) -> frozenset[str] | None:
        if value is True:
            return None
        if value is False:
            return frozenset()
        if not isinstance(value, list):
            self.fail(path, f"expected true, false or a list of domain names, got {_kind(value)}")
        names = frozenset(self.text(d, f"{path}[{i}]") for i, d in enumerate(value))
        outside = sorted(names - domains) if domains is not None else []
        if outside:
            self.fail(path, f"{', '.join(outside)}: not among the rule's domains (export only what it shows)")
        return names


def _kind(value: Any) -> str:
    return (
        f"{type(value).__name__} {value!r}" if not isinstance(value, (dict, list)) else type(value).__name__
    )
