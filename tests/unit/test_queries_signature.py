"""Cause normalisation: the Python rules, and the same rules inside DuckDB giving the same answers."""

from __future__ import annotations

import duckdb
import pytest

from lake.signature import cause_pattern, signature
from queries.loader import load_sql

CAUSES = [
    ("Order 123 failed at 2025-01-01T10:08:00Z", "Order <n> failed at <ts>"),
    ("Lambda arn:aws:lambda:us-east-1:111122223333:function:charge:3 timed out", "Lambda <arn> timed out"),
    ("request 1b4e28ba-2fa1-11d2-883f-0016d3cca427 rejected", "request <uuid> rejected"),
    ("trace 5f84c7a1b2 in  segment\n 42", "trace <hex> in segment <n>"),
    ("took 12.5 s (limit 10)", "took <n> s (limit <n>)"),
    ("no variable parts", "no variable parts"),
    (None, ""),
]


@pytest.mark.parametrize(("cause", "expected"), CAUSES)
def test_cause_pattern(cause, expected):
    assert cause_pattern(cause) == expected


def test_same_signature_for_different_ids_and_different_for_other_states():
    a = signature("States.TaskFailed", "Charge", "Order 1 failed at 2025-01-01T00:00:00Z")
    b = signature("States.TaskFailed", "Charge", "Order 99 failed at 2025-02-03T04:05:06.789Z")
    assert a == b and len(a) == 12
    assert a != signature("States.TaskFailed", "Refund", "Order 1 failed at 2025-01-01T00:00:00Z")


def test_sql_macros_match_python():
    con = duckdb.connect()
    con.execute(load_sql("base"))
    for cause, _ in CAUSES + [("x" * 400, "")]:
        sql_pattern, sql_sig = con.execute(
            "SELECT cause_pattern($c), error_signature('E', 'S', cause_pattern($c))", {"c": cause}
        ).fetchone()
        assert sql_pattern == cause_pattern(cause)
        assert sql_sig == signature("E", "S", cause)
