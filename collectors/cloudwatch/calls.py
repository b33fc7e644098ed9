"""What the tagged machines' definitions call: Lambda functions and service integrations (pure,
over `lake.asl`'s model).

A Task calls a function by its `Resource` (the function's ARN, optionally with a version or alias)
or through `arn:aws:states:::lambda:invoke` with `FunctionName` in `Parameters` (JSONPath) or
`Arguments` (JSONata): a name, `name:alias`, a partial ARN (`account:function:name`) or a full
ARN. A name computed at run time (`FunctionName.$`, a JSONata `{% ... %}` expression) cannot be
known from the definition: it is reported, not guessed. AWS/Lambda's `FunctionName` dimension is
the bare name (all versions and aliases together). Service integrations are the other
`arn:aws:states:::<service>:<api>` resources (and lambda:invoke itself), as the definition writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lake.asl import AslError, parse_definition
from lake.functions import LAMBDA_INVOKE, function_name, task_function

__all__ = ["LAMBDA_INVOKE", "Calls", "called", "function_name", "integration_of"]


INTEGRATION_PREFIX = "arn:aws:states:::"


@dataclass
class Calls:
    """What definitions call in the target's account and Region, and what could not be resolved."""

    functions: dict[str, str | None] = field(default_factory=dict)  # name → domain (None: several)
    integrations: set[str] = field(default_factory=set)  # arn:aws:states:::<service>:<api>[.suffix]
    unresolved: list[str] = field(default_factory=list)  # "<machine> <state id>: why"


def called(machines: Sequence[Mapping[str, Any]], region: str, account_id: str) -> Calls:
    """What the definitions of `state_machines` rows call; a function's domain is that of the machines
    calling it, None when machines of several domains do."""
    out = Calls()
    domains: dict[str, set[str | None]] = {}
    for sm in machines:
        who = sm.get("name") or sm["state_machine_arn"]
        try:
            graph = parse_definition(sm.get("definition") or "")
        except AslError as e:
            out.unresolved.append(f"{who}: definition unreadable: {e}")
            continue
        for st in graph:
            res = st.resource or ""
            if st.type != "Task":
                continue
            if res.startswith(INTEGRATION_PREFIX):
                out.integrations.add(res)
            found = task_function(st, region, account_id)
            if found is None:
                continue
            name, why = found
            if name is not None:
                domains.setdefault(name, set()).add(sm.get("domain"))
            else:
                out.unresolved.append(f"{who} {st.id}: {why}")
    out.functions = {fn: (next(iter(d)) if len(d) == 1 else None) for fn, d in sorted(domains.items())}
    return out


def integration_of(value: str) -> str:
    """A listed `ServiceIntegrationResourceArn` (Region- and account-qualified) in the definition's
    form: arn:aws:states:us-east-1:123456789012:lambda:invoke → arn:aws:states:::lambda:invoke."""
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[:3] == ["arn", "aws", "states"]:
        return f"{INTEGRATION_PREFIX}{parts[5]}"
    return value
