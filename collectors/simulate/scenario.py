"""What happens when: traffic curves, the Zipf spread, and the injected incidents (pure, numpy).

A *regime* is the set of behaviours a machine runs under at a moment: normal, during the model
outage, at a level of the slow degradation, or after the regressing version was deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from collectors.simulate.model import ACCOUNT_ID, Behaviour, MachineSpec
from lake.asl import parse_definition
from lake.functions import task_function

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
# Long enough that the outage costs ai-inference its monthly error budget, as a real one would.
OUTAGE_HOURS = 6
DEGRADATION_LEVELS = 6
# During the outage, each attempt of the outage machines' Lambda Tasks fails this often: mostly
# throttled (Lambda.TooManyRequestsException, which their Retry retries), sometimes a function error.
OUTAGE_LAMBDA_FAIL = 0.6
OUTAGE_LAMBDA_ERRORS = (("Lambda.TooManyRequestsException", 0.85), ("Lambda.Unknown", 0.15))
# Share of a business machine's daily traffic per UTC hour (EU morning to US afternoon).
BUSINESS_HOURS = np.array(
    [
        1.2,
        0.9,
        0.8,
        0.8,
        0.9,
        1.3,
        2.2,
        3.6,
        5.2,
        6.4,
        6.9,
        7.0,
        7.2,
        7.6,
        7.8,
        7.5,
        6.9,
        6.0,
        4.8,
        3.6,
        2.6,
        2.0,
        1.6,
        1.4,
    ]
)
NIGHTLY_HOURS = np.array([0.3, 6, 10, 8, 4, 1] + [0.2] * 18)
WEEKEND = 0.45  # business traffic on Saturdays and Sundays


@dataclass(frozen=True)
class Regime:
    """Machine index, version number, condition ("normal", "outage", "degraded") and its level."""

    machine: int
    version: int = 1
    cond: str = "normal"
    level: int = 0


@dataclass(frozen=True)
class Incidents:
    """The injected incidents and deployment, in epoch milliseconds."""

    outage_start: int
    outage_end: int
    outage_machines: tuple[str, ...]
    outage_state: str
    outage_error: str
    outage_fail: float
    degr_start: int
    degr_end: int
    degr_machine: str
    degr_state: str
    degr_latency: float  # latency factor reached at the end
    degr_timeout: float  # extra P(timeout) per attempt reached at the end
    deploy_at: int
    deploy_machine: str
    deploy_state: str
    deploy_latency: float


# The SLA verdicts the demo is built to show at its default size (90 days, about 100,000 executions)
# under the repository's slas.yaml, each domain over its objective's own window, and why.
EXPECTED_SLA: dict[str, tuple[str, str]] = {
    "ai-inference": (
        "BREACHED",
        "model-endpoint-outage: six hours of Bedrock 503s fail more executions of "
        "ai-inference-rag-answer (99.9 %) than the domain's budget allows",
    ),
    "risk-compliance": (
        "BREACHED",
        "scoring-degradation: ScoreTransaction times out more and more, and "
        "risk-compliance-transaction-monitoring spends its budget twice over",
    ),
    "customer-care": (
        "WARNING",
        "triage-v2-latency-regression: version 2 of customer-care-ticket-triage "
        "classifies slower and uses most of the domain's latency budget (5 s, 93 %)",
    ),
    "payments": ("OK", "inside every objective, with more than a quarter of the budget left"),
    "supply-chain": ("OK", "inside every objective, with more than a quarter of the budget left"),
}


def plan_incidents(start_ms: int, end_ms: int) -> Incidents:
    """Place the incidents inside the simulated window (relative to its end, so small demos have them)."""
    days = max(1, (end_ms - start_ms) // DAY_MS)
    end_day = end_ms // DAY_MS * DAY_MS
    outage = end_day - max(1, min(9, days // 3)) * DAY_MS + 14 * HOUR_MS
    degr_start = end_ms - max(1, min(10, days // 3)) * DAY_MS
    deploy = end_day - max(1, min(30, days // 2)) * DAY_MS + 10 * HOUR_MS
    return Incidents(
        outage,
        outage + OUTAGE_HOURS * HOUR_MS,
        ("ai-inference-rag-answer", "ai-inference-document-extraction"),
        "InvokeModel",
        "Bedrock.ServiceUnavailableException",
        0.97,
        degr_start,
        end_ms,
        "risk-compliance-transaction-monitoring",
        "ScoreTransaction",
        3.5,
        0.09,
        deploy,
        "customer-care-ticket-triage",
        "ClassifyIntent",
        2.4,
    )


@dataclass(frozen=True)
class CollectionGap:
    """Executions that ran (CloudWatch counted them) but the collection missed: here the histories
    collection of one machine fell behind, so its executions started in [start, end) are not in
    the lake and its cursor stops before them."""

    machine: str
    start_ms: int
    end_ms: int
    cause: str = "collection_lag"


# The histories collection of this machine is this many hours behind at the end of the window.
GAP_MACHINE, GAP_HOURS = "payments-exception-pipeline", 30


def plan_gap(start_ms: int, end_ms: int) -> CollectionGap | None:
    """The injected collection gap: the last GAP_HOURS of one machine (none in windows under 3 days)."""
    if end_ms - start_ms < 3 * DAY_MS:
        return None
    return CollectionGap(GAP_MACHINE, end_ms - GAP_HOURS * HOUR_MS, end_ms)


def behaviours(spec: MachineSpec, regime: Regime, inc: Incidents) -> dict[str, Behaviour]:
    """The state behaviours of a machine under a regime."""
    beh = dict(spec.states)
    if regime.cond == "outage" and inc.outage_state in beh:
        beh[inc.outage_state] = beh[inc.outage_state].scaled(
            fail=inc.outage_fail, errors=((inc.outage_error, 1.0),), latency=0.15
        )
        # Callers re-submit what failed: the machine's Lambda functions run out of concurrency and
        # are throttled (retried by the Tasks' Retry), and a few invocations time out.
        for name in lambda_states(spec):
            b = beh.get(name) or Behaviour(200.0, 0.4)
            beh[name] = b.scaled(fail=OUTAGE_LAMBDA_FAIL, errors=OUTAGE_LAMBDA_ERRORS)
    if regime.cond == "degraded" and inc.degr_state in beh:
        s = regime.level / DEGRADATION_LEVELS
        b = beh[inc.degr_state]
        beh[inc.degr_state] = b.scaled(
            latency=1 + (inc.degr_latency - 1) * s, timeout=b.timeout + inc.degr_timeout * s
        )
    if regime.version >= 2 and spec.name == inc.deploy_machine and inc.deploy_state in beh:
        beh[inc.deploy_state] = beh[inc.deploy_state].scaled(latency=inc.deploy_latency)
    return beh


def lambda_states(spec: MachineSpec) -> list[str]:
    """Names of the machine's Task states that invoke a Lambda function."""
    graph = parse_definition(spec.definition)
    return sorted({st.name for st in graph if task_function(st, spec.region, ACCOUNT_ID) is not None})


