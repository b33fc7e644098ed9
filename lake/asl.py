"""Amazon States Language definition → graph of states and edges (pure, no I/O).

State names are unique only within one scope: the top level, each Parallel branch and each Map
processor. Every state therefore gets a path id: the bare name at top level and
``<parent id>/<branch index>/<name>`` inside a Parallel branch or a Map processor (branch 0), e.g.
``Parallel1/0/StateA``. In an id a name's ``%`` and ``/`` are percent-encoded so ids never clash.

Virtual nodes: ``START`` (``"__start__"``) is the source of the single ``start`` edge to the
machine's StartAt; each scope has its own end node (``END`` = ``"__end__"`` at top level,
``<parent id>/<branch>/__end__`` inside a branch) that End: true, Succeed and Fail states point to.
Edges and states are listed in definition order (a state, its edges, then its nested states).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

START = "__start__"
END = "__end__"
STATE_TYPES = frozenset({"Task", "Choice", "Pass", "Wait", "Succeed", "Fail", "Map", "Parallel"})
EDGE_KINDS = frozenset({"next", "choice", "default", "catch", "start", "branch_start", "end"})
LABEL_MAX = 60

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster when present
_RESERVED = frozenset({START, END})


class AslError(ValueError):
    """A definition that cannot be read as a state machine; the message names the problem and where."""


@dataclass(slots=True, eq=False)
class State:
    """One state of the definition, placed in its scope."""

    id: str
    name: str
    type: str
    parent: str | None = None  # id of the enclosing Map/Parallel, None at top level
    branch: int | None = None  # Parallel branch index, 0 for a Map processor, None at top level
    depth: int = 0
    next: str | None = None  # id of the Next state
    resource: str | None = None  # Task only
    map_mode: str | None = None  # Map only: INLINE or DISTRIBUTED
    branch_count: int = 0  # Parallel: number of branches, Map: 1
    is_end: bool = False  # End: true, Succeed or Fail
    comment: str | None = None
    query_language: str = "JSONPath"  # effective language (state override or the machine's)
    retry_count: int = 0  # number of Retry rules
    catch_errors: list[str] = field(default_factory=list)  # ErrorEquals of every Catch, in order
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the state's own object, not a copy

    @property
    def has_retry(self) -> bool:
        return self.retry_count > 0

    @property
    def has_catch(self) -> bool:
        return bool(self.raw.get("Catch"))


@dataclass(frozen=True, slots=True)
class Edge:
    """A transition: ``src``/``dst`` are state ids or virtual nodes (START, scope end nodes)."""

    src: str
    dst: str
    kind: str  # one of EDGE_KINDS
    label: str | None = None

    @property
    def is_error(self) -> bool:
        return self.kind == "catch"


@dataclass(slots=True, eq=False)
class Graph:
    """States (keyed by path id, in definition order), edges, and lookups by name and scope."""

    states: dict[str, State]
    edges: list[Edge]
    start: str
    query_language: str = "JSONPath"
    comment: str | None = None
    timeout_seconds: int | None = None
    warnings: list[str] = field(default_factory=list)  # tolerated quirks (e.g. skipped non-state entries)
    # (parent id, branch) → {name: id}; built by the parser, read by find()/children()
    _scopes: dict[tuple[str | None, int | None], dict[str, str]] = field(default_factory=dict, repr=False)
    _by_name: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __iter__(self) -> Iterator[State]:
        return iter(self.states.values())

    def __len__(self) -> int:
        return len(self.states)

    def children(self, state_id: str, branch: int | None = None) -> list[State]:
        """Direct children of a Map/Parallel state (one branch, or all branches in order)."""
        st = self.states[state_id]
        branches = range(st.branch_count) if branch is None else (branch,)
        return [self.states[i] for b in branches for i in self._scopes.get((state_id, b), {}).values()]

    def top_level(self) -> list[State]:
        """States of the top-level scope, in definition order."""
        return [self.states[i] for i in self._scopes[(None, None)].values()]

    def find(self, name: str, parent: str | None = None, branch: int | None = None) -> State | None:
        """The state called ``name`` in the scope of ``parent`` (None = top level), or None.

        Parallel branches are separate scopes: without ``branch`` the first branch holding the name wins.
        """
        if parent is None:
            sid = self._scopes[(None, None)].get(name)
            return None if sid is None else self.states[sid]
        st = self.states.get(parent)
        if st is None:
            return None
        for b in range(st.branch_count) if branch is None else (branch,):
            sid = self._scopes.get((parent, b), {}).get(name)
            if sid is not None:
                return self.states[sid]
        return None

    def by_name(self, name: str) -> list[State]:
        """Every state called ``name``, in any scope, in definition order."""
        return [self.states[i] for i in self._by_name.get(name, ())]

    def end_node(self, parent: str | None = None, branch: int | None = None) -> str:
        """Id of the virtual end node of a scope."""
        return end_node_id(parent, branch)

    def is_virtual(self, node_id: str) -> bool:
        """True for START and the scope end nodes (not states)."""
        return node_id not in self.states and (node_id == START or node_id.endswith(END))


def state_id(name: str, parent: str | None = None, branch: int | None = None) -> str:
    """Path id of a state: the name at top level, ``parent/branch/name`` in a nested scope."""
    esc = name.replace("%", "%25").replace("/", "%2F")
    if esc in _RESERVED:  # a state literally named like a virtual node
        esc = "%5F" + esc[1:]
    return esc if parent is None else f"{parent}/{branch}/{esc}"


def end_node_id(parent: str | None = None, branch: int | None = None) -> str:
    """Id of the virtual end node of a scope (END at top level)."""
    return END if parent is None else f"{parent}/{branch}/{END}"


def load_definition(text: str | bytes) -> dict[str, Any]:
    """JSON or YAML text → the definition object, AslError if it is neither or not an object."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise AslError(f"definition is not UTF-8 text: {e}") from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise AslError("definition is empty")
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as je:
            # YAML is a superset of JSON: a flow mapping with YAML-only syntax may still load
            try:
                doc = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - safe loader
            except yaml.YAMLError:
                raise AslError(f"invalid JSON: {je}") from None
    else:
        try:
            doc = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - safe loader
        except yaml.YAMLError as ye:
            raise AslError(f"invalid YAML: {ye}") from None
    if not isinstance(doc, dict):
        raise AslError(f"definition is not an object (got {type(doc).__name__})")
    return doc


