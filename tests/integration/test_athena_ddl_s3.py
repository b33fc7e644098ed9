"""`stepscope athena-ddl` on an s3:// lake (the moto server): the same statements as for the same lake on
disk, located in the bucket, with the domains and first day listed from S3."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from lake.store import Lake
from stepscope import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from queries_tiny_lake import build  # noqa: E402

pytestmark = pytest.mark.integration


def test_an_s3_lake_gets_the_same_ddl_located_in_its_bucket(moto, tmp_path: Path, capsys):
    import boto3

    local = build(str(tmp_path / "lake"))
    boto3.client("s3").create_bucket(Bucket="athena-lake")
    uri = "s3://athena-lake/prod/stepscope"
    pafs.copy_files(local.root, uri[5:], source_filesystem=local.fs, destination_filesystem=Lake(uri).fs)
    assert cli.main(["athena-ddl", "--lake", local.uri]) == 0
    on_disk = capsys.readouterr().out
    assert cli.main(["athena-ddl", "--lake", uri]) == 0
    on_s3 = capsys.readouterr().out
    assert on_s3.count(f"LOCATION '{uri}/") == on_disk.count("LOCATION 'file://") > 5
    assert on_s3.replace(uri, "LAKE") == on_disk.replace(f"file://{local.root}", "LAKE").replace(
        local.uri, "LAKE"
    )
