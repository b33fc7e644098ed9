"""`python -m collectors <command>`: collect from AWS into the lake."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '1h', '7d', '2w' → timedelta."""
    m = DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: use a number and s, m, h, d or w (e.g. 1h, 7d)")
    return timedelta(**{UNITS[m.group(2)]: float(m.group(1))})


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A duration back from now ('7d') or an ISO date/time ('2024-05-01', '2024-05-01T12:00Z'), in UTC."""
    if DURATION.match(text):
        return (now or datetime.now(UTC)) - parse_duration(text)
    try:
        ts = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad --since {text!r}: use a duration (7d, 12h) or an ISO date (2024-05-01)") from None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    if ts > (now or datetime.now(UTC)):
        raise argparse.ArgumentTypeError(f"bad --since {text!r}: it is in the future")
    return ts


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m collectors", description="Stepscope collectors")
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser("collect", help="collect state machines, executions and histories from AWS into the lake")
    c.add_argument("--lake", default="./lake", help="lake path or s3://bucket/prefix (default ./lake)")
    c.add_argument("--tag-key", default="domain", help="tag that names a state machine's domain (default domain)")
    c.add_argument("--domain", action="append", default=[], dest="domains", metavar="D",
                   help="only this domain (tag value); repeatable")
    c.add_argument("--region", action="append", default=[], dest="regions", metavar="R",
                   help="AWS Region; repeatable (default: the session's Region)")
    c.add_argument("--since", type=parse_since, default=None,
                   help="oldest start time to collect: 7d, 12h or an ISO date (default: watermark, else 7d)")
    c.add_argument("--role-arn", action="append", default=[], dest="role_arns", metavar="ARN",
                   help="assume this role (session name stepscope) and collect its account; repeatable")
    c.add_argument("--profile", default=None, help="AWS profile (default: AWS_PROFILE or the default chain)")
    c.add_argument("--include-payloads", action="store_true",
                   help="store execution inputs/outputs and event payloads (off: only SHA-256 and size)")
    c.add_argument("--lookback", type=parse_duration, default=timedelta(hours=1),
                   help="re-list this far behind the watermark for late arrivals (default 1h)")
    c.add_argument("--concurrency", type=positive_int, default=8, help="parallel history fetches (default 8)")
    c.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    c.set_defaults(handler=run_collect)

    d = sub.add_parser("demo", help="build a simulated demo (or benchmark) lake with known ground truth")
    d.add_argument("--lake", default="./demo-lake", help="lake path or s3://bucket/prefix (default ./demo-lake)")
    d.add_argument("--days", type=positive_int, default=90, help="days of history, ending now (default 90)")
    d.add_argument("--executions", type=positive_int, default=100_000, help="about this many (default 100000)")
    d.add_argument("--seed", type=int, default=7, help="random seed: same seed and end, same lake (default 7)")
    d.add_argument("--end", default=None, help="end of the window, ISO date/time in UTC (default: now)")
    d.add_argument("--events", choices=("all", "sample", "none"), default="all",
                   help="history events to store: all, 1 execution in 100, or none (default all)")
    d.add_argument("--workers", type=positive_int, default=None, help="processes (default: up to 2)")
    d.set_defaults(handler=run_demo)

    r = sub.add_parser("rebuild-derived", aliases=["rebuild-sla-facts"],
                       help="write sla_facts and failures of every executions partition (a lake from an earlier "
                            "version)")
    r.add_argument("--lake", required=True, help="lake path or s3://bucket/prefix")
    r.set_defaults(handler=run_rebuild_derived)
    return parser


def run_rebuild_derived(args: argparse.Namespace) -> int:
    """Handler of `rebuild-derived`: returns the exit status."""
    from collectors.lake import Lake

    lake = Lake(args.lake)
    if lake.read_meta() is None and not lake.partitions("executions"):
        return _fail(f"no lake at {args.lake}")
    n = lake.rebuild_derived(progress=lambda i, total: print(f"  {i}/{total} partitions", file=sys.stderr))
    print(f"rebuilt sla_facts and failures of {n} partitions in {args.lake}", file=sys.stderr)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Handler of `demo`: returns the exit status."""
    from collectors.simulate.build import main_demo

    try:
        main_demo(args.lake, days=args.days, executions=args.executions, seed=args.seed, end=args.end,
                  events=args.events, workers=args.workers)
    except ValueError as e:
        return _fail(str(e))
    return 0


def run_collect(args: argparse.Namespace) -> int:
    """Handler of `collect`: returns the exit status."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    from collectors.aws import ConfigError
    from collectors.collect import CollectOptions, collect

    opts = CollectOptions(
        lake=args.lake, tag_key=args.tag_key, domains=args.domains, regions=args.regions, since=args.since,
        role_arns=args.role_arns, profile=args.profile, include_payloads=args.include_payloads, lookback=args.lookback,
        concurrency=args.concurrency, progress_every=0 if args.quiet else 2.0,
    )
    try:
        summary = collect(opts)
    except (NoCredentialsError, PartialCredentialsError):
        return _fail("no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    except ProfileNotFound as e:
        return _fail(str(e))
    except NoRegionError:
        return _fail("no AWS Region: pass --region or set AWS_DEFAULT_REGION")
    except EndpointConnectionError as e:
        return _fail(f"cannot reach the AWS endpoint: {e}")
    except ConfigError as e:
        return _fail(str(e))
    except ClientError as e:
        op = getattr(e, "operation_name", "")
        if op in ("GetCallerIdentity", "AssumeRole"):
            return _fail(f"credentials rejected ({op}): {e.response.get('Error', {}).get('Message', e)}")
        raise
    print(summary.text(), file=sys.stderr)
    return 1 if summary.errors else 0


def _fail(msg: str) -> int:
    print(f"stepscope: {msg}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
