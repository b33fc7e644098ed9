"""Derived tables: what the questions read instead of the wide executions rows, rewritten with every
executions partition (the writer follows `TableSpec.derives`).

- `sla_facts`: the finished executions of a partition, narrow (state machine, succeeded, redriven,
  duration, start), sorted by state machine and duration. The file footer (SLA_RUNS_KEY) lists its
  runs, one per state machine in row order, with their counts (SLA_RUNS_COLUMNS): the SLA report
  takes a whole day's counts from the footer and its sorted durations from one column
  (queries/sla_runs.py says what that saves).
- `failures`: the partition's failed, timed-out and aborted executions (about 1 in 100), without
  payloads: the rows every failure question reads.
- `error_signatures`: the partition's failures counted per state machine and error signature of their
  root failure, with first and last start; one file for the whole lake (the writer replaces a
  partition's rows), so "first seen" and "new" look at all of history at the cost of one small read.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from lake.schema import ERROR_SIGNATURES, EXECUTIONS, FAILURES, SLA_FACTS
from lake.signature import cause_pattern, pattern_signature
from lake.status import SUCCEEDED, TERMINAL, UNSUCCESSFUL

# Footer key of a sla_facts file: its runs (one per state machine, in row order) and their counts.
SLA_RUNS_KEY = b"stepscope.sla_runs"
SLA_RUNS_COLUMNS = (
    "state_machine_arn",
    "state_machine_name",
    "rows",
    "durations",
    "succeeded",
    "first_attempt_succeeded",
    "redriven",
)
SLA_FACTS_ORDER = ("state_machine_arn", "duration_ms", "succeeded", "redriven")
PAYLOADS = ("input", "output")


def sla_facts(executions: pa.Table) -> pa.Table:
    """The `sla_facts` rows of one executions partition: its finished executions, sorted by state
    machine, then duration (missing durations last), with the runs in the footer."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(TERMINAL)))
    facts = pa.Table.from_arrays(
        [
            t.column("state_machine_arn"),
            t.column("state_machine_name"),
            pc.equal(t.column("status"), SUCCEEDED),
            pc.fill_null(pc.greater(t.column("redrive_count"), 0), False),
            t.column("duration_ms"),
            t.column("start_time"),
        ],
        schema=SLA_FACTS,
    )
    facts = facts.sort_by([(k, "ascending") for k in SLA_FACTS_ORDER])
    first = pc.and_(facts.column("succeeded"), pc.invert(facts.column("redriven")))
    runs = (
        facts.append_column("first", first)
        .group_by("state_machine_arn", use_threads=False)  # groups in order of first appearance
        .aggregate(
            [
                ("state_machine_name", "first"),
                ("state_machine_arn", "count", pc.CountOptions("all")),
                ("duration_ms", "count"),
                ("succeeded", "sum"),
                ("first", "sum"),
                ("redriven", "sum"),
            ]
        )
    )
    cols = [
        runs.column(c).to_pylist()
        for c in (
            "state_machine_arn",
            "state_machine_name_first",
            "state_machine_arn_count",
            "duration_ms_count",
            "succeeded_sum",
            "first_sum",
            "redriven_sum",
        )
    ]
    rows = [[r[0], r[1], *(int(x or 0) for x in r[2:])] for r in zip(*cols, strict=True)]
    meta = json.dumps({"columns": SLA_RUNS_COLUMNS, "runs": rows}, separators=(",", ":"))
    return facts.replace_schema_metadata({SLA_RUNS_KEY: meta.encode()})


def failures(executions: pa.Table) -> pa.Table:
    """The `failures` rows of one executions partition: its failed, timed-out and aborted executions,
    in their order, without payloads (no failure question reads them; they are not copied), with the
    signature of their root failure."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(UNSUCCESSFUL)))
    cols = [pa.nulls(len(t), f.type) if f.name in PAYLOADS else t.column(f.name) for f in EXECUTIONS]
    sigs = [s for s, _ in _signatures(t)]
    return pa.Table.from_arrays([*cols, pa.array(sigs, pa.string())], schema=FAILURES)


def _signatures(failed: pa.Table) -> list[tuple[str, str]]:
    """(signature, cause pattern) of each row's root failure; the masking runs once per distinct cause."""
    patterns: dict[str | None, str] = {}
    out = []
    cols = (failed.column(c).to_pylist() for c in ("root_error", "root_state", "root_cause"))
    for error, state, cause in zip(*cols, strict=True):
        pattern = patterns.get(cause)
        if pattern is None:
            pattern = patterns[cause] = cause_pattern(cause)
        out.append((pattern_signature(error, state, pattern), pattern))
    return out


def error_signatures(executions: pa.Table) -> pa.Table:
    """The `error_signatures` rows of one executions (or failures) partition, without its domain and date
    (the writer adds them): failures per state machine and root-failure signature, sorted by both."""
    t = executions.filter(pc.is_in(executions.column("status"), pa.array(UNSUCCESSFUL)))
    groups: dict[tuple[str, str], list] = {}
    cols = ("state_machine_arn", "root_error", "root_state", "start_time")
    rows = zip(*(t.column(c).to_pylist() for c in cols), _signatures(t), strict=True)
    for sm, error, state, start, (sig, pattern) in rows:
        g = groups.get((sm, sig))
        if g is None:
            groups[(sm, sig)] = [sm, sig, error, state, pattern, 1, start, start]
        else:
            g[5] += 1
            g[6], g[7] = min(g[6], start), max(g[7], start)
    out = [groups[k] for k in sorted(groups)]
    names = ERROR_SIGNATURES.names[2:]
    return pa.Table.from_arrays(
        [pa.array([r[i] for r in out], ERROR_SIGNATURES.field(n).type) for i, n in enumerate(names)],
        names=names,
    )
