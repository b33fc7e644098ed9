"""SLA configuration: objectives per domain and per state machine, read from YAML and validated.

    version: 1
    defaults:                       # every key optional here and below
      success_objective: 99.5%      # share of executions that succeed (eventually, after redrives)
      latency:
        threshold_s: 120            # an execution "finishes in time" within this many seconds
        objective: 95%              # share of executions that must finish in time
        p95_max_s: 300              # optional: p95 duration must not exceed this
      window: 30d                   # 7d, 28d, 30d (rolling) or calendar_month
      min_executions: 20            # fewer executions than this → INSUFFICIENT_DATA
      warning_budget_remaining: 25% # WARNING when less error budget than this is left
      owner: platform-team
      runbook_url: https://wiki.example.com/runbooks/step-functions  # shown beside a failure
      exclusions:                   # maintenance: executions started inside are not judged
        - {start: 2025-01-04T22:00:00Z, end: 2025-01-05T02:00:00Z, reason: database upgrade}
    domains:
      payments: {success_objective: 99.9%, owner: payments-oncall}
      customer-care: {latency: none} # latency is not an objective of this domain
    state_machines:                 # keyed by state machine name or ARN
      settle-payments: {latency: {threshold_s: 300}}
      care-ticket-triage:           # a customer-care machine whose latency is judged after all
        latency: {threshold_s: 60, objective: 90%}

A state machine's objective is defaults, overridden by its domain's, overridden by its own, key by key.

Latency follows one more rule. `latency: none` (the word `none`; YAML null is refused) at any scope
says latency is not an objective there: `Objective.latency_judged` is False and the threshold, the
objective and the p95 ceiling are None, whatever a wider scope said. A `latency: {...}` block at a
narrower scope turns latency back on, and then holds only the keys of that block: under a `none`
domain, `{threshold_s: 60}` gives a threshold and no objective, since nothing is inherited from above
the `none`. Under a scope that judges latency, a block overrides key by key as every other key does.

Any wrong key, type or value raises `SlaConfigError` naming the file, the path and what is allowed;
a YAML syntax error names the file, the line and the column. Keys that validate but match nothing in
the lake (a misspelt domain or state machine) are reported by `unknown_keys`, and machine blocks that
rely on a latency threshold their `none` domain does not give by `latency_gaps`: the file still loads.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import yaml

WINDOWS = ("7d", "28d", "30d", "calendar_month")
_TOP_KEYS = ("version", "defaults", "domains", "state_machines")
_OBJ_KEYS = (
    "success_objective",
    "latency",
    "window",
    "min_executions",
    "warning_budget_remaining",
    "owner",
    "runbook_url",
    "exclusions",
)
_LAT_KEYS = ("threshold_s", "objective", "p95_max_s")
LATENCY_NONE = "none"  # `latency: none`: latency is not an objective of the scope
_LAT_FIELDS = ("latency_threshold_s", "latency_objective", "latency_p95_max_s")
_LISTED_DOMAINS = 12  # how many of the lake's domains an unknown-domain message lists
_EXCL_KEYS = ("start", "end", "reason")
DEFAULT_PATH_ENV = "STEPSCOPE_SLAS"


class SlaConfigError(ValueError):
    """An SLA file that does not validate; the message names the file, the path and what is allowed."""


@dataclass(frozen=True)
class Exclusion:
    start: datetime
    end: datetime
    reason: str = ""
    domain: str | None = None  # None: every domain
    state_machine: str | None = None  # name or ARN; None: every machine of the scope


@dataclass(frozen=True)
class Objective:
    success: float = 0.99
    latency_threshold_s: float | None = None
    latency_objective: float | None = None
    latency_p95_max_s: float | None = None
    latency_judged: bool = True  # False: `latency: none`, latency is not an objective of this scope
    window: str = "30d"
    min_executions: int = 20
    warning_budget_remaining: float = 0.25
    owner: str | None = None
    runbook_url: str | None = None  # http(s) link to what on-call does when this fails

    def __post_init__(self) -> None:
        if not self.latency_judged and any(getattr(self, f) is not None for f in _LAT_FIELDS):
            raise ValueError("an Objective with latency_judged=False has no latency threshold or objective")

    def window_start(self, end: datetime) -> datetime:
        """Start of the SLA window that ends at `end`."""
        if self.window == "calendar_month":
            return end.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return end - timedelta(days=int(self.window[:-1]))


@dataclass(frozen=True)
class SlaConfig:
    source: str
    defaults: Objective = Objective()
    domains: Mapping[str, Objective] = field(default_factory=dict)
    machine_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    exclusions: tuple[Exclusion, ...] = ()

    def for_domain(self, domain: str | None) -> Objective:
        """Objective of a domain (defaults when the domain has none)."""
        return self.domains.get(domain or "", self.defaults)

    def for_machine(self, arn: str, name: str | None, domain: str | None) -> Objective:
        """Objective of one state machine: its own keys over its domain's over the defaults."""
        base = self.for_domain(domain)
        over = self.machine_overrides.get(arn) or self.machine_overrides.get(name or "")
        return replace(base, **over) if over else base