def parse_definition(text_or_obj: str | bytes | Mapping[str, Any]) -> Graph:
    """Parse an ASL definition (JSON text, YAML text or a parsed dict) into a Graph."""
    doc = text_or_obj if isinstance(text_or_obj, Mapping) else load_definition(text_or_obj)
    ql = doc.get("QueryLanguage", "JSONPath")
    if ql not in ("JSONPath", "JSONata"):
        raise AslError(f'QueryLanguage: unknown query language "{ql}" (expected JSONPath or JSONata)')
    timeout = doc.get("TimeoutSeconds")
    graph = Graph(
        states={},
        edges=[],
        start="",
        query_language=ql,
        comment=_str_or_none(doc.get("Comment")),
        timeout_seconds=timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else None,
    )
    graph.start = _Builder(graph).scope(doc, "(definition)", "", None, None, 0, ql)
    graph.edges.insert(0, Edge(START, graph.start, "start"))
    return graph


@dataclass(slots=True)
class _Scope:
    """A checked scope waiting to be filled."""

    states_path: str
    parent: str | None
    branch: int | None
    depth: int
    ql: str
    names: dict[str, str]
    entries: list[tuple[str, Mapping[str, Any]]]
    start: str


class _Builder:
    """Walks scopes depth-first, filling the graph in definition order."""

    __slots__ = ("g",)

    def __init__(self, graph: Graph) -> None:
        self.g = graph

    def scope(
        self,
        obj: Any,
        where: str,
        prefix: str,
        parent: str | None,
        branch: int | None,
        depth: int,
        ql: str,
    ) -> str:
        """Add one scope (an object with StartAt and States); returns the id of its StartAt state."""
        sc = self.prepare(obj, where, prefix, parent, branch, depth, ql)
        self.fill(sc)
        return sc.start

    def prepare(
        self,
        obj: Any,
        where: str,
        prefix: str,
        parent: str | None,
        branch: int | None,
        depth: int,
        ql: str,
    ) -> _Scope:
        """Check a scope's shape and collect its names, so Next may point forward."""
        if not isinstance(obj, Mapping):
            raise AslError(f"{where}: expected an object with StartAt and States, got {_kind(obj)}")
        start_at = obj.get("StartAt")
        if start_at is None:
            raise AslError(f"{where}: missing StartAt")
        raw_states = obj.get("States")
        if raw_states is None:
            raise AslError(f"{where}: missing States")
        if not isinstance(raw_states, Mapping):
            raise AslError(f"{where}: States must be an object, got {_kind(raw_states)}")
        states_path = f"{prefix}States"
        names: dict[str, str] = {}
        entries: list[tuple[str, Mapping[str, Any]]] = []
        for name, body in raw_states.items():
            if not isinstance(body, Mapping):
                # e.g. a misplaced "QueryLanguage": "JSONata" inside States: not a state
                self.g.warnings.append(f"{states_path}.{name}: skipped, not a state object ({_kind(body)})")
                continue
            name = str(name)
            names[name] = state_id(name, parent, branch)
            entries.append((name, body))
        if not entries:
            raise AslError(f"{where}: States is empty")
        self.g._scopes[(parent, branch)] = names
        start = self.ref(names, start_at, f"{prefix}StartAt" if prefix else "StartAt")
        return _Scope(states_path, parent, branch, depth, ql, names, entries, start)

    def fill(self, sc: _Scope) -> None:
        """Add each state of a prepared scope, its edges, then its nested scopes (definition order)."""
        end = end_node_id(sc.parent, sc.branch)
        for name, body in sc.entries:
            path = f"{sc.states_path}.{name}"
            st = self.state(name, sc.names[name], body, path, sc.parent, sc.branch, sc.depth, sc.ql)
            self.g.states[st.id] = st
            self.g._by_name.setdefault(name, []).append(st.id)
            self.edges(st, body, path, sc.names, end)
            self.nested(st, body, path)

    def state(
        self,
        name: str,
        sid: str,
        body: Mapping[str, Any],
        path: str,
        parent: str | None,
        branch: int | None,
        depth: int,
        ql: str,
    ) -> State:
        typ = body.get("Type")
        if typ is None:
            raise AslError(f"{path}: missing Type")
        if typ not in STATE_TYPES:
            raise AslError(
                f"{path}.Type: unknown type {_show(typ)} (expected one of {', '.join(sorted(STATE_TYPES))})"
            )
        st_ql = body.get("QueryLanguage", ql)
        if st_ql not in ("JSONPath", "JSONata"):
            raise AslError(f"{path}.QueryLanguage: unknown query language {_show(st_ql)}")
        retry = body.get("Retry")
        catch = body.get("Catch")
        errors: list[str] = []
        if isinstance(catch, list):
            for c in catch:
                if isinstance(c, Mapping):
                    errors.extend(str(e) for e in c.get("ErrorEquals") or () if str(e) not in errors)
        st = State(
            id=sid,
            name=name,
            type=typ,
            parent=parent,
            branch=branch,
            depth=depth,
            is_end=typ in ("Succeed", "Fail") or body.get("End") is True,
            comment=_str_or_none(body.get("Comment")),
            query_language=st_ql,
            retry_count=len(retry) if isinstance(retry, list) else 0,
            catch_errors=errors,
            raw=body,
        )
        if typ == "Task":
            st.resource = _str_or_none(body.get("Resource"))
        elif typ == "Map":
            proc = body.get("ItemProcessor")
            cfg = proc.get("ProcessorConfig") if isinstance(proc, Mapping) else None
            mode = cfg.get("Mode") if isinstance(cfg, Mapping) else None
            st.map_mode = str(mode).upper() if mode else "INLINE"
            st.branch_count = 1
        elif typ == "Parallel":
            branches = body.get("Branches")
            st.branch_count = len(branches) if isinstance(branches, list) else 0
        return st

    def edges(self, st: State, body: Mapping[str, Any], path: str, names: dict[str, str], end: str) -> None:
        """Every edge out of one state: Next, Choice rules and Default, Catch, End."""
        nxt = body.get("Next")
        if nxt is not None and st.type not in ("Choice", "Succeed", "Fail"):
            st.next = self.ref(names, nxt, f"{path}.Next")
            self.g.edges.append(Edge(st.id, st.next, "next"))
        elif nxt is None and not st.is_end and st.type != "Choice":
            self.g.warnings.append(f"{path}: neither Next nor End")
        if st.type == "Choice":
            self.choice_edges(st, body, path, names)
        self.catch_edges(st, body, path, names)
        if st.is_end:
            self.g.edges.append(
                Edge(st.id, end, "end", "End" if st.type not in ("Succeed", "Fail") else st.type)
            )

    def choice_edges(self, st: State, body: Mapping[str, Any], path: str, names: dict[str, str]) -> None:
        rules = body.get("Choices")
        if not isinstance(rules, list) or not rules:
            raise AslError(f"{path}.Choices: missing or empty (a Choice state needs at least one rule)")
        for i, rule in enumerate(rules):
            rpath = f"{path}.Choices[{i}]"
            if not isinstance(rule, Mapping):
                raise AslError(f"{rpath}: expected a rule object, got {_kind(rule)}")
            if "Next" not in rule:
                raise AslError(f"{rpath}: missing Next")
            dst = self.ref(names, rule["Next"], f"{rpath}.Next")
            self.g.edges.append(Edge(st.id, dst, "choice", rule_label(rule)))
        if "Default" in body:
            dst = self.ref(names, body["Default"], f"{path}.Default")
            self.g.edges.append(Edge(st.id, dst, "default", "default"))

    def catch_edges(self, st: State, body: Mapping[str, Any], path: str, names: dict[str, str]) -> None:
        catch = body.get("Catch")
        if catch is None:
            return
        if not isinstance(catch, list):
            raise AslError(f"{path}.Catch: expected a list, got {_kind(catch)}")
        for i, c in enumerate(catch):
            cpath = f"{path}.Catch[{i}]"
            if not isinstance(c, Mapping) or "Next" not in c:
                raise AslError(f"{cpath}: missing Next")
            dst = self.ref(names, c["Next"], f"{cpath}.Next")
            errs = c.get("ErrorEquals") or ()
            self.g.edges.append(Edge(st.id, dst, "catch", ", ".join(str(e) for e in errs) or None))

    def nested(self, st: State, body: Mapping[str, Any], path: str) -> None:
        """Nested scopes of a Parallel/Map: all branch_start edges first, then each branch's content."""
        if st.type == "Parallel":
            branches = body.get("Branches")
            if not isinstance(branches, list) or not branches:
                raise AslError(
                    f"{path}.Branches: missing or empty (a Parallel state needs at least one branch)"
                )
            scopes = []
            for i, b in enumerate(branches):
                bpath = f"{path}.Branches[{i}]"
                scopes.append(self.prepare(b, bpath, bpath + ".", st.id, i, st.depth + 1, st.query_language))
        elif st.type == "Map":
            key = "ItemProcessor" if "ItemProcessor" in body else "Iterator"
            if key not in body:
                raise AslError(f"{path}: missing ItemProcessor (or Iterator)")
            ppath = f"{path}.{key}"
            scopes = [self.prepare(body[key], ppath, ppath + ".", st.id, 0, st.depth + 1, st.query_language)]
        else:
            return
        self.g.edges.extend(Edge(st.id, sc.start, "branch_start") for sc in scopes)
        for sc in scopes:
            self.fill(sc)

    @staticmethod
    def ref(names: dict[str, str], target: Any, path: str) -> str:
        if not isinstance(target, str):
            raise AslError(f"{path}: expected a state name, got {_show(target)}")
        sid = names.get(target)
        if sid is None:
            raise AslError(f"{path}: {_show(target)} is not a state in this scope")
        return sid


