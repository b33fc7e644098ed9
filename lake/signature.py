"""Error signatures: a failure's cause with its varying parts (ids, numbers, ARNs, UUIDs, times) masked.

Pure functions. `queries/sql/base.sql` (macros `cause_pattern`, `error_signature`) applies the same
rules inside DuckDB; a unit test checks both agree.
"""

from __future__ import annotations

import hashlib
import re

MAX_PATTERN = 300

# (pattern, placeholder), applied in order: specific shapes before the generic number rule.
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"""arn:aws[A-Za-z-]*:[^\s"',;)\]}]+"""), "<arn>"),
    (re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), "<ts>"),
    (
        re.compile(
            r"\b(0x)?[0-9A-Fa-f]*[0-9][0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*\b"
            r"|\b(0x)?[0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*[0-9][0-9A-Fa-f]*\b"
        ),
        "<hex>",
    ),
    (re.compile(r"\d+(\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def cause_pattern(cause: str | None) -> str:
    """The cause with ARNs, UUIDs, timestamps, hex ids and numbers replaced by placeholders."""
    text = cause or ""
    for pattern, placeholder in RULES:
        text = pattern.sub(placeholder, text)
    return text.strip()[:MAX_PATTERN]


def signature(error: str | None, failed_state: str | None, cause: str | None) -> str:
    """Stable 12-hex id of an error group: error + failed state + cause pattern."""
    return pattern_signature(error, failed_state, cause_pattern(cause))


def pattern_signature(error: str | None, failed_state: str | None, pattern: str) -> str:
    """`signature` of a cause already masked by `cause_pattern`."""
    key = "\x1f".join((error or "", failed_state or "", pattern))
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()[:12]
