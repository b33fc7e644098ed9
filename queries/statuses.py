"""The status names the pages show, from where each is decided: executions and state runs (`lake.status`)
and SLA verdicts (`queries.sla`). The dashboard takes them from here."""

from __future__ import annotations

from lake.status import ABORTED, CAUGHT, FAILED, RUNNING, SUCCEEDED, TIMED_OUT, UNSUCCESSFUL
from queries.sla import BREACHED, INSUFFICIENT_DATA, OK, WARNING

__all__ = [
    "ABORTED",
    "BREACHED",
    "CAUGHT",
    "FAILED",
    "INSUFFICIENT_DATA",
    "OK",
    "RUNNING",
    "SUCCEEDED",
    "TIMED_OUT",
    "UNSUCCESSFUL",
    "WARNING",
]
