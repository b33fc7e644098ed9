"""`stepscope <command>`: the one command line of Stepscope.

Every command reports problems as one line `stepscope: ...` on stderr and ends with an exit code
from EXIT_CODES. Logs go to stderr too, as text or JSON lines (`--log-format`), each with the run id;
progress lines stay human on a terminal. `python -m collectors` and `python -m queries` run the same
commands.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_NO_LAKE, EXIT_CONFIG, EXIT_OUTPUT = 0, 1, 2, 3, 4, 5
EXIT_LOCKED = 6
EXIT_UNVERIFIED = 7
EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_ERRORS: "done, with errors (some state machines could not be collected: see the summary)",
    EXIT_USAGE: "bad arguments, configuration or credentials",
    EXIT_NO_LAKE: "no lake at the path, it cannot be read, or it is in an older format (run rebuild-derived)",
    EXIT_CONFIG: "invalid SLA or access file",
    EXIT_OUTPUT: "output not written",
    EXIT_LOCKED: "another run holds the lake's lock (collect --wait waits for it)",
    EXIT_UNVERIFIED: "the audit exports do not verify (verify-audit prints each finding)",
}
RUN_ID = uuid.uuid4().hex[:12]  # of this invocation; a collect run logs its own (stored in collection_runs)
log = logging.getLogger("stepscope")

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class CommandError(Exception):
    """A command cannot go on: its message (one line) and exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


# -- argument types ----------------------------------------------------------------------------
def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '1h', '7d', '2w' → timedelta."""
    m = DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(
            f"bad duration {text!r}: use a number and s, m, h, d or w (e.g. 1h, 7d)"
        )
    return timedelta(**{UNITS[m.group(2)]: float(m.group(1))})


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A duration back from now ('7d') or an ISO date/time ('2024-05-01', '2024-05-01T12:00Z'), in UTC."""
    if DURATION.match(text):
        return (now or datetime.now(UTC)) - parse_duration(text)
    try:
        ts = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad --since {text!r}: use a duration (7d, 12h) or an ISO date (2024-05-01)"
        ) from None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    if ts > (now or datetime.now(UTC)):
        raise argparse.ArgumentTypeError(f"bad --since {text!r}: it is in the future")
    return ts


def positive_duration(text: str) -> timedelta:
    d = parse_duration(text)
    if d <= timedelta(0):
        raise argparse.ArgumentTypeError(f"expected a duration above zero, got {text!r}")
    return d


