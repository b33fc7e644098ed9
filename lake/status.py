"""Status names of executions and state runs, decided once for the collectors, the lake and the queries."""

from __future__ import annotations

RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"
PENDING_REDRIVE, CAUGHT = "PENDING_REDRIVE", "CAUGHT"

# An execution that has finished (the SLA counts these) and one that finished without success.
TERMINAL = (SUCCEEDED, FAILED, TIMED_OUT, ABORTED)
UNSUCCESSFUL = (FAILED, TIMED_OUT, ABORTED)
EXECUTION_STATUSES = (RUNNING, *TERMINAL, PENDING_REDRIVE)
# A visit of one state: CAUGHT = failed, then handled by a Catch.
STATE_RUN_STATUSES = (SUCCEEDED, FAILED, CAUGHT, TIMED_OUT, ABORTED, RUNNING)
