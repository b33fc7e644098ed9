"""The Lambda function a Task state calls, read from its definition (pure, over `lake.asl`'s model):
what the metrics collector asks CloudWatch about and what the pages show beside each Task.

A Task calls a function by its `Resource` (the function's ARN, optionally with a version or alias)
or through `arn:aws:states:::lambda:invoke` with `FunctionName` in `Parameters` (JSONPath) or
`Arguments` (JSONata): a name, `name:alias`, a partial ARN (`account:function:name`) or a full
ARN. A name computed at run time (`FunctionName.$`, a JSONata `{% ... %}` expression) cannot be
known from the definition: it is reported, not guessed. AWS/Lambda's `FunctionName` dimension is
the bare name (all versions and aliases together).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lake.asl import State

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def function_name(ref: str, region: str, account_id: str) -> tuple[str | None, str | None]:
    """(name, None) for a function reference, or (None, why) when it names no function of this
    account and Region."""
    parts = ref.split(":")
    if ref.startswith("arn:"):
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            return None, f"not a Lambda function ARN: {ref}"
        name, ref_region, acct = parts[6], parts[3], parts[4]
    elif len(parts) >= 3 and parts[1] == "function":
        name, ref_region, acct = parts[2], region, parts[0]
    else:
        name, ref_region, acct = parts[0], region, account_id
    if (ref_region, acct) != (region, account_id):
        return None, f"{ref} is in {acct}/{ref_region}, not {account_id}/{region}"
    return (name, None) if name else (None, f"no function name in {ref}")


def invoked(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The FunctionName of a lambda:invoke Task, or why there is none to read."""
    for key in ("Parameters", "Arguments"):
        args = body.get(key)
        if isinstance(args, str):
            return None, f"{key} is an expression"
        if not isinstance(args, Mapping):
            continue
        if "FunctionName.$" in args:
            return None, f"FunctionName.$ {args['FunctionName.$']} is resolved at run time"
        fn = args.get("FunctionName")
        if isinstance(fn, str) and fn.strip().startswith("{%"):
            return None, f"FunctionName {fn} is resolved at run time"
        if isinstance(fn, str):
            return fn, None
    return None, "no FunctionName"


def task_function(st: State, region: str, account_id: str) -> tuple[str | None, str | None] | None:
    """None when the state calls no Lambda function; else (name, None), or (None, why) when the
    definition does not say which function of this account and Region it is."""
    res = st.resource or ""
    if st.type != "Task" or not (res.startswith("arn:aws:lambda:") or res.startswith(LAMBDA_INVOKE)):
        return None
    ref, why = (res, None) if res.startswith("arn:aws:lambda:") else invoked(st.raw)
    return function_name(ref, region, account_id) if ref is not None else (None, why)


def machine_place(state_machine_arn: str) -> tuple[str, str]:
    """(Region, account id) of a state machine ARN: where the functions it names by name live."""
    parts = state_machine_arn.split(":")
    return (parts[3], parts[4]) if len(parts) > 4 else ("", "")
