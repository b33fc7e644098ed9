"""Showing text that came from AWS (names, errors, causes) as text, never as markup."""

from __future__ import annotations

import string
from datetime import datetime

_PUNCT = frozenset(string.punctuation)


def md_escape(text: object) -> str:
    """Backslash-escape every ASCII punctuation character so Markdown shows the text literally.

    Covers Markdown syntax, raw HTML (`<`), Streamlit's `:colour[...]`/`:icon:` directives and `$` maths;
    newlines become spaces so a name cannot start a new block.
    """
    s = "" if text is None else str(text)
    return "".join("\\" + c if c in _PUNCT else (" " if c in "\r\n" else c) for c in s)


def duration(ms: float | None) -> str:
    """A duration in ms as a short human string (850 ms, 12.3 s, 4.1 min, 2.3 h, 7.4 d)."""
    if ms is None or ms != ms:  # NaN
        return "–"
    s = ms / 1000
    if s < 1:
        return f"{ms:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    if s < 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def percent(x: float | None, digits: int = 2) -> str:
    """A fraction as a percentage, '–' when unknown."""
    if x is None or x != x:
        return "–"
    return f"{x * 100:.{digits}f}%"


def compact_duration(ms: float | None) -> str:
    """A duration short enough for a scorecard tile: two significant figures at most (850 ms, 3 s, 37 min, 11 h)."""
    if ms is None or ms != ms:
        return "–"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size:
            v = ms / size
            return f"{v:.1f} {unit}" if v < 10 else f"{v:.0f} {unit}"
    return f"{ms:.0f} ms"


def budget_left(x: float | None) -> str:
    """Error budget left in words: '47%' while some is left, 'overspent (17× budget)' once failures exceed it."""
    if x is None or x != x:
        return "–"
    if x >= 0:
        return f"{x * 100:.0f}%"
    return f"overspent ({budget_used(x)} budget)"


def budget_used(x: float) -> str:
    """How many budgets the failures used, from the fraction left (-16 left → '17×')."""
    used = 1 - x
    return f"{used:.1f}×" if used < 10 else f"{used:,.0f}×"


def shorten(text: object, limit: int = 80) -> str:
    """The first line of a text cut to `limit` characters with an ellipsis (None → '')."""
    s = "" if text is None or text != text else " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000))


def elapsed(ms: float | None) -> str:
    """A duration in ms as its two largest whole units (6 d 2 h, 3 h 5 min, 4 min, 12 s; under a second: 850 ms)."""
    if ms is None or ms != ms:
        return "–"
    ms = max(float(ms), 0.0)
    for i, (unit, size) in enumerate(_UNITS):
        if ms >= size:
            whole, rest = divmod(int(ms), size)
            if i + 1 < len(_UNITS):
                small, small_size = _UNITS[i + 1]
                if rest // small_size:
                    return f"{whole} {unit} {rest // small_size} {small}"
            return f"{whole} {unit}"
    return f"{ms:.0f} ms"


def running_for(start: datetime, now: datetime) -> str:
    """How long a still running execution has run, up to `now` ('running for 6 d 2 h')."""
    return f"running for {elapsed((now - start).total_seconds() * 1000)}"