def default() -> SlaConfig:
    """The configuration used when there is no file: 99% success over 30 days, no latency objective."""
    return SlaConfig(source="<defaults>")


def load(path: str | os.PathLike[str]) -> SlaConfig:
    """Read and validate an SLA YAML file."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SlaConfigError(f"{path}: cannot read: {e.strerror}") from e
    return parse(text, path)


def parse(text: str, source: str = "<string>") -> SlaConfig:
    """Validate YAML text; `source` names it in errors."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SlaConfigError(yaml_error_message(source, e)) from e
    v = _Validator(source)
    if doc is None:
        doc = {}
    v.mapping(doc, "", _TOP_KEYS)
    version = doc.get("version", 1)
    if version != 1:
        v.fail("version", f"unsupported version {version!r}; allowed: 1")
    exclusions: list[Exclusion] = []
    defaults_over = v.objective(doc.get("defaults") or {}, "defaults", exclusions, None, None)
    defaults = replace(Objective(), **defaults_over)
    domains: dict[str, Objective] = {}
    for name, body in v.mapping(doc.get("domains") or {}, "domains").items():
        over = v.objective(body or {}, f"domains.{name}", exclusions, str(name), None)
        domains[str(name)] = replace(defaults, **over)
    machines: dict[str, Mapping[str, Any]] = {}
    for name, body in v.mapping(doc.get("state_machines") or {}, "state_machines").items():
        machines[str(name)] = v.objective(body or {}, f"state_machines.{name}", exclusions, None, str(name))
        _check_latency_pair(v, replace(defaults, **machines[str(name)]), f"state_machines.{name}")
    for name, obj in domains.items():
        _check_latency_pair(v, obj, f"domains.{name}")
    _check_latency_pair(v, defaults, "defaults")
    return SlaConfig(
        source=source,
        defaults=defaults,
        domains=domains,
        machine_overrides=machines,
        exclusions=tuple(exclusions),
    )


def yaml_error_message(source: str, e: yaml.YAMLError) -> str:
    """`FILE: not valid YAML: line L, column C: <problem>`, then the offending line with a caret under
    the column and what the parser was reading when it failed (its own words and position), one per line.
    Positions are 1-based, as editors show them."""
    if not isinstance(e, yaml.MarkedYAMLError) or e.problem_mark is None:
        return f"{source}: not valid YAML: {e}"
    mark = e.problem_mark
    lines = [f"{source}: not valid YAML: {_position(mark)}: {e.problem or 'syntax error'}"]
    snippet = mark.get_snippet()
    if snippet and snippet.strip():
        lines.append(snippet)
    if e.context:
        cm = e.context_mark
        same = cm is None or (cm.line, cm.column) == (mark.line, mark.column)
        lines.append(f"  {e.context}" + ("" if same else f" that starts at {_position(cm)}"))
    if e.note:
        lines.append(f"  {e.note}")
    return "\n".join(lines)