# --- Choice rule labels -----------------------------------------------------------------------

_OPS = (  # longest suffix first
    ("GreaterThanEquals", ">="),
    ("LessThanEquals", "<="),
    ("GreaterThan", ">"),
    ("LessThan", "<"),
    ("Equals", "=="),
)
_TESTS = {
    "IsPresent": "present",
    "IsNull": "null",
    "IsNumeric": "numeric",
    "IsString": "a string",
    "IsBoolean": "a boolean",
    "IsTimestamp": "a timestamp",
}


def rule_label(rule: Mapping[str, Any], limit: int = LABEL_MAX) -> str:
    """A short readable rendering of a Choice rule, e.g. ``$.status == "FAILED"``."""
    text = _render(rule, top=True)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _render(rule: Any, top: bool = False) -> str:
    if not isinstance(rule, Mapping):
        return "?"
    cond = rule.get("Condition")
    if cond is not None:  # JSONata
        return _condition(cond)
    for key, joiner in (("And", " and "), ("Or", " or ")):
        if key in rule and isinstance(rule[key], list):
            text = joiner.join(_render(r) for r in rule[key])
            return text if top else f"({text})"
    if "Not" in rule:
        inner = rule["Not"]
        if isinstance(inner, Mapping) and len(tests := [k for k in inner if k in _TESTS]) == 1:
            return _render({**inner, tests[0]: inner[tests[0]] is not True})  # "is not present"
        return f"not ({_render(inner, top=True)})"
    var = str(rule.get("Variable", "?"))
    for key, value in rule.items():
        found = _comparison(var, key, value)
        if found is not None:
            return found
    return var if var != "?" else "rule"


