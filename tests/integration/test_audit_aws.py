"""Audit exports to S3 and signed with AWS KMS, against a real moto server over HTTP: the same bytes as
a local export, no temporary object left behind, and verify-audit checking KMS signatures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from stepscope import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from queries_tiny_lake import build  # noqa: E402

pytestmark = pytest.mark.integration

BUCKET = "audit-exports"
ARGS = ["--domain", "pay", "--period", "yesterday", "--at", "2025-01-02T06:00Z"]


@pytest.fixture
def aws(moto, tmp_path):
    import boto3

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    kms = boto3.client("kms")
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    return build(str(tmp_path / "lake")), key, boto3.client("s3")


def keys(s3) -> list[str]:
    """The objects of the bucket (pyarrow's empty folder markers, `prefix/`, aside)."""
    found = (o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
    return sorted(k for k in found if not k.endswith("/"))


def test_an_s3_export_signed_with_kms_verifies_and_tampering_is_found(aws, tmp_path, capsys):
    lake, key, s3 = aws
    dest = f"s3://{BUCKET}/audit"
    assert cli.main(["export-audit", "--lake", lake.uri, *ARGS, "--out", dest, "--kms-key-id", key]) == 0
    assert keys(s3) == [
        "audit/pay/2025-01-01.csv",
        "audit/pay/2025-01-01.csv.manifest.json",
    ]  # no temporary left
    assert cli.main(["export-audit", "--lake", lake.uri, *ARGS, "--out", str(tmp_path / "local")]) == 0
    body = s3.get_object(Bucket=BUCKET, Key="audit/pay/2025-01-01.csv")["Body"].read()
    assert body == (tmp_path / "local" / "pay" / "2025-01-01.csv").read_bytes() and body.count(b"\n") == 11
    m = json.loads(s3.get_object(Bucket=BUCKET, Key="audit/pay/2025-01-01.csv.manifest.json")["Body"].read())
    assert m["signature"]["algorithm"] == "ECDSA_SHA_256" and m["signature"]["key_id"].endswith(key)
    # a re-run is idempotent on S3 too
    capsys.readouterr()
    assert cli.main(["export-audit", "--lake", lake.uri, *ARGS, "--out", dest, "--kms-key-id", key]) == 0
    assert "unchanged" in capsys.readouterr().err and len(keys(s3)) == 2
    assert cli.main(["verify-audit", dest, "--kms-key-id", key]) == 0
    assert "signatures checked" in capsys.readouterr().out
    assert cli.main(["verify-audit", f"{dest}/pay/2025-01-01.csv", "--kms-key-id", key]) == 0
    # another KMS key did not sign it
    import boto3

    other = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
        "KeyId"
    ]
    capsys.readouterr()
    assert cli.main(["verify-audit", dest, "--kms-key-id", other]) == cli.EXIT_UNVERIFIED
    assert f"signed by key {key}, not by the given key sha256:" in capsys.readouterr().out
    s3.put_object(
        Bucket=BUCKET, Key="audit/pay/2025-01-01.csv", Body=body.replace(b"SUCCEEDED", b"FAILED", 1)
    )
    assert cli.main(["verify-audit", dest, "--kms-key-id", key]) == cli.EXIT_UNVERIFIED
    assert "SHA-256 differs from its manifest" in capsys.readouterr().out


def test_a_kms_key_that_cannot_sign_is_a_clear_error_and_writes_nothing(aws, capsys):
    import boto3

    lake, _, s3 = aws
    enc = boto3.client("kms").create_key(KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    argv = ["export-audit", "--lake", lake.uri, *ARGS, "--out", f"s3://{BUCKET}/audit"]
    assert cli.main([*argv, "--kms-key-id", enc]) == cli.EXIT_USAGE
    assert "is not a signing key" in capsys.readouterr().err
    assert cli.main([*argv, "--kms-key-id", "arn:aws:kms:us-east-1:123456789012:key/nope"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.startswith("stepscope: KMS key arn:aws:kms:")
    assert keys(s3) == []
