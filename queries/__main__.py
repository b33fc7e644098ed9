"""`python -m queries`: the SLA report and the audit export for scripts and scheduled jobs.

Exit codes: 0 done, 2 bad arguments, 3 no lake at the path (or it cannot be read), 4 invalid SLA file,
5 output not written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

EXIT_OK, EXIT_USAGE, EXIT_NO_LAKE, EXIT_CONFIG, EXIT_OUTPUT = 0, 2, 3, 4, 5


def _when(text: str) -> datetime | date:
    """YYYY-MM-DD (a date) or an ISO 8601 time (UTC when no offset)."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD or an ISO 8601 time") from e


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m queries", description="Stepscope reports over the lake.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sla", help="print the SLA report")
    s.add_argument("--lake", required=True, help="lake path or s3:// URI")
    s.add_argument("--config", help="SLA YAML (default: $STEPSCOPE_SLAS, else ./slas.yaml if present)")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.add_argument("--by", choices=("domain", "state_machine"), default="domain")
    s.add_argument("--domain")
    s.add_argument("--at", type=_when, help="end of the SLA windows (default: now)")
    e = sub.add_parser("export-audit", help="write the audit CSV of one domain and period")
    e.add_argument("--lake", required=True)
    e.add_argument("--domain", required=True)
    e.add_argument("--from", dest="start", type=_when, required=True, help="first day (or time), inclusive")
    e.add_argument("--to", dest="end", type=_when, required=True,
                   help="last day, inclusive (a time: exclusive)")
    e.add_argument("--out", required=True, help="CSV file; FILE.manifest.json is written beside it")
    e.add_argument("--config", help="SLA YAML used for the sla_met column")
    return p


def _config(path: str | None) -> Any:
    from queries import sla_config

    path = path or os.environ.get(sla_config.DEFAULT_PATH_ENV) or ("slas.yaml" if os.path.exists("slas.yaml") else None)
    return sla_config.load(path) if path else sla_config.default()


def _lake_exists(uri: str) -> bool:
    """A lake has its metadata file or an executions folder (an s3:// prefix is looked up in S3)."""
    from collectors.lake import META_FILE, Lake

    lake = Lake(uri)
    return lake.exists(META_FILE) or lake.exists("executions")


def _table(df: pd.DataFrame, by: str) -> str:
    def pct(v: Any) -> str:
        return "-" if v is None or pd.isna(v) else f"{v * 100:.2f}%"

    def sec(v: Any) -> str:
        return "-" if v is None or pd.isna(v) else f"{v / 1000:.1f}s"

    head = ["state machine" if by == "state_machine" else "domain", "window", "executions", "success",
            "1st attempt", "objective", "p95", "in time", "budget left", "status", "owner"]
    rows = [[str(r.state_machine_name or r.key) if by == "state_machine" else str(r.key), str(r.window),
             str(r.executions), pct(r.success_rate), pct(r.first_attempt_success_rate), pct(r.success_objective),
             sec(r.p95_ms), pct(r.within_threshold_share), pct(r.budget_remaining), str(r.status), str(r.owner or "-")]
            for r in df.itertuples()]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                     for line in [head, ["-" * w for w in widths], *rows])


def cmd_sla(args: argparse.Namespace) -> int:
    import queries

    q = queries.connect(args.lake)
    at = args.at if isinstance(args.at, datetime) else (
        datetime(args.at.year, args.at.month, args.at.day, tzinfo=UTC) if args.at else None)
    df = q.sla_report(_config(args.config), end=at, by=args.by, domain=args.domain)
    if args.format == "json":
        out = json.loads(df.to_json(orient="records", date_format="iso"))
        print(json.dumps(out, indent=2))
    else:
        print(_table(df, args.by))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    import queries
    from queries.export import export_audit

    start = args.start
    end = args.end + timedelta(days=1) if not isinstance(args.end, datetime) else args.end
    q = queries.connect(args.lake)
    rows = q.audit_batches(args.domain, start, end, _config(args.config))
    arguments = {"lake": args.lake, "domain": args.domain, "from": start, "to": args.end,
                 "config": args.config}
    try:
        m = export_audit(rows, args.out, arguments)
    except OSError as e:
        print(f"error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_OUTPUT
    print(f"{args.out}: {m['rows']} rows, sha256 {m['sha256']}", file=sys.stderr)
    if not m["rows"]:
        print(f"note: no executions of domain {args.domain!r} in the period", file=sys.stderr)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    from queries.sla_config import SlaConfigError

    args = build_parser().parse_args(argv)
    try:
        if not _lake_exists(args.lake):
            print(f"error: no lake at {args.lake} (expected _stepscope.json or executions/)", file=sys.stderr)
            return EXIT_NO_LAKE
        return cmd_sla(args) if args.command == "sla" else cmd_export(args)
    except (OSError, duckdb.IOException) as e:
        # An unreachable or unreadable lake (network, credentials, permissions): one line, not a trace.
        from collectors.lake import read_error

        print(f"error: cannot read the lake at {args.lake}: {read_error(e)}", file=sys.stderr)
        return EXIT_NO_LAKE
    except SlaConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
