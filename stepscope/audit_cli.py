"""The audit commands of `stepscope`: export-audit, keygen and verify-audit (same messages and exit
codes as every command: see stepscope.cli)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stepscope.cli import (
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_UNVERIFIED,
    CommandError,
    _lake_arg,
    _open_queries,
    _say,
    _sla_config,
    _sla_path,
    parse_when,
)

PERIOD_HELP = (
    "yesterday, last-7d, last-week (Monday to Sunday), last-month or month-to-date, as seen in --tz "
    "at --at; or give --from and --to"
)


def add_export(sub: Any) -> None:
    from queries.audit.period import RELATIVE

    e = sub.add_parser(
        "export-audit",
        help="write the audit CSV and its signed, chained manifest for one domain and period",
        description="Files are named from the domain and period: OUT/payments/2026-11.csv and "
        "OUT/payments/2026-11.csv.manifest.json. Re-running a period that comes out the same writes "
        "nothing; one whose rows changed (late data) is written as a new revision (2026-11.r2.csv).",
    )
    _lake_arg(e)
    e.add_argument("--domain", required=True, help="the domain (tag value) to export")
    e.add_argument("--period", choices=RELATIVE, help=PERIOD_HELP)
    e.add_argument("--from", dest="start", type=parse_when, help="first day (or time), inclusive")
    e.add_argument("--to", dest="end", type=parse_when, help="last day, inclusive (a time: exclusive)")
    e.add_argument(
        "--tz", default="UTC", help="time zone of the period's days, e.g. Europe/Paris (default UTC)"
    )
    e.add_argument("--at", type=parse_when, help="resolve --period as if run at this time (default: now)")
    e.add_argument("--out", required=True, help="folder or s3://bucket/prefix that holds the exports")
    e.add_argument("--config", help="SLA YAML used for the sla_met column (its SHA-256 goes in the manifest)")
    key = e.add_mutually_exclusive_group()
    key.add_argument(
        "--signing-key", metavar="PEM", help="sign the manifest with this Ed25519 key (stepscope keygen)"
    )
    key.add_argument("--kms-key-id", metavar="ID", help="sign the manifest with this AWS KMS asymmetric key")


def add_keygen(sub: Any) -> None:
    k = sub.add_parser("keygen", help="write an Ed25519 key pair to sign audit manifests with")
    k.add_argument(
        "--out",
        default="stepscope-audit",
        help="file name stem: STEM.key (private, mode 600) and STEM.pub (default stepscope-audit)",
    )


def add_verify(sub: Any) -> None:
    v = sub.add_parser(
        "verify-audit",
        help="check audit exports: hashes, row counts, signatures and each series' chain",
        description="Prints one line per finding and exits non-zero on any.",
    )
    v.add_argument(
        "target", metavar="FILE.csv|FOLDER", help="one export (and its series) or a folder/s3:// prefix"
    )
    key = v.add_mutually_exclusive_group()
    key.add_argument("--public-key", metavar="PEM", help="the signer's public key (PEM)")
    key.add_argument("--kms-key-id", metavar="ID", help="the AWS KMS key the manifests are signed with")


def _period(args: argparse.Namespace) -> Any:
    from queries.audit import period

    if args.period and (args.start or args.end):
        raise CommandError("give --period or --from/--to, not both")
    if args.period:
        at = args.at
        if at is not None and not hasattr(at, "tzinfo"):
            raise CommandError("--at takes a time (2026-12-01T06:00Z), not a date")
        return period.relative(args.period, args.tz, at)
    if not (args.start and args.end):
        raise CommandError("give --period (e.g. --period yesterday) or both --from and --to")
    return period.explicit(args.start, args.end, args.tz)


def _kms() -> Any:
    import boto3

    return boto3.client("kms")


def _signer(args: argparse.Namespace) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    from queries.audit.sign import Ed25519Signer

    if args.signing_key:
        return Ed25519Signer.from_file(args.signing_key)
    if args.kms_key_id:
        from stepscope.kms import KmsSigner

        try:
            return KmsSigner(_kms(), args.kms_key_id)
        except (BotoCoreError, ClientError) as e:
            raise CommandError(f"KMS key {args.kms_key_id}: {e}") from None
    return None


def run_export(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from queries.audit.job import export_audit
    from queries.audit.manifest import BadManifest

    if args.out.endswith(".csv"):
        raise CommandError(
            "--out is a folder or s3://bucket/prefix: the file is named from the domain and period "
            "(OUT/payments/2026-11.csv)"
        )
    period = _period(args)
    signer = _signer(args)
    q = _open_queries(args.lake)
    slas = _sla_path(args.config)
    rows = q.audit_batches(args.domain, period.start, period.end, _sla_config(args.config))
    arguments = {
        "lake": args.lake,
        "domain": args.domain,
        "period": args.period,
        "from": args.start,
        "to": args.end,
        "tz": args.tz,
        "at": args.at,
        "config": slas,
        "out": args.out,
    }
    try:
        done = export_audit(
            rows,
            args.out,
            args.domain,
            period,
            arguments,
            slas=slas,
            lake={"uri": args.lake, "format_version": q.lake.format_version()},
            signer=signer,
        )
    except BadManifest as e:
        raise CommandError(str(e), EXIT_OUTPUT) from None
    except OSError as e:
        raise CommandError(f"cannot write to {args.out}: {e.strerror or e}", EXIT_OUTPUT) from None
    except (BotoCoreError, ClientError) as e:
        raise CommandError(f"cannot sign with KMS key {args.kms_key_id}: {e}", EXIT_OUTPUT) from None
    m = done.manifest
    what = {
        "written": f"link {m['sequence']} of {m['series']}",
        "revised": f"revision {m['revision']}, link {m['sequence']} of {m['series']}: {m['reason']}",
        "unchanged": f"unchanged (revision {m['revision']}): nothing written",
    }[done.outcome]
    _say(f"{done.where}: {m['rows']:,} rows, sha256 {m['sha256']}; {what}", args, outcome=done.outcome)
    if not m["rows"]:
        _say(f"note: no executions of domain {args.domain!r} in the period", args)
    return EXIT_OK


def run_keygen(args: argparse.Namespace) -> int:
    from queries.audit.sign import keygen

    private, public = f"{args.out}.key", f"{args.out}.pub"
    try:
        key_id = keygen(private, public)
    except OSError as e:
        raise CommandError(
            str(e) if isinstance(e, FileExistsError) else f"cannot write {private}: {e}", EXIT_OUTPUT
        ) from None
    _say(f"wrote {private} (keep it secret) and {public} (give it to the recipients); key {key_id}", args)
    return EXIT_OK


def _public_key(args: argparse.Namespace) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    from queries.audit.sign import load_public_key

    if args.public_key:
        try:
            data = Path(args.public_key).read_bytes()
        except OSError as e:
            raise CommandError(f"cannot read {args.public_key}: {e.strerror or e}") from None
        return load_public_key(data, args.public_key)
    if args.kms_key_id:
        from stepscope.kms import kms_public_key

        try:
            return kms_public_key(_kms(), args.kms_key_id)
        except (BotoCoreError, ClientError) as e:
            raise CommandError(f"KMS key {args.kms_key_id}: {e}") from None
    return None


def run_verify(args: argparse.Namespace) -> int:
    from queries.audit.verify import verify

    key = _public_key(args)
    report = verify(args.target, key)
    for line in report.findings:
        print(f"FAIL {line}")
    for line in report.sound:
        print(f"ok   {line}")
    if key is None:
        _say("note: signatures not checked: pass --public-key PEM or --kms-key-id ID", args)
    sys.stdout.flush()
    if report.findings:
        raise CommandError(f"{len(report.findings)} finding(s): the exports do not verify", EXIT_UNVERIFIED)
    return EXIT_OK


PARSERS = {"export-audit": add_export, "keygen": add_keygen, "verify-audit": add_verify}
RUNNERS = {"export-audit": run_export, "keygen": run_keygen, "verify-audit": run_verify}
