"""Audit export benchmark: a 30-day export of the busiest domain of a big lake, each side in a fresh
process, printing time, rows/s and peak memory; the exporter of OLD_COMMIT (its `queries` and `lake`
packages taken from git) side by side, with the ratio and whether both files are the same bytes; then
`verify-audit` of the new file, and of the same file by OLD_COMMIT's verifier.

    python bench/bench_export.py --lake /tmp/stepscope-bench-lake [--days 30] [--repeat 3] [--no-old]
                                 [--out /dev/shm]

The lake must exist (bench/bench_queries.py builds it). Figures on a shared machine are noisy: each row
shows the load average it ran under, and CPU seconds beside the wall time.

An export is durable on disk before it is renamed into place, so it cannot be quicker than the disk:
the "disk alone" row writes as many bytes through the same writer (hashed, fsynced), nothing rendered,
and its rows/s is the most an export to that disk can reach. `--out` puts the files elsewhere (a
tmpfs such as /dev/shm shows what the exporter itself does when the disk is not what limits it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The exporter before the file reader: DuckDB read and sorted the period two days at a time, and
# verify-audit counted records with bytes.split, one thread.
OLD_COMMIT = "5e0c9c4"

PRELUDE = """
import json, os, resource, sys, time
from datetime import UTC, timedelta
import queries
from queries import sla_config
lake, days, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
q = queries.connect(lake)
end = q.lake_info()["last_start"].astimezone(UTC) + timedelta(seconds=1)
start = end - timedelta(days=days)
domain = q.domains().sort_values("executions").iloc[-1]["domain"]
cfg = sla_config.load(os.path.join(sys.argv[4], "slas.yaml"))
def report(t0, c0, rows, sha):
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"s": time.perf_counter() - t0, "cpu": r.ru_utime + r.ru_stime - c0, "rows": rows,
                      "sha256": sha, "peak_mib": r.ru_maxrss / 1024, "load": os.getloadavg()[0], "domain": domain}))
r0 = resource.getrusage(resource.RUSAGE_SELF); c0 = r0.ru_utime + r0.ru_stime
"""

EXPORT = (
    PRELUDE
    + """
from queries.audit.job import export_audit
from queries.audit.period import explicit
t0 = time.perf_counter()
done = export_audit(q.audit_batches(domain, start, end, cfg), out, domain, explicit(start, end), {})
report(t0, c0, done.manifest["rows"], done.manifest["sha256"])
print(json.dumps({"file": os.path.join(out, done.rel)}))
"""
)

VERIFY = """
import json, os, resource, sys, time
from queries.audit.verify import verify
u = resource.getrusage(resource.RUSAGE_SELF)
c0 = u.ru_utime + u.ru_stime  # after the imports, as for the exports
t0 = time.perf_counter()
r = verify(sys.argv[1])
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"s": time.perf_counter() - t0, "cpu": u.ru_utime + u.ru_stime - c0, "findings": r.findings,
                  "peak_mib": u.ru_maxrss / 1024, "load": os.getloadavg()[0]}))
"""


DISK = """
import json, os, resource, sys, time
from queries.audit.dest import Destination
size, piece = int(sys.argv[2]), os.urandom(8 << 20)
def pieces():
    left = size
    while left > 0:
        yield piece[: min(left, len(piece))], 0
        left -= len(piece)
u = resource.getrusage(resource.RUSAGE_SELF)
c0 = u.ru_utime + u.ru_stime
t0 = time.perf_counter()
d = Destination(sys.argv[1])
d.drop(d.stage("disk", pieces()).tmp)
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"s": time.perf_counter() - t0, "cpu": u.ru_utime + u.ru_stime - c0,
                  "peak_mib": u.ru_maxrss / 1024, "load": os.getloadavg()[0]}))
