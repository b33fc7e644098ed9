"""Imports point one way: dashboard → queries → lake; collectors → lake. Every import of every module
(module level and inside functions) is read from its source, so a new one that breaks the rule fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("lake", "collectors", "queries", "dashboard", "stepscope")
# What each package may import of ours (itself included). The dashboard may use the pure ASL model.
ALLOWED = {
    "lake": {"lake"},
    "collectors": {"lake", "collectors"},
    "queries": {"lake", "queries"},
    "dashboard": {"dashboard", "queries", "lake.asl"},
    "stepscope": set(OURS),
}
# `python -m collectors` / `python -m queries` run the `stepscope` command line: entry points, not library code.
ALIASES = {"collectors/__main__.py", "queries/__main__.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in out if m.split(".")[0] in OURS}


def _allowed(allowed: set[str], module: str) -> bool:
    return any(module == a or module.startswith(f"{a}.") for a in allowed)


MODULES = sorted(str(p.relative_to(ROOT)) for pkg in OURS for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("rel", MODULES)
def test_imports_point_one_way(rel: str) -> None:
    package = rel.split("/")[0]
    allowed = ALLOWED[package] | ({"stepscope.cli"} if rel in ALIASES else set())
    bad = sorted(m for m in _imports(ROOT / rel) if not _allowed(allowed, m))
    assert not bad, f"{rel} imports {bad}: {package} may import only {sorted(allowed)}"


def test_the_rule_is_checked_on_every_package() -> None:
    for pkg in OURS:
        assert any(m.startswith(f"{pkg}/") for m in MODULES), pkg
    assert len(MODULES) > 60
    # The checker itself: a dashboard module importing collectors, or queries importing the dashboard, is caught.
    assert not _allowed(ALLOWED["dashboard"], "collectors.run") and not _allowed(
        ALLOWED["queries"], "dashboard.data"
    )
    assert not _allowed(ALLOWED["dashboard"], "lake.store") and _allowed(
        ALLOWED["dashboard"], "lake.asl.Graph"
    )
