"""The simulated account's X-Ray: the traces of the traced machines' executions, as segment documents
consistent with their state runs, written through the collector's normalizer (`collectors.xray`).

What a trace holds (the shape `collectors/xray/normalize.py` reads): the Step Functions segment of the
execution (named by its ARN), one subsegment per state run (Map and Parallel children inside their
parent), and under each Task the call it makes, once per attempt: `Lambda` Invoke, whose function
writes a segment of its own (a child document) calling its downstream service; `BedrockRuntime`
InvokeModel; the other integrations by service and API. A failed attempt marks its call with the
state's error: a 5xx fault (Bedrock.ServiceUnavailableException: the model outage), a throttle (429),
or a 4xx error. The function's downstream call takes most of the function's time, so the scoring
degradation shows as slow downstream calls.

As one collection at the window's end finds them: traces of executions that ended within X-Ray's 30
days; the older ones are `EXPIRED` in `trace_lookups`. Traces follow the history events: with
`--events sample` or `none`, only the executions whose events are kept have one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from collectors.simulate.model import ACCOUNT_ID, MachineSpec
from collectors.simulate.records import ms_to_dt
from collectors.xray.collect import CURSOR_KEY, EXPIRED, RETENTION
from collectors.xray.collect import SOURCE as TRACES
from collectors.xray.normalize import STEP_FUNCTIONS, Execution, parse_trace, trace_rows
from lake.asl import State, parse_definition
from lake.functions import task_function
from lake.store import Lake

FAILED = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
# How the error of a failed attempt shows on its call: (fault, throttle, error, HTTP status).
HTTP = {
    "ServiceUnavailableException": (True, False, False, 503),
    "ServiceException": (True, False, False, 500),
    "AWSLambdaException": (True, False, False, 502),
    "ModelErrorException": (True, False, False, 424),
    "ModelTimeoutException": (True, False, False, 408),
    "ThrottlingException": (False, True, True, 429),
    "TooManyRequestsException": (False, True, True, 429),
    "ProvisionedThroughputExceededException": (False, True, True, 400),
    "ThrottledException": (False, True, True, 400),
}
DOWNSTREAM_SHARE = 0.85  # of a function's time, spent in its downstream call
# What each simulated function calls below it (the rest read a DynamoDB table).
DOWNSTREAM = {
    "risk-txn-score": ("SageMakerRuntime", "InvokeEndpoint"),
    "ai-answer-postprocess": ("S3", "GetObject"),
}
RUN_COLUMNS = [
    "execution_arn",
    "state_name",
    "parent_state",
    "entered_time",
    "exited_time",
    "attempts",
    "status",
    "error",
]


class Tracer:
    """The trace documents of one machine's executions (its states' calls worked out once)."""

    def __init__(self, spec: MachineSpec):
        self.spec = spec
        self.states: dict[str, State] = {}
        for st in parse_definition(spec.definition):
            self.states.setdefault(st.name, st)

    def documents(
        self, trace_id: str, ex: Mapping[str, Any], runs: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The segment documents of one execution's trace (objects, as BatchGetTraces' strings decode)."""
        ids = _Ids(trace_id)
        root = self._segment(ids.next(), trace_id, self.spec.name, ex["start_time"], ex["stop_time"])
        root.update(origin=STEP_FUNCTIONS, resource_arn=ex["execution_arn"], fault=ex["status"] in FAILED)
        docs = [root]
        placed: dict[str, dict[str, Any]] = {}
        for r in runs:
            if r["exited_time"] is None:
                continue
            parent = placed.get(r["parent_state"], root) if r["parent_state"] else root
            sub = self._segment(ids.next(), None, r["state_name"], r["entered_time"], r["exited_time"])
            sub.update(fault=r["status"] in FAILED, error=r["status"] == "CAUGHT")
            parent["subsegments"].append(sub)
            placed.setdefault(r["state_name"], sub)
            st = self.states.get(r["state_name"])
            if st is not None and st.type == "Task":
                docs += self._calls(ids, trace_id, sub, st, r)
        return docs

    def _calls(
        self, ids: _Ids, trace_id: str, state: dict[str, Any], st: State, run: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """One call per attempt under the state; a Lambda call's function writes its own document."""
        attempts = max(1, int(run["attempts"] or 1))
        a, b = state["start_time"], state["end_time"]
        width = (b - a) / attempts
        fn = task_function(st, self.spec.region, ACCOUNT_ID)
        service, operation = _service(st.resource or "")
        docs = []
        for k in range(attempts):
            failed = k < attempts - 1 or run["status"] in FAILED
            s, e = a + k * width + 0.001, a + (k + 1) * width - 0.001
            call = self._segment(ids.next(), None, "Lambda" if fn else service, s, max(s, e))
            call.update(namespace="aws", aws={"operation": "Invoke" if fn else operation})
            status = 200
            if failed and run["error"]:
                fault, throttle, error, status = HTTP.get(
                    str(run["error"]).rsplit(".", 1)[-1], (False, False, True, 400)
                )
                call.update(fault=fault, throttle=throttle, error=error)
            call["http"] = {"response": {"status": status}}
            state["subsegments"].append(call)
            if fn and fn[0] and not call.get("throttle"):  # a throttled invoke never reached the function
                docs.append(
                    self._function(ids, trace_id, call, fn[0], failed and call.get("fault") is not True)
                )
        return docs

    def _function(
        self, ids: _Ids, trace_id: str, call: dict[str, Any], name: str, failed: bool
    ) -> dict[str, Any]:
        s, e = call["start_time"] + 0.002, max(call["start_time"] + 0.002, call["end_time"] - 0.002)
        seg = self._segment(ids.next(), trace_id, name, s, e)
        seg.update(
            origin="AWS::Lambda::Function",
            parent_id=call["id"],
            resource_arn=f"arn:aws:lambda:{self.spec.region}:{ACCOUNT_ID}:function:{name}",
            error=failed,
        )
        service, operation = DOWNSTREAM.get(name, ("DynamoDB", "GetItem"))
        d0 = s + (e - s) * (1 - DOWNSTREAM_SHARE) / 2
        down = self._segment(ids.next(), None, service, d0, d0 + (e - s) * DOWNSTREAM_SHARE)
        down.update(namespace="aws", aws={"operation": operation}, http={"response": {"status": 200}})
        seg["subsegments"].append(down)
        return seg

    @staticmethod
    def _segment(sid: str, trace_id: str | None, name: str, start: Any, end: Any) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": sid, "name": name, "start_time": _epoch(start), "end_time": _epoch(end)}
        if trace_id:
            doc["trace_id"] = trace_id
        doc["subsegments"] = []
        return doc


class _Ids:
    """Segment ids unique within a trace: a counter and the trace id's random part (16 hex digits)."""

    def __init__(self, trace_id: str):
        self.tail, self.k = trace_id[-12:], 0

    def next(self) -> str:
        self.k += 1
        return f"{self.k:04x}{self.tail}"


def _service(resource: str) -> tuple[str, str]:
    """arn:aws:states:::bedrock:invokeModel → (BedrockRuntime, InvokeModel); aws-sdk:s3:getObject → (S3, GetObject)."""
    rest = resource.removeprefix("arn:aws:states:::").removeprefix("aws-sdk:")
    svc, _, action = rest.partition(":")
    action = action.split(".", 1)[0]
    names = {
        "bedrock": "BedrockRuntime",
        "bedrockagentruntime": "BedrockAgentRuntime",
        "sesv2": "SESv2",
        "sns": "SNS",
        "sqs": "SQS",
        "dynamodb": "DynamoDB",
        "states": "StepFunctions",
    }
    return names.get(svc, svc[:1].upper() + svc[1:]), action[:1].upper() + action[1:]


def _epoch(t: Any) -> float:
    return t.timestamp() if isinstance(t, datetime) else float(t)


def day_traces(
    lake: Lake,
    tracers: Mapping[str, Tracer],
    ex: pa.Table,
    runs: pa.Table,
    events: pa.Table | None,
    end_ms: int,
) -> int:
    """Write the traces (and the expired lookups) of one built day's executions; returns traces written.
    `tracers`: the traced machines by ARN; `events`: the day's kept events (None: every execution's)."""
    traced = ex.filter(pc.is_valid(ex.column("trace_id")))
    traced = traced.filter(
        pc.is_in(traced.column("state_machine_arn"), value_set=pa.array(list(tracers), pa.string()))
    )
    traced = traced.filter(pc.is_valid(traced.column("stop_time")))
    if events is not None:
        traced = traced.filter(
            pc.is_in(traced.column("execution_arn"), value_set=pc.unique(events.column("execution_arn")))
        )
    if not len(traced):
        return 0
    cut = ms_to_dt(end_ms) - RETENTION
    old = pc.less(traced.column("stop_time"), pa.scalar(cut, traced.schema.field("stop_time").type))
    _expired(lake, traced.filter(old), ms_to_dt(end_ms))
    keep = traced.filter(pc.invert(old))
    mine = runs.filter(pc.is_in(runs.column("execution_arn"), value_set=keep.column("execution_arn")))
    by_exec: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in mine.select(RUN_COLUMNS).to_pylist():
        by_exec[r["execution_arn"]].append(r)
    for rs in by_exec.values():
        rs.sort(key=lambda r: r["entered_time"])  # a Map or Parallel before the states inside it
    trace_out, seg_out = [], []
    for e in keep.to_pylist():
        docs = tracers[e["state_machine_arn"]].documents(
            e["trace_id"], e, by_exec.get(e["execution_arn"], [])
        )
        parsed = parse_trace(
            {"Id": e["trace_id"], "Segments": [{"Id": d["id"], "Document": d} for d in docs]}
        )
        trace, segs = trace_rows(
            parsed, Execution(e["execution_arn"], e["state_machine_arn"], e["domain"], e["start_time"])
        )
        trace_out.append(trace)
        seg_out += segs
    lake.write_partitioned("trace_segments", seg_out)
    lake.write_partitioned("traces", trace_out)
    return len(trace_out)


def _expired(lake: Lake, ex: pa.Table, at: datetime) -> None:
    """The traced executions that ended longer ago than X-Ray keeps traces: EXPIRED at the first look."""
    if not len(ex):
        return
    n = len(ex)
    lake.write_partitioned(
        "trace_lookups",
        pa.table(
            {
                "execution_arn": ex.column("execution_arn"),
                "state_machine_arn": ex.column("state_machine_arn"),
                "trace_id": ex.column("trace_id"),
                "status": pa.array([EXPIRED] * n, pa.string()),
                "attempts": pa.array([0] * n, pa.int32()),
                "first_looked_at": pa.array([at] * n, pa.timestamp("ms", tz="UTC")),
                "last_looked_at": pa.array([at] * n, pa.timestamp("ms", tz="UTC")),
                "domain": ex.column("domain"),
                "date": ex.column("date"),
            }
        ),
    )


def tracers(specs: Iterable[MachineSpec]) -> dict[str, Tracer]:
    """A tracer per traced machine, by ARN."""
    return {s.arn(): Tracer(s) for s in specs if s.tracing}


def cursors(specs: Iterable[MachineSpec], end_ms: int) -> list[dict[str, Any]]:
    """The traces cursor of each Region with traced machines, as the collection at the window's end leaves it."""
    at = ms_to_dt(end_ms)
    return [
        {
            "source": TRACES,
            "account_id": ACCOUNT_ID,
            "region": region,
            "key": CURSOR_KEY,
            "watermark": at,
            "last_collected_at": at,
            "open_items": 0,
            "incomplete_items": 0,
        }
        for region in sorted({s.region for s in specs if s.tracing})
    ]
