"""Scoping cannot be forgotten: every question in dashboard/data.py is cached by the person's scope and
applies it, only such a question may reach the queries, and no other dashboard module reaches the
queries, DuckDB or the lake but through data.py's public functions. Read from the source, so a new
question or a new page that skips the scope fails here (the AppTest in tests/e2e/test_access_pages.py
then checks what each page shows)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard import data

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "dashboard" / "data.py"
ASKS = {"_q", "_m", "_t"}  # what reaches the queries
# what applies the scope: a domain checked or fanned out, rows filtered, a machine, an execution or an
# export right checked, or the grant read
SCOPES = {"_each", "_own", "_domains", "_only", "_seen_machine", "_seen_execution", "_exportable", "scope"}
# Nothing but data.py asks the queries: these are the connection and the classes that run SQL.
DOORS = {
    "queries",
    "queries.connect",
    "queries.Queries",
    "queries.api.Queries",
    "queries.api.connect",
    "queries.metrics.Metrics",
    "queries.traces.Traces",
    "queries.audit.job",
    "queries.audit.access_log",
    "duckdb",
    "pyarrow.parquet",
}
OTHERS = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "dashboard").rglob("*.py")
    if p.name != "data.py" and "__pycache__" not in p.parts
)


def _functions() -> list[ast.FunctionDef]:
    tree = ast.parse(DATA.read_text(encoding="utf-8"))
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)]


def _names(fn: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}


def _is_cached(fn: ast.FunctionDef) -> bool:
    """Decorated `@cached` or `@functools.partial(cached, ...)`."""
    return any("cached" in _names(d) for d in fn.decorator_list)


def questions() -> list[ast.FunctionDef]:
    """The functions of data.py that reach the queries."""
    return [fn for fn in _functions() if _names(fn) & ASKS and fn.name not in ASKS]


def test_every_question_is_cached_by_scope_and_applies_it() -> None:
    found = questions()
    assert len(found) > 30, [f.name for f in found]  # the walk sees the questions
    for fn in found:
        assert _is_cached(fn), f"data.{fn.name} asks the queries without @cached (so without a scope)"
        if not fn.name.startswith("_"):
            assert _names(fn) & SCOPES or fn.name in data.LAKE_WIDE, (
                f"data.{fn.name} asks the queries without applying the person's scope: use _each / _own, "
                "check the machine or execution (_seen_machine, _seen_execution), or, for an answer that "
                "belongs to no domain, add it to LAKE_WIDE"
            )


def test_lake_wide_questions_exist_and_are_few() -> None:
    names = {fn.name for fn in questions()}
    assert data.LAKE_WIDE <= names and len(data.LAKE_WIDE) <= 3


def test_the_queries_refuse_to_answer_outside_a_scoped_question() -> None:
    with pytest.raises(RuntimeError, match="would not be scoped"):
        data._q()
    assert all(getattr(getattr(data, fn.name), "scoped", False) for fn in questions())


def _imports(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("rel", OTHERS)
def test_no_page_reaches_the_queries_but_through_data(rel: str) -> None:
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    doors = sorted(m for m in _imports(tree) if m in DOORS or m.startswith("queries.audit.job."))
    assert not doors, f"{rel} imports {doors}: ask dashboard.data, which scopes every question"
    private = sorted(
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "data"
        if n.attr.startswith("_")
    )
    assert not private, f"{rel} uses data.{private}: only data.py's public (scoped) functions"


def test_the_page_checks_see_what_they_must() -> None:
    """The checks above catch what they are for (a check that cannot fail proves nothing)."""
    bad = ast.parse("import queries\nfrom queries.api import connect\nx = data._q()\n")
    assert {"queries", "queries.api.connect"} <= _imports(bad)
    unscoped = ast.parse("@cached\ndef f():\n    return _q().domains()\n").body[0]
    assert isinstance(unscoped, ast.FunctionDef) and _is_cached(unscoped) and not _names(unscoped) & SCOPES
    assert len(OTHERS) > 20 and "dashboard/app_pages/overview.py" in OTHERS
