"""Audit export benchmark: a 30-day export of the busiest domain of a big lake, each side in a fresh
process, printing time, rows/s and peak memory; the exporter before the columnar rewrite (read from git
at OLD_COMMIT) side by side, with the ratio and whether both files are the same bytes; then
`verify-audit` of the new file.

    python bench/bench_export.py --lake /tmp/stepscope-bench-lake [--days 30] [--repeat 3] [--no-old]

The lake must exist (bench/bench_queries.py builds it). Figures on a shared machine are noisy: each row
shows the load average it ran under, and CPU seconds beside the wall time.
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
OLD_COMMIT = "ed634fe"  # queries/export.py as it was: Arrow cells, one thread, copies of every batch

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

NEW = (
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

OLD = (
    PRELUDE
    + """
import importlib.util, subprocess
src = subprocess.run(["git", "-C", sys.argv[4], "show", sys.argv[5] + ":queries/export.py"],
                     capture_output=True, text=True, check=True).stdout
spec = importlib.util.spec_from_loader("old_export", loader=None)
old = importlib.util.module_from_spec(spec)
exec(compile(src, "old_export.py", "exec"), old.__dict__)
t0 = time.perf_counter()
m = old.export_audit(q.audit_batches(domain, start, end, cfg), os.path.join(out, "old.csv"), {})
report(t0, c0, m["rows"], m["sha256"])
"""
)

VERIFY = """
import json, os, resource, sys, time
from queries.audit.verify import verify
t0 = time.perf_counter()
r = verify(sys.argv[1])
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"s": time.perf_counter() - t0, "cpu": u.ru_utime + u.ru_stime, "findings": r.findings,
                  "peak_mib": u.ru_maxrss / 1024, "load": os.getloadavg()[0]}))
"""


def run(code: str, *args: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    if out.returncode:
        sys.exit(
            f"bench_export: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}"
        )
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


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
    a = p.parse_args()
    if not os.path.exists(os.path.join(a.lake, "_stepscope.json")):
        sys.exit(f"bench_export: no lake at {a.lake} (build it with bench/bench_queries.py)")
    head = f"{'':22} {'wall s':>7} {'CPU s':>7} {'rows/s':>10} {'peak MiB':>8} {'load':>5}"
    print(
        f"lake {a.lake}: {a.days}-day audit export; {os.cpu_count()} cores\n{head}\n{'-' * len(head)}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        new, old = [], []
        for i in range(a.repeat):
            got = run(NEW, a.lake, str(a.days), os.path.join(tmp, f"new{i}"), ROOT)
            new.append(got[0])
            path = got[1]["file"]
            if not a.no_old:
                old.append(run(OLD, a.lake, str(a.days), tmp, ROOT, OLD_COMMIT)[0])
        print(line("export", new), flush=True)
        if old:
            print(line(f"export at {OLD_COMMIT}", old), flush=True)
        checks = [run(VERIFY, path)[0] for _ in range(a.repeat)]
        print(line("verify-audit", checks), flush=True)
        print(
            f"{new[0]['rows']:,} rows of domain {new[0]['domain']}; CSV {os.path.getsize(path) / 2**20:,.0f} MiB"
        )
        if old:
            ratio = statistics.median(r["s"] for r in old) / statistics.median(r["s"] for r in new)
            same = new[0]["sha256"] == old[0]["sha256"]
            print(f"speed-up {ratio:.1f}x; same bytes as the old exporter: {'yes' if same else 'NO'}")
        if any(c["findings"] for c in checks):
            print(f"verify-audit findings: {checks[0]['findings']}")
    print(
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at end (median of {a.repeat} run(s))"
    )


if __name__ == "__main__":
    main()
