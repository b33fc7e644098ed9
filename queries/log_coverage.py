"""Which machines read from CloudWatch Logs can be judged for an SLA, and why not (pure).

Only level ALL logs ExecutionStarted, ExecutionSucceeded and the task successes: at ERROR or FATAL the
lake holds the failures alone, so a success rate or a latency computed from them would be invented.
Without execution data the SLA is judged, but inputs and outputs have no hash or size.
"""

from __future__ import annotations

import pandas as pd


def judgement(level: str | None, include_data: bool | None, log_group: str | None) -> tuple[bool, str]:
    """(can be judged for an SLA, what the lake holds of the machine's executions)."""
    if not log_group or level in (None, "OFF"):
        return False, "logs nothing (level OFF or no log group): no executions are known"
    if level in ("ERROR", "FATAL"):
        kept = "failed, timed-out and aborted executions" if level == "FATAL" else "failures"
        return False, f"logs at {level}: only {kept} are recorded, successes and durations are unknown"
    if include_data is False:
        return True, "logs ALL without execution data: judged, but inputs and outputs have no hash or size"
    return True, "logs ALL: every execution and state is recorded"


def with_judgement(df: pd.DataFrame) -> pd.DataFrame:
    """`log_coverage` rows with `judgeable` and `why`."""
    pairs = [
        judgement(lv, None if pd.isna(inc) else bool(inc), grp)
        for lv, inc, grp in zip(
            df["logging_level"], df["include_execution_data"], df["log_group_arn"], strict=True
        )
    ]
    return df.assign(judgeable=[p[0] for p in pairs], why=[p[1] for p in pairs])
