"""The Execution page's figures without Streamlit: Task retries and how long a running execution has run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard.components.flow_overlay import task_retries
from dashboard.components.text import elapsed, running_for


def runs(*rows: tuple[str, int | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {"state_type": [t for t, _ in rows], "attempts": pd.array([a for _, a in rows], dtype="Int64")}
    )


def test_no_retry_over_pass_fail_and_task_states_is_zero() -> None:
    assert task_retries(runs(("Pass", 1), ("Task", 1), ("Choice", 1), ("Fail", 1))) == 0


def test_a_task_with_three_attempts_has_two_retries() -> None:
    assert task_retries(runs(("Pass", 1), ("Task", 3), ("Task", 1), ("Fail", 1))) == 2


def test_retries_add_up_over_task_runs_and_ignore_other_types() -> None:
    assert task_retries(runs(("Task", 2), ("Task", 3), ("Map", 4), ("Task", None))) == 3


def test_no_state_runs_is_no_retry() -> None:
    assert task_retries(runs()) == 0


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "–"),
        (float("nan"), "–"),
        (850, "850 ms"),
        (12_400, "12 s"),
        (4 * 60_000, "4 min"),
        (4 * 60_000 + 12_900, "4 min 12 s"),
        (3 * 3_600_000 + 5 * 60_000 + 59_000, "3 h 5 min"),
        (6 * 86_400_000 + 2 * 3_600_000 + 59 * 60_000, "6 d 2 h"),
        (2 * 86_400_000, "2 d"),
        (-5, "0 ms"),
    ],
)
def test_elapsed_shows_the_two_largest_whole_units(ms: float | None, text: str) -> None:
    assert elapsed(ms) == text


def test_running_for_counts_from_the_start_to_now() -> None:
    start = datetime(2026, 11, 13, 21, 30, tzinfo=UTC)
    assert running_for(start, start + timedelta(days=6, hours=2, minutes=10)) == "running for 6 d 2 h"
    assert running_for(pd.Timestamp(start), start + timedelta(minutes=3)) == "running for 3 min"
