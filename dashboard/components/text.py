"""Showing text that came from AWS (names, errors, causes) as text, never as markup."""

from __future__ import annotations

import string

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
