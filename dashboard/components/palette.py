"""Every status's colour, icon and words, in one place: charts, badges and tables all read them here.
Colour is never the only signal: each status also has words (and, for SLA verdicts, an icon)."""

from __future__ import annotations

from queries.statuses import (
    ABORTED,
    BREACHED,
    CAUGHT,
    FAILED,
    INSUFFICIENT_DATA,
    OK,
    RUNNING,
    SUCCEEDED,
    TIMED_OUT,
    WARNING,
)

# SLA verdicts: chart colour, Streamlit badge colour and icon, words; and the order a table sorts them in.
SLA = {
    OK: ("#1a7f37", "green", ":material/check_circle:", "OK: inside the SLA"),
    WARNING: ("#bf8700", "orange", ":material/warning:", "WARNING: error budget running low"),
    BREACHED: ("#d1242f", "red", ":material/error:", "BREACHED: SLA missed"),
    INSUFFICIENT_DATA: ("#6e7781", "gray", ":material/help:", "Not enough executions to judge"),
}
SLA_SEVERITY = {BREACHED: 0, WARNING: 1, OK: 2, INSUFFICIENT_DATA: 3}
STATUS_COLOURS = {status: v[0] for status, v in SLA.items()}
# Executions and state runs.
RUN_COLOURS = {
    SUCCEEDED: "#2da44e",
    FAILED: "#d1242f",
    CAUGHT: "#bf8700",
    TIMED_OUT: "#8250df",
    ABORTED: "#6e7781",
    RUNNING: "#1f6feb",
}
NEUTRAL = "#57606a"
# X-Ray segments and calls: colour and words of what happened (fault 5xx, throttle 429, error 4xx, ok).
TRACE_KINDS = {
    "fault": ("#d1242f", "fault (5xx)"),
    "throttle": ("#fb8500", "throttled (429)"),
    "error": ("#bf8700", "error (4xx)"),
    "ok": ("#4c78a8", "ok"),
}


def status_words(status: str | None) -> str:
    """The SLA status in words, for people who cannot tell the colours apart."""
    return SLA[status][3] if status in SLA else status or "unknown"


def badge(status: str | None) -> tuple[str, str]:
    """(Streamlit colour name, icon) of an SLA status's badge."""
    _, colour, icon, _ = SLA.get(status or "", SLA[INSUFFICIENT_DATA])
    return colour, icon