def _position(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def unknown_keys(config: SlaConfig, domains: Iterable[str], machines: Iterable[tuple[str, str]]) -> list[str]:
    """One plain message per key under `domains:` or `state_machines:` that names no domain, or no state
    machine (by name or ARN), of the lake; with a "did you mean" when a key is close to one that does.

    `domains`: the lake's domain names; `machines`: its state machines as (ARN, name). The messages
    carry the file's own key names: show them as text, never as markup.
    """
    known_domains = sorted({d for d in domains if d})
    arns_by_name: dict[str, list[str]] = {}
    for arn, name in machines:
        arns_by_name.setdefault(name, []).append(arn)
    arns = {a for group in arns_by_name.values() for a in group}
    out = [
        _unknown_domain(key, known_domains, arns_by_name)
        for key in config.domains
        if key not in known_domains
    ]
    out += [
        _unknown_machine(key, arns_by_name, known_domains)
        for key in config.machine_overrides
        if key not in arns and key not in arns_by_name
    ]
    return out


def _unknown_domain(key: str, known: list[str], arns_by_name: Mapping[str, list[str]]) -> str:
    listed = ", ".join(known[:_LISTED_DOMAINS]) + (", ..." if len(known) > _LISTED_DOMAINS else "")
    msg = f"domains.{key}: no domain called {key!r} in the lake " + (
        f"(domains: {listed})" if known else "(the lake has no domains)"
    )
    if key in arns_by_name:
        return f"{msg}; {key!r} is a state machine: put it under state_machines"
    close = difflib.get_close_matches(key, known, n=1)
    return f"{msg}; did you mean {close[0]!r}?" if close else msg


def _unknown_machine(key: str, arns_by_name: Mapping[str, list[str]], domains: list[str]) -> str:
    msg = f"state_machines.{key}: no state machine called {key!r} in the lake (by name or ARN)"
    if key in domains:
        return f"{msg}; {key!r} is a domain: put it under domains"
    if key.startswith("arn:"):
        # an ARN: match on its name part, then take the closest ARN of that name (Region, account)
        close = difflib.get_close_matches(key.rsplit(":", 1)[-1], list(arns_by_name), n=1)
        hint = difflib.get_close_matches(key, arns_by_name[close[0]], n=1, cutoff=0) if close else []
    else:
        hint = difflib.get_close_matches(key, list(arns_by_name), n=1)
    return f"{msg}; did you mean {hint[0]!r}?" if hint else msg


def latency_gaps(config: SlaConfig, machines: Iterable[tuple[str, str, str | None]]) -> list[str]:
    """One message per state machine of the lake, given as (ARN, name, domain), whose own latency block
    sets an objective without threshold_s while its domain says `latency: none`, so there is no threshold
    to inherit and its latency is not judged. (The file alone cannot tell: a machine's domain is in the
    lake.)"""
    out = []
    for arn, name, domain in machines:
        key = arn if arn in config.machine_overrides else name
        if key not in config.machine_overrides:
            continue
        obj = config.for_machine(arn, name, domain)
        if obj.latency_objective is not None and obj.latency_threshold_s is None:
            out.append(
                f"state_machines.{key}.latency: objective needs threshold_s: its domain {domain!r} has "
                f"latency: {LATENCY_NONE}, so there is no threshold to inherit and its latency is not judged"
            )
    return out


def _check_latency_pair(v: _Validator, obj: Objective, path: str) -> None:
    if obj.latency_objective is not None and obj.latency_threshold_s is None:
        v.fail(f"{path}.latency", "objective needs threshold_s (the time an execution must finish within)")


class _Validator:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, message: str) -> None:
        raise SlaConfigError(f"{self.source}: {path or '<top>'}: {message}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...] | None = None) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_kind(value)}")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.fail(
                        f"{path}.{key}" if path else str(key), f"unknown key; allowed: {', '.join(allowed)}"
                    )
        return value

    def objective(
        self, body: Any, path: str, exclusions: list[Exclusion], domain: str | None, machine: str | None
    ) -> dict[str, Any]:
        """Validated overrides of one objective block (only the keys present)."""
        body = self.mapping(body, path, _OBJ_KEYS)
        out: dict[str, Any] = {}
        if "success_objective" in body:
            out["success"] = self.fraction(body["success_objective"], f"{path}.success_objective")
        if "latency" in body:
            out.update(self.latency(body["latency"], f"{path}.latency"))
        if "window" in body:
            out["window"] = self.window(body["window"], f"{path}.window")
        if "min_executions" in body:
            out["min_executions"] = self.whole(body["min_executions"], f"{path}.min_executions")
        if "warning_budget_remaining" in body:
            out["warning_budget_remaining"] = self.fraction(
                body["warning_budget_remaining"], f"{path}.warning_budget_remaining"
            )
        if "owner" in body:
            out["owner"] = self.text(body["owner"], f"{path}.owner")
        if "runbook_url" in body:
            out["runbook_url"] = self.url(body["runbook_url"], f"{path}.runbook_url")
        if "exclusions" in body:
            items = body["exclusions"]
            if not isinstance(items, list):
                self.fail(f"{path}.exclusions", f"expected a list, got {_kind(items)}")
            for i, item in enumerate(items):
                exclusions.append(self.exclusion(item, f"{path}.exclusions[{i}]", domain, machine))
        return out

    def latency(self, body: Any, path: str) -> dict[str, Any]:
        """`none` clears every latency key; a block turns latency on with the keys it holds (see the
        module docstring for how that meets a wider scope's `none`)."""
        if body == LATENCY_NONE:
            return {"latency_judged": False, **dict.fromkeys(_LAT_FIELDS)}
        if not isinstance(body, dict):
            self.fail(
                path,
                f"expected a mapping of {', '.join(_LAT_KEYS)}, or {LATENCY_NONE} when latency is not "
                f"an objective, got {_kind(body)}",
            )
        lat = self.mapping(body, path, _LAT_KEYS)
        out: dict[str, Any] = {"latency_judged": True}
        if "threshold_s" in lat:
            out["latency_threshold_s"] = self.positive(lat["threshold_s"], f"{path}.threshold_s")
        if "objective" in lat:
            out["latency_objective"] = self.fraction(lat["objective"], f"{path}.objective")
        if "p95_max_s" in lat:
            out["latency_p95_max_s"] = self.positive(lat["p95_max_s"], f"{path}.p95_max_s")
        return out

    def window(self, value: Any, path: str) -> str:
        if value not in WINDOWS:
            self.fail(path, f"{value!r} is not a window; allowed: {', '.join(WINDOWS)}")
        return str(value)

    def whole(self, n: Any, path: str) -> int:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            self.fail(path, f"expected a whole number >= 1, got {n!r}")
        return int(n)

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty string, got {_kind(value)}")
        return str(value)

    def url(self, value: Any, path: str) -> str:
        text = self.text(value, path).strip()
        if not text.lower().startswith(("https://", "http://")) or any(c.isspace() for c in text):
            self.fail(path, f"expected an http(s) URL without spaces, got {text!r}")
        return text

    def exclusion(self, item: Any, path: str, domain: str | None, machine: str | None) -> Exclusion:
        item = self.mapping(item, path, _EXCL_KEYS)
        for key in ("start", "end"):
            if key not in item:
                self.fail(f"{path}.{key}", "missing; an exclusion needs start and end (ISO 8601, UTC)")
        start, end = (
            self.timestamp(item["start"], f"{path}.start"),
            self.timestamp(item["end"], f"{path}.end"),
        )
        if end <= start:
            self.fail(f"{path}.end", "must be after start")
        reason = item.get("reason", "")
        if not isinstance(reason, str):
            self.fail(f"{path}.reason", f"expected a string, got {_kind(reason)}")
        return Exclusion(start, end, reason, domain, machine)

    def fraction(self, value: Any, path: str) -> float:
        """A share strictly between 0 and 1, written 0.995 or '99.5%'."""
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                f = float(value.strip()[:-1]) / 100
            except ValueError:
                f = None
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            f = float(value)
        else:
            f = None
        if f is None or not 0 < f < 1:
            self.fail(path, f"expected a share between 0 and 1 exclusive, as 0.995 or '99.5%', got {value!r}")
        return f  # type: ignore[return-value]

    def positive(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            self.fail(path, f"expected a number of seconds > 0, got {value!r}")
        return float(value)

    def timestamp(self, value: Any, path: str) -> datetime:
        if isinstance(value, datetime):
            ts = value
        elif isinstance(value, date):
            ts = datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                ts = None
        else:
            ts = None
        if ts is None:
            self.fail(path, f"expected an ISO 8601 timestamp such as 2025-01-04T22:00:00Z, got {value!r}")
        assert ts is not None
        # YAML timestamps without an offset are taken as UTC, like everything in the lake.
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _kind(value: Any) -> str:
    return (
        f"{type(value).__name__} {value!r}" if not isinstance(value, (dict, list)) else type(value).__name__
    )