def _condition(cond: Any) -> str:
    if not isinstance(cond, str):
        return json.dumps(cond)
    c = cond.strip()
    return c[2:-2].strip() if c.startswith("{%") and c.endswith("%}") else c


_COMPARED = ("String", "Numeric", "Boolean", "Timestamp")


def _comparison(var: str, key: Any, value: Any) -> str | None:
    """`var <op> value` for one comparison operator of a JSONPath rule (None: `key` is not one)."""
    if key in _TESTS:
        return f"{var} {'is' if value is True else 'is not'} {_TESTS[key]}"
    if key == "StringMatches":
        return f"{var} matches {json.dumps(value)}"
    if not isinstance(key, str):
        return None
    base = key[:-4] if key.endswith("Path") else key
    for suffix, op in _OPS:
        if base.endswith(suffix) and base[: -len(suffix)] in _COMPARED:
            shown = str(value) if key.endswith("Path") else json.dumps(value, default=str)
            return f"{var} {op} {shown}"
    return None


# --- small helpers ---------------------------------------------------------------------------


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else (None if v is None else str(v))


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}


def _kind(v: Any) -> str:
    return _KINDS.get(type(v), type(v).__name__)


def _show(v: Any) -> str:
    return json.dumps(v, default=str) if isinstance(v, str | int | float | bool | type(None)) else _kind(v)
