"""Load the question files in `queries/sql/` and find the named parameters each one takes."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@cache
def load_sql(name: str) -> str:
    """The text of `queries/sql/<name>.sql`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {SQL_DIR}")
    return path.read_text()


@cache
def params_of(name: str) -> frozenset[str]:
    """Named parameters (`$name`) used by a query, comments ignored."""
    return frozenset(_PARAM.findall(_COMMENT.sub("", load_sql(name))))


def query_names() -> list[str]:
    """Every question file, by name."""
    return sorted(p.stem for p in SQL_DIR.glob("*.sql"))
