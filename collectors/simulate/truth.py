"""The ground truth of a simulated build: injected incidents and true figures per state machine (pure)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from collectors.simulate import records
from collectors.simulate.model import MachineSpec
from collectors.simulate.scenario import CollectionGap, Incidents


def ground_truth(
    specs: list[MachineSpec],
    inc: Incidents,
    start_ms: int,
    end_ms: int,
    seed: int,
    figures: list[dict[str, Any]],
    gap: CollectionGap | None = None,
) -> dict[str, Any]:
    """What really happened in the simulated account: incidents, true rates per machine (of the
    executions in the lake) and what the collection missed.

    `figures` are the per-day counts of a build (statuses, redrives, outage hits per machine, missed
    executions per start day).
    """
    iso = lambda ms: records.ms_to_dt(ms).isoformat()  # noqa: E731
    by_name = {s.name: s for s in specs}
    status: dict[str, Counter] = {s.name: Counter() for s in specs}
    outage: Counter = Counter()
    redriven: Counter = Counter()
    for f in figures:
        for (name, st), c in f["status"].items():
            status[name][st] += c
        outage.update(f["outage"])
        redriven.update(f["redriven"])
    machines = {}
    for s in specs:
        c = status[s.name]
        total = sum(c.values())
        finished = total - c.get("RUNNING", 0)
        machines[s.arn()] = {
            "name": s.name,
            "domain": s.domain,
            "region": s.region,
            "executions": total,
            "by_status": dict(sorted(c.items())),
            "redriven": redriven.get(s.name, 0),
            "failure_rate": round((finished - c.get("SUCCEEDED", 0)) / finished, 6) if finished else None,
        }
    dm = by_name[inc.degr_machine]
    deploy = by_name[inc.deploy_machine]
    return {
        "seed": seed,
        "window_start": iso(start_ms),
        "window_end": iso(end_ms),
        "failure_rate_definition": "(FAILED + TIMED_OUT + ABORTED) / finished executions, final status after redrives",
        "incidents": [
            {
                "id": "model-endpoint-outage",
                "kind": "outage",
                "start": iso(inc.outage_start),
                "end": iso(inc.outage_end),
                "domain": by_name[inc.outage_machines[0]].domain,
                "state": inc.outage_state,
                "error": inc.outage_error,
                "attempt_failure_probability": inc.outage_fail,
                "machines": [
                    {
                        "state_machine_arn": by_name[n].arn(),
                        "name": n,
                        "executions_started_in_window": outage.get((n, "executions"), 0),
                        "executions_with_state_failed": outage.get((n, "state_failed"), 0),
                        "executions_not_succeeded": outage.get((n, "execution_not_succeeded"), 0),
                    }
                    for n in inc.outage_machines
                ],
                "description": "The model endpoint behind InvokeModel answers 503 for two hours",
            },
            {
                "id": "scoring-degradation",
                "kind": "degradation",
                "start": iso(inc.degr_start),
                "end": iso(inc.degr_end),
                "domain": dm.domain,
                "state_machine_arn": dm.arn(),
                "name": dm.name,
                "state": inc.degr_state,
                "error": "States.Timeout",
                "latency_factor_at_end": inc.degr_latency,
                "extra_timeout_probability_at_end": inc.degr_timeout,
                "description": "The scoring service slows down steadily; more attempts hit TimeoutSeconds",
            },
            {
                "id": "triage-v2-latency-regression",
                "kind": "deployment",
                "start": iso(inc.deploy_at),
                "domain": deploy.domain,
                "state_machine_arn": deploy.arn(),
                "name": deploy.name,
                "state": inc.deploy_state,
                "old_version_arn": records.version_arn(deploy, 1),
                "new_version_arn": records.version_arn(deploy, 2),
                "latency_factor": inc.deploy_latency,
                "description": "Version 2 of the triage machine makes ClassifyIntent slower",
            },
        ],
        "machines": machines,
        "collection_gaps": _gaps(by_name, gap, figures, iso),
    }


def _gaps(
    by_name: dict[str, MachineSpec], gap: CollectionGap | None, figures: list[dict[str, Any]], iso: Any
) -> list[dict[str, Any]]:
    """The injected collection gap: executions that ran and that CloudWatch counted, not in the lake."""
    if gap is None:
        return []
    missed: Counter = Counter()
    for f in figures:
        missed.update(f.get("missed") or {})
    spec = by_name[gap.machine]
    return [
        {
            "id": "histories-collection-lag",
            "cause": gap.cause,
            "state_machine_arn": spec.arn(),
            "name": spec.name,
            "domain": spec.domain,
            "start": iso(gap.start_ms),
            "end": iso(gap.end_ms),
            "executions_missing": sum(missed.values()),
            "by_day": dict(sorted(missed.items())),
            "description": "The histories collection of this machine fell behind: the executions it "
            "started in the window's last hours ran (CloudWatch counted them) but are not in the lake",
        }
    ]