def regimes_for(specs: list[MachineSpec], inc: Incidents, m: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Regime code of each execution (machine index `m`, start ms): see `decode_regime`."""
    names = [s.name for s in specs]
    code = np.zeros(len(m), dtype=np.int64)  # 0 normal; 1 outage; 10+level degraded; version in the 100s
    in_outage = (start >= inc.outage_start) & (start < inc.outage_end)
    for n in inc.outage_machines:
        code[(m == names.index(n)) & in_outage] = 1
    dm = (m == names.index(inc.degr_machine)) & (start >= inc.degr_start)
    level = np.clip(
        np.ceil((start - inc.degr_start) / max(1, inc.degr_end - inc.degr_start) * DEGRADATION_LEVELS),
        1,
        DEGRADATION_LEVELS,
    ).astype(np.int64)
    code[dm] = 10 + level[dm]
    code[(m == names.index(inc.deploy_machine)) & (start >= inc.deploy_at)] += 100
    return code


def decode_regime(machine: int, code: int) -> Regime:
    version = 2 if code >= 100 else 1
    c = code % 100
    if c == 1:
        return Regime(machine, version, "outage")
    if c > 10:
        return Regime(machine, version, "degraded", c - 10)
    return Regime(machine, version)


def machine_shares(n: int, exponent: float = 1.0) -> np.ndarray:
    """Zipf-like share of traffic per machine rank."""
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def day_weight(day_ms: int, start_ms: int, end_ms: int, schedule: str) -> float:
    """Expected traffic of one day relative to an ordinary weekday (weekly cycle, slow growth, cut-offs)."""
    weekday = _weekday(day_ms)
    w = 1.0 if schedule == "nightly" or weekday < 5 else WEEKEND
    w *= 0.9 + 0.2 * (day_ms - start_ms) / max(1, end_ms - start_ms)  # traffic grows ~20 % over the window
    hours = NIGHTLY_HOURS if schedule == "nightly" else BUSINESS_HOURS
    lo = max(0, (start_ms - day_ms) // HOUR_MS)
    hi = min(24, -(-(end_ms - day_ms) // HOUR_MS))
    return w * float(hours[lo:hi].sum() / hours.sum()) if hi > lo else 0.0


def _weekday(day_ms: int) -> int:
    return (day_ms // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday


def start_times(rng: np.random.Generator, n: int, day_ms: int, schedule: str) -> np.ndarray:
    """`n` start times (ms) within one day, following the schedule's hourly profile."""
    hours = NIGHTLY_HOURS if schedule == "nightly" else BUSINESS_HOURS
    h = rng.choice(24, size=n, p=hours / hours.sum())
    return day_ms + h * HOUR_MS + rng.integers(0, HOUR_MS, size=n)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_dt(ms: int) -> datetime:
    """Epoch milliseconds → an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=int(ms))