"""


def run(code: str, *args: str, tree: str = ROOT) -> list[dict]:
    """Run `code` in a fresh interpreter that imports the packages of `tree`."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": tree},
    )
    if out.returncode:
        sys.exit(
            f"bench_export: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}"
        )
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def old_tree(commit: str, into: str) -> str:
    """The `queries` and `lake` packages as they were at `commit`, in a folder of their own."""
    os.makedirs(into)
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", commit, "queries", "lake"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def line(name: str, runs: list[dict]) -> str:
    s = statistics.median(r["s"] for r in runs)
    rows = runs[0].get("rows")
    rate = f"{rows / s:>10,.0f}" if rows else f"{'':>10}"
    return (
        f"{name:22} {s:7.2f} {statistics.median(r['cpu'] for r in runs):7.2f} {rate} "
        f"{max(r['peak_mib'] for r in runs):8.0f} {statistics.median(r['load'] for r in runs):5.1f}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lake", default="/tmp/stepscope-bench-lake")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--repeat", type=int, default=1, help="fresh processes per side (median reported)")
    p.add_argument("--no-old", action="store_true", help="skip the exporter of OLD_COMMIT")
    p.add_argument("--out", default=None, help="folder for the exported files (default: a temporary one)")
    a = p.parse_args()
    if not os.path.exists(os.path.join(a.lake, "_stepscope.json")):
        sys.exit(f"bench_export: no lake at {a.lake} (build it with bench/bench_queries.py)")
    head = f"{'':22} {'wall s':>7} {'CPU s':>7} {'rows/s':>10} {'peak MiB':>8} {'load':>5}"
    print(
        f"lake {a.lake}: {a.days}-day audit export; {os.cpu_count()} cores\n{head}\n{'-' * len(head)}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-export-", dir=a.out) as tmp:
        tree = None if a.no_old else old_tree(OLD_COMMIT, os.path.join(tmp, "old-tree"))
        new, old = [], []
        for i in range(a.repeat):
            got = run(EXPORT, a.lake, str(a.days), os.path.join(tmp, f"new{i}"), ROOT)
            new.append(got[0])
            path = got[1]["file"]
            if tree:
                old.append(run(EXPORT, a.lake, str(a.days), os.path.join(tmp, f"old{i}"), ROOT, tree=tree)[0])
        print(line("export", new), flush=True)
        if old:
            print(line(f"export at {OLD_COMMIT}", old), flush=True)
        size = os.path.getsize(path)
        disk = [{**run(DISK, tmp, str(size))[0], "rows": new[0]["rows"]} for _ in range(a.repeat)]
        print(line("disk alone", disk), flush=True)
        checks = [run(VERIFY, path)[0] for _ in range(a.repeat)]
        print(line("verify-audit", checks), flush=True)
        old_checks = [run(VERIFY, path, tree=tree)[0] for _ in range(a.repeat)] if tree else []
        if old_checks:
            print(line(f"verify-audit at {OLD_COMMIT}", old_checks), flush=True)
        print(
            f"{new[0]['rows']:,} rows of domain {new[0]['domain']}; CSV {os.path.getsize(path) / 2**20:,.0f} MiB; "
            f"SHA-256 {new[0]['sha256']}"
        )
        if old:
            ratio = statistics.median(r["s"] for r in old) / statistics.median(r["s"] for r in new)
            same = all(r["sha256"] == old[0]["sha256"] for r in new + old)
            print(f"speed-up {ratio:.1f}x; same bytes as the old exporter: {'yes' if same else 'NO'}")
        floor = statistics.median(r["s"] for r in disk)
        print(
            f"disk alone: {size / floor / 1e6:,.0f} MB/s; the export takes "
            f"{statistics.median(r['s'] for r in new) / floor:.2f}x the disk's own time"
        )
        if any(c["findings"] for c in checks + old_checks):
            print(f"verify-audit findings: {(checks + old_checks)[0]['findings']}")
    print(
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at end (median of {a.repeat} run(s))"
    )


if __name__ == "__main__":
    main()