def price(text: str) -> float:
    try:
        p = float(text)
    except ValueError:
        p = -1.0
    if not 0 <= p < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a price in USD (e.g. 0.01), got {text!r}")
    return p


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def parse_when(text: str) -> datetime | date:
    """YYYY-MM-DD (a date) or an ISO 8601 time (UTC when no offset)."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD or an ISO 8601 time") from e


# -- the parser ----------------------------------------------------------------------------------
def _epilog() -> str:
    codes = "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())
    return f"exit codes:\n{codes}"


def build_parser(prog: str = "stepscope", commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line: one subparser per command (`commands` to offer only some, for the aliases)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Stepscope: observability and SLA reporting for AWS Step Functions.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text", help=LOG_FORMAT_HELP)
    # Also after the command (`stepscope collect --log-format json`); there it only overrides when given.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-format", choices=("text", "json"), default=argparse.SUPPRESS, help=LOG_FORMAT_HELP
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add, _) in COMMANDS.items():
        if commands is None or name in commands:
            add(_Sub(sub, common))
    return parser


LOG_FORMAT_HELP = "logs on stderr as text lines or JSON lines, each with the run id (default text)"


class _Sub:
    """The subparsers action, giving every command the common options."""

    def __init__(self, sub: Any, common: argparse.ArgumentParser):
        self.sub, self.common = sub, common

    def add_parser(self, name: str, **kw: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self.sub.add_parser(name, parents=[self.common], **kw)
        return parser


def _lake_arg(p: argparse.ArgumentParser, default: str | None = None) -> None:
    if default is None:
        p.add_argument("--lake", required=True, help="lake path or s3://bucket/prefix")
    else:
        p.add_argument("--lake", default=default, help=f"lake path or s3://bucket/prefix (default {default})")


def _add_collect(sub: Any) -> None:
    from collectors.sources import SOURCES

    c = sub.add_parser("collect", help="collect from AWS into the lake (every source unless --source)")
    _lake_arg(c, "./stepscope-lake")
    c.add_argument(
        "--source",
        action="append",
        default=[],
        dest="sources",
        metavar="S",
        help=f"only these sources, comma-separated or repeated: {', '.join(SOURCES)} (default all)",
    )
    c.add_argument(
        "--tag-key", default="domain", help="tag that names a state machine's domain (default domain)"
    )
    c.add_argument(
        "--domain",
        action="append",
        default=[],
        dest="domains",
        metavar="D",
        help="only this domain (tag value); repeatable",
    )
    c.add_argument(
        "--region",
        action="append",
        default=[],
        dest="regions",
        metavar="R",
        help="AWS Region; repeatable (default: the session's Region)",
    )
    c.add_argument(
        "--since",
        type=parse_since,
        default=None,
        help="oldest start time to collect: 7d, 12h or an ISO date (default: cursor, else 7d)",
    )
    c.add_argument(
        "--role-arn",
        action="append",
        default=[],
        dest="role_arns",
        metavar="ARN",
        help="assume this role (session name stepscope) and collect its account; repeatable",
    )
    c.add_argument("--profile", default=None, help="AWS profile (default: AWS_PROFILE or the default chain)")
    c.add_argument(
        "--include-payloads",
        action="store_true",
        help="store execution inputs/outputs and event payloads (off: only SHA-256 and size)",
    )
    c.add_argument(
        "--lookback",
        type=parse_duration,
        default=timedelta(hours=1),
        help="re-list this far behind the cursor for late arrivals (default 1h)",
    )
    c.add_argument(
        "--history-source",
        choices=("api", "logs"),
        default="api",
        help="STANDARD histories from GetExecutionHistory (api, default) or, for machines logging ALL to "
        "CloudWatch Logs, from their log group (logs: past the API's 20 calls/s); EXPRESS always from logs",
    )
    c.add_argument("--concurrency", type=positive_int, default=8, help="parallel history fetches (default 8)")
    c.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    c.add_argument(
        "--schedule",
        type=positive_duration,
        default=timedelta(minutes=5),
        help="how often this collect is run, for the monthly CloudWatch cost in the summary (default 5m)",
    )
    c.add_argument(
        "--metric-price",
        type=price,
        default=0.01,
        help="USD per 1,000 metrics requested from CloudWatch (GetMetricData; default 0.01)",
    )
    c.add_argument(
        "--wait",
        type=parse_duration,
        default=timedelta(0),
        help=f"while another run holds the lake's lock, wait up to this long for it, e.g. 4m "
        f"(default: exit {EXIT_LOCKED} at once)",
    )
    c.add_argument(
        "--lock-ttl",
        type=positive_duration,
        default=timedelta(minutes=2),
        help="s3:// lakes: the lock's lease expires this long after its holder last renewed it, "
        "so a killed run blocks the next for at most this (default 2m)",
    )


def _add_demo(sub: Any) -> None:
    d = sub.add_parser("demo", help="build a simulated demo (or benchmark) lake with known ground truth")
    _lake_arg(d, "./demo-lake")
    d.add_argument("--days", type=positive_int, default=90, help="days of history, ending now (default 90)")
    d.add_argument(
        "--executions", type=positive_int, default=100_000, help="about this many (default 100000)"
    )
    d.add_argument(
        "--seed", type=int, default=7, help="random seed: same seed and end, same lake (default 7)"
    )
    d.add_argument("--end", default=None, help="end of the window, ISO date/time in UTC (default: now)")
    d.add_argument(
        "--events",
        choices=("all", "sample", "none"),
        default="all",
        help="history events to store: all, 1 execution in 100, or none (default all)",
    )
    d.add_argument("--workers", type=positive_int, default=None, help="processes (default: up to 2)")


def _add_rebuild(sub: Any) -> None:
    r = sub.add_parser(
        "rebuild-derived",
        aliases=["rebuild-sla-facts"],
        help="upgrade a lake to this format and rewrite its derived tables (sla_facts, failures)",
    )
    _lake_arg(r)


def _add_sla(sub: Any) -> None:
    s = sub.add_parser("sla", help="print the SLA report")
    _lake_arg(s)
    s.add_argument("--config", help="SLA YAML (default: $STEPSCOPE_SLAS, else ./slas.yaml if present)")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.add_argument("--by", choices=("domain", "state_machine"), default="domain")
    s.add_argument("--domain")
    s.add_argument("--at", type=parse_when, help="end of the SLA windows (default: now)")
    s.add_argument(
        "--strict",
        action="store_true",
        help=f"exit {EXIT_CONFIG} when a key of the SLA file matches no domain or state machine of the lake",
    )


def _audit(name: str) -> tuple[Callable[[Any], None], Callable[[argparse.Namespace], int]]:
    """export-audit, keygen and verify-audit: declared and run by stepscope.audit_cli."""

    def add(sub: Any) -> None:
        from stepscope import audit_cli

        audit_cli.PARSERS[name](sub)

    def run(args: argparse.Namespace) -> int:
        from stepscope import audit_cli

        return audit_cli.RUNNERS[name](args)

    return add, run


def _add_athena_ddl(sub: Any) -> None:
    a = sub.add_parser(
        "athena-ddl", help="print CREATE EXTERNAL TABLE statements for Athena (partition projection)"
    )
    _lake_arg(a)
    a.add_argument("--database", default="stepscope", help="Athena/Glue database (default stepscope)")


def _add_serve(sub: Any) -> None:
    s = sub.add_parser("serve", help="serve the dashboard (Streamlit)")
    s.add_argument(
        "--lake",
        default=None,
        help="lake path or s3://bucket/prefix (default $STEPSCOPE_LAKE, else ./demo-lake)",
    )
    s.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=positive_int, default=8501, help="port (default 8501)")
    s.add_argument(
        "--secrets",
        default=None,
        help="the secrets file with the [auth] sign-in settings (default: Streamlit's own, "
        ".streamlit/secrets.toml here or in your home)",
    )


# -- the commands ----------------------------------------------------------------------------------
def run_collect(args: argparse.Namespace) -> int:
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    from collectors.aws import ConfigError
    from collectors.run import collect
    from collectors.source import CollectOptions

    sources = [s.strip() for arg in args.sources for s in arg.split(",") if s.strip()]
    opts = CollectOptions(
        lake=args.lake,
        sources=sources,
        tag_key=args.tag_key,
        domains=args.domains,
        regions=args.regions,
        since=args.since,
        role_arns=args.role_arns,
        profile=args.profile,
        include_payloads=args.include_payloads,
        lookback=args.lookback,
        concurrency=args.concurrency,
        progress_every=0 if args.quiet else 2.0,
        schedule=args.schedule,
        metric_price=args.metric_price,
        history_source=args.history_source,
    )
    from lake.lock import lake_lock

    wait, ttl = args.wait.total_seconds(), args.lock_ttl.total_seconds()
    try:
        with lake_lock(args.lake, command="collect", wait=wait, ttl=ttl):
            summary = collect(opts, err=sys.stderr if args.log_format == "text" else None)
    except (NoCredentialsError, PartialCredentialsError):
        raise CommandError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except (ProfileNotFound, ConfigError) as e:
        raise CommandError(str(e)) from None
    except NoRegionError:
        raise CommandError("no AWS Region: pass --region or set AWS_DEFAULT_REGION") from None
    except EndpointConnectionError as e:
        raise CommandError(f"cannot reach the AWS endpoint: {e}") from None
    except ClientError as e:
        op = getattr(e, "operation_name", "")
        if op in ("GetCallerIdentity", "AssumeRole"):
            raise CommandError(
                f"credentials rejected ({op}): {e.response.get('Error', {}).get('Message', e)}"
            ) from None
        raise
    _say(summary.text(), args, summary=summary.as_dict())
    return EXIT_ERRORS if summary.errors else EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    from collectors.simulate.build import main_demo

    main_demo(
        args.lake,
        days=args.days,
        executions=args.executions,
        seed=args.seed,
        end=args.end,
        events=args.events,
        workers=args.workers,
    )
    return EXIT_OK


def run_rebuild_derived(args: argparse.Namespace) -> int:
    from collectors.stepfunctions.normalize import with_root_failures
    from lake.store import Lake
    from lake.upgrade import upgrade

    lake = Lake(args.lake)
    if not lake.is_lake():
        raise CommandError(f"no lake at {args.lake}", EXIT_NO_LAKE)
    n = upgrade(
        lake,
        progress=lambda i, total: log.info("%d/%d partitions", i, total),
        root_failures=with_root_failures,
    )
    _say(
        f"rebuilt the derived tables of {n} partitions in {args.lake} (format {lake.format_version()})", args
    )
    return EXIT_OK


def _sla_path(path: str | None) -> str | None:
    """The SLA file in use: --config, else $STEPSCOPE_SLAS, else ./slas.yaml if present (None: defaults)."""
    from queries import sla_config

    return (
        path
        or os.environ.get(sla_config.DEFAULT_PATH_ENV)
        or ("slas.yaml" if os.path.exists("slas.yaml") else None)
    )


def _sla_config(path: str | None) -> Any:
    from queries import sla_config

    path = _sla_path(path)
    return sla_config.load(path) if path else sla_config.default()


def human_duration(ms: Any) -> str:
    """A duration as a person reads it: 850 ms, 12.3 s, 2 min 15 s, 3 h 05 min, 1 d 13 h."""
    import pandas as pd

    if ms is None or pd.isna(ms):
        return "-"
    s = float(ms) / 1000
    if s < 1:
        return f"{float(ms):.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    m = int(round(s)) // 60
    if m < 60:
        return f"{m} min {int(round(s)) % 60:02d} s"
    if m < 24 * 60:
        return f"{m // 60} h {m % 60:02d} min"
    return f"{m // 1440} d {m % 1440 // 60} h"


def _sla_table(df: Any, by: str) -> str:
    import pandas as pd

    def pct(v: Any) -> str:
        return "-" if v is None or pd.isna(v) else f"{v * 100:.2f}%"

    def budget(r: Any) -> str:  # a budget means nothing beside too few executions to judge
        return "-" if r.status == "INSUFFICIENT_DATA" else pct(r.budget_remaining)

    head = [
        "state machine" if by == "state_machine" else "domain",
        "window",
        "executions",
        "success",
        "1st attempt",
        "objective",
        "p95",
        "in time",
        "budget left",
        "status",
        "owner",
    ]
    rows = [
        [
            str(r.state_machine_name or r.key) if by == "state_machine" else str(r.key),
            str(r.window),
            str(r.executions),
            pct(r.success_rate),
            pct(r.first_attempt_success_rate),
            pct(r.success_objective),
            human_duration(r.p95_ms),
            pct(r.within_threshold_share),
            budget(r),
            str(r.status),
            str(r.owner or "-"),
        ]
        for r in df.itertuples()
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
        for line in [head, ["-" * w for w in widths], *rows]
    )


def run_sla(args: argparse.Namespace) -> int:
    q = _open_queries(args.lake)
    at = (
        args.at
        if isinstance(args.at, datetime)
        else (datetime(args.at.year, args.at.month, args.at.day, tzinfo=UTC) if args.at else None)
    )
    config = _sla_config(args.config)
    from queries.sla_config import unknown_keys

    machines = q.state_machines()
    warnings = unknown_keys(
        config,
        q.domains()["domain"].tolist(),
        list(zip(machines["state_machine_arn"], machines["name"], strict=True)),
    )
    for w in warnings:
        log.warning("%s: %s", config.source, w)
    if warnings and args.strict:
        raise CommandError(
            f"{len(warnings)} key(s) of {config.source} match nothing in the lake (--strict)", EXIT_CONFIG
        )
    df = q.sla_report(config, end=at, by=args.by, domain=args.domain)
    if args.format == "json":
        print(json.dumps(json.loads(df.to_json(orient="records", date_format="iso")), indent=2))
    else:
        print(_sla_table(df, args.by))
    return EXIT_OK


def run_serve(args: argparse.Namespace) -> int:
    import importlib.util

    spec = importlib.util.find_spec("dashboard")
    assert spec is not None and spec.origin is not None
    app = Path(spec.origin).parent / "streamlit_app.py"
    env = dict(os.environ)
    if args.lake:
        env["STEPSCOPE_LAKE"] = args.lake
    _check_sign_in(env.get("STEPSCOPE_LAKE") or "demo-lake", args.secrets)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *(["--secrets.files", args.secrets] if args.secrets else []),
    ]
    log.info(
        "serving the dashboard on http://%s:%d (lake %s)",
        args.address,
        args.port,
        env.get("STEPSCOPE_LAKE") or "./demo-lake",
    )
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)
    return EXIT_OK  # not reached


def _check_sign_in(uri: str, secrets: str | None) -> None:
    """Refuse to serve a lake of real data without sign-in (unless STEPSCOPE_ALLOW_ANONYMOUS=1), and
    an access file that does not validate, before the server starts (the dashboard refuses them too)."""
    from dashboard import access, signin
    from lake.store import Lake

    if _auth_configured(secrets):
        path = signin.access_path()
        if path is None:
            log.warning("sign-in is on but there is no access file (access.yaml): nobody will see anything")
            return
        try:
            access.load(path)
        except access.AccessConfigError as e:
            raise CommandError(str(e), EXIT_CONFIG) from None
        return
    try:
        lake = Lake(uri)
        source = (lake.read_meta() or {}).get("source") if lake.is_lake() else signin.DEMO_SOURCE
    except OSError:
        source = None  # cannot tell: treated as real data
    if source == signin.DEMO_SOURCE:
        return
    if not signin.anonymous_allowed():
        raise CommandError(
            f"the lake at {uri} holds data from {source or 'an unknown source'} and sign-in is off: configure "
            f"[auth] in the secrets (--secrets), or set {signin.ANONYMOUS_ENV}=1 to let anyone who reaches "
            "the server see every domain"
        )
    log.warning(
        "sign-in is off: %s=1 lets anyone who reaches the server see every domain", signin.ANONYMOUS_ENV
    )


def _auth_configured(secrets: str | None) -> bool:
    """Whether the secrets Streamlit will read (`secrets`, else its default places) have an [auth] section."""
    import tomllib

    files = (
        [Path(secrets)]
        if secrets
        else [Path.home() / ".streamlit/secrets.toml", Path(".streamlit/secrets.toml")]
    )
    if secrets and not files[0].is_file():
        raise CommandError(f"no secrets file at {secrets}")
    found = False
    for f in (f for f in files if f.is_file()):
        try:
            found = found or bool(tomllib.loads(f.read_text(encoding="utf-8")).get("auth"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise CommandError(f"{f}: cannot read the secrets: {e}") from None
    return found


def run_athena_ddl(args: argparse.Namespace) -> int:
    from lake.athena import lake_ddl
    from lake.store import Lake

    lake = Lake(args.lake)
    if not lake.is_lake():
        raise CommandError(f"no lake at {args.lake} (expected _stepscope.json or executions/)", EXIT_NO_LAKE)
    print(lake_ddl(lake, args.database), end="")
    return EXIT_OK


def _open_queries(uri: str) -> Any:
    """A Queries over an existing lake in this format (CommandError otherwise)."""
    import queries
    from lake.store import Lake

    if not Lake(uri).is_lake():
        raise CommandError(f"no lake at {uri} (expected _stepscope.json or executions/)", EXIT_NO_LAKE)
    return queries.connect(uri)


COMMANDS: dict[str, tuple[Callable[[Any], None], Callable[[argparse.Namespace], int]]] = {
    "collect": (_add_collect, run_collect),
    "demo": (_add_demo, run_demo),
    "rebuild-derived": (_add_rebuild, run_rebuild_derived),
    "sla": (_add_sla, run_sla),
    "export-audit": _audit("export-audit"),
    "keygen": _audit("keygen"),
    "verify-audit": _audit("verify-audit"),
    "serve": (_add_serve, run_serve),
    "athena-ddl": (_add_athena_ddl, run_athena_ddl),
}
ALIASES = {"rebuild-sla-facts": "rebuild-derived"}


# -- messages and logs ---------------------------------------------------------------------------------
class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        return msg if record.name == "stepscope.progress" else f"stepscope: {msg}"


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", RUN_ID),
            "message": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}))
        return json.dumps(out, default=str)


def setup_logging(fmt: str) -> None:
    """Logs of every stepscope module (and the collectors') to stderr, as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Json() if fmt == "json" else _Text())
    root = logging.getLogger("stepscope")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    for name in ("collectors", "lake", "queries"):
        logging.getLogger(name).handlers[:] = [handler]
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(name).propagate = False


def _say(text: str, args: argparse.Namespace, **fields: Any) -> None:
    """What a person reads at the end of a command: plain text, or one JSON log line with `fields`."""
    if getattr(args, "log_format", "text") == "json":
        log.info("%s", text, extra={"fields": fields})
    else:
        print(text, file=sys.stderr)


def main(
    argv: Sequence[str] | None = None, *, prog: str = "stepscope", commands: Sequence[str] | None = None
) -> int:
    """Run one command; returns its exit code (EXIT_CODES)."""
    import duckdb

    from lake.lock import LakeLocked
    from lake.store import read_error
    from lake.upgrade import LakeFormatError
    from queries.sla_config import SlaConfigError

    args = build_parser(prog, commands).parse_args(argv)
    setup_logging(args.log_format)
    handler = COMMANDS[ALIASES.get(args.command, args.command)][1]
    try:
        return handler(args)
    except CommandError as e:
        return _fail(str(e), e.code)
    except LakeFormatError as e:
        return _fail(str(e), EXIT_NO_LAKE)
    except LakeLocked as e:
        return _fail(str(e), EXIT_LOCKED)
    except SlaConfigError as e:
        return _fail(str(e), EXIT_CONFIG)
    except (OSError, duckdb.IOException) as e:
        # An unreachable or unreadable lake (network, credentials, permissions): one line, not a trace.
        return _fail(f"cannot read the lake at {getattr(args, 'lake', '?')}: {read_error(e)}", EXIT_NO_LAKE)
    except ValueError as e:
        return _fail(str(e), EXIT_USAGE)


def _fail(msg: str, code: int) -> int:
    log.error("%s", msg)
    return code


if __name__ == "__main__":
    sys.exit(main())
