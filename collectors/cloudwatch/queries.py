"""`MetricQuery`: one CloudWatch series and statistic to ask GetMetricData for, with what its rows
join on (state machine, function, domain) and whether a missing datapoint means 0 or unknown."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

Kind = Literal["count", "gauge"]


@dataclass(frozen=True)
class MetricQuery:
    """One metric, statistic and period (a GetMetricData `MetricDataQuery`) and the lake row fields it
    carries. `dimensions` is kept as sorted (name, value) pairs; a mapping is accepted too."""

    id: str  # starts with a lowercase letter (GetMetricData's rule), unique within a call
    namespace: str
    metric_name: str
    stat: str  # Sum, Average, Maximum, p99, ...
    period_s: int
    dimensions: tuple[tuple[str, str], ...] = ()
    unit: str | None = None
    state_machine_arn: str | None = None
    function_name: str | None = None
    domain: str | None = None
    kind: Kind = "count"  # count: no datapoint = 0; gauge: no datapoint = unknown

    def __post_init__(self) -> None:
        dims: Iterable[Any] = self.dimensions
        if isinstance(dims, Mapping):
            dims = dims.items()
        object.__setattr__(self, "dimensions", tuple(sorted((str(k), str(v)) for k, v in dims)))
        if not self.id[:1].islower():
            raise ValueError(f"GetMetricData query ids start with a lowercase letter: {self.id!r}")
        if self.kind not in ("count", "gauge"):
            raise ValueError(f"kind is count or gauge, not {self.kind!r}")

    @property
    def dimensions_json(self) -> str:
        """The `dimensions` column: a JSON object, keys sorted."""
        return json.dumps(dict(self.dimensions), sort_keys=True, separators=(",", ":"))

    def api(self) -> dict[str, Any]:
        """The `MetricDataQuery` of this series. No `Unit` filter: a unit CloudWatch stored differently
        would silently return nothing."""
        metric: dict[str, Any] = {"Namespace": self.namespace, "MetricName": self.metric_name}
        if self.dimensions:
            metric["Dimensions"] = [{"Name": k, "Value": v} for k, v in self.dimensions]
        return {
            "Id": self.id,
            "MetricStat": {"Metric": metric, "Period": self.period_s, "Stat": self.stat},
            "ReturnData": True,
        }


STATES, LAMBDA = "AWS/States", "AWS/Lambda"
NAMESPACES = (STATES, LAMBDA)
# (metric, stat, unit, kind). Counts are asked for as Sum, never SampleCount: every execution emits
# ExecutionsStarted twice (1, then 0). Times are milliseconds.
Series = tuple[str, str, str, Kind]
_TIMES: tuple[str, ...] = ("Average", "Maximum", "p99")
MACHINE: tuple[Series, ...] = (
    *(
        (m, "Sum", "Count", "count")
        for m in (
            "ExecutionsStarted",
            "ExecutionsSucceeded",
            "ExecutionsFailed",
            "ExecutionsAborted",
            "ExecutionsTimedOut",
            "ExecutionThrottled",
            "ExecutionsRedriven",
            "RedrivenExecutionsSucceeded",
            "RedrivenExecutionsFailed",
            "RedrivenExecutionsAborted",
            "RedrivenExecutionsTimedOut",
        )
    ),
    *(("ExecutionTime", s, "Milliseconds", "gauge") for s in _TIMES),
)
EXPRESS: tuple[Series, ...] = (
    ("ExpressExecutionBilledDuration", "Sum", "Milliseconds", "count"),
    ("ExpressExecutionBilledDuration", "Average", "Milliseconds", "gauge"),
    ("ExpressExecutionBilledMemory", "Average", "Megabytes", "gauge"),
)
ACCOUNT: tuple[Series, ...] = tuple(
    (m, "Maximum", "Count", "gauge")
    for m in ("OpenExecutionCount", "OpenExecutionLimit", "ApproximateOpenMapRunCount", "OpenMapRunLimit")
)
# With ServiceMetric=StateTransition, and with each APIName ListMetrics finds.
CAPACITY: tuple[Series, ...] = (
    ("ThrottledEvents", "Sum", "Count", "count"),
    ("ConsumedCapacity", "Sum", "Count", "count"),
    ("ProvisionedBucketSize", "Minimum", "Count", "gauge"),
    ("ProvisionedRefillRate", "Minimum", "Count", "gauge"),
)
# With each ServiceIntegrationResourceArn ListMetrics finds (shared by every machine using it).
INTEGRATION: tuple[Series, ...] = (
    *(
        (m, "Sum", "Count", "count")
        for m in (
            "ServiceIntegrationsScheduled",
            "ServiceIntegrationsStarted",
            "ServiceIntegrationsSucceeded",
            "ServiceIntegrationsFailed",
            "ServiceIntegrationsTimedOut",
        )
    ),
    *(
        (m, "Average", "Milliseconds", "gauge")
        for m in ("ServiceIntegrationTime", "ServiceIntegrationRunTime", "ServiceIntegrationScheduleTime")
    ),
)
FUNCTION: tuple[Series, ...] = (
    ("Invocations", "Sum", "Count", "count"),
    ("Errors", "Sum", "Count", "count"),
    ("Throttles", "Sum", "Count", "count"),
    ("Duration", "Average", "Milliseconds", "gauge"),
    ("Duration", "p95", "Milliseconds", "gauge"),
    ("Duration", "Maximum", "Milliseconds", "gauge"),
    ("ConcurrentExecutions", "Maximum", "Count", "gauge"),
)
API_NAME, INTEGRATION_ARN = "APIName", "ServiceIntegrationResourceArn"


@dataclass(frozen=True)
class Listed:
    """Dimension values ListMetrics found in AWS/States: (metric, value) pairs per dimension name."""

    api_names: frozenset[tuple[str, str]] = frozenset()
    integrations: frozenset[tuple[str, str]] = frozenset()


def _series(
    specs: Iterable[Series], namespace: str, period_s: int, dims: Mapping[str, str], **join: str | None
) -> list[MetricQuery]:
    return [
        MetricQuery("q", namespace, m, stat, period_s, tuple(dims.items()), unit, kind=kind, **join)
        for m, stat, unit, kind in specs
    ]


def plan(
    namespace: str,
    period_s: int,
    machines: Sequence[Mapping[str, Any]],
    functions: Mapping[str, str | None],
    listed: Listed,
) -> list[MetricQuery]:
    """Every query of one namespace at one period, ids q0, q1, ... in a stable order.

    `machines` are `state_machines` rows; `functions` maps each Lambda function name the machines
    call to its domain (None when functions of several domains share it)."""
    out: list[MetricQuery] = []
    if namespace == STATES:
        for sm in sorted(machines, key=lambda m: m["state_machine_arn"]):
            arn, dom = sm["state_machine_arn"], sm.get("domain")
            specs = MACHINE + (EXPRESS if sm.get("type") == "EXPRESS" else ())
            out += _series(
                specs, STATES, period_s, {"StateMachineArn": arn}, state_machine_arn=arn, domain=dom
            )
        out += _series(ACCOUNT, STATES, period_s, {})
        out += _series(CAPACITY, STATES, period_s, {"ServiceMetric": "StateTransition"})
        out += _listed(listed.api_names, API_NAME, CAPACITY, period_s)
        out += _listed(listed.integrations, INTEGRATION_ARN, INTEGRATION, period_s)
    elif namespace == LAMBDA:
        for fn in sorted(functions):
            out += _series(
                FUNCTION, LAMBDA, period_s, {"FunctionName": fn}, function_name=fn, domain=functions[fn]
            )
    else:
        raise ValueError(f"no plan for namespace {namespace!r}")
    return [replace(q, id=f"q{i}") for i, q in enumerate(out)]


def _listed(
    pairs: Iterable[tuple[str, str]], dim: str, specs: tuple[Series, ...], period_s: int
) -> list[MetricQuery]:
    out: list[MetricQuery] = []
    for metric, value in sorted(pairs):
        out += _series([s for s in specs if s[0] == metric], STATES, period_s, {dim: value})
    return out
