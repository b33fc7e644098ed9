"""`stepscope serve` refuses, before any server starts, a lake of real data without sign-in and an access
file that does not validate (the dashboard refuses them too: tests/e2e/test_access_pages.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lake.store import Lake
from stepscope import cli


@pytest.fixture
def aws_lake(tmp_path: Path) -> Path:
    Lake(str(tmp_path / "lake")).write_meta(source="aws")
    return tmp_path / "lake"


def test_real_data_without_sign_in_is_refused(
    aws_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STEPSCOPE_ALLOW_ANONYMOUS", raising=False)
    monkeypatch.setattr(Path, "home", lambda: aws_lake)  # no secrets in a home folder
    monkeypatch.chdir(aws_lake)
    assert cli.main(["serve", "--lake", str(aws_lake)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "holds data from aws and sign-in is off" in err and "STEPSCOPE_ALLOW_ANONYMOUS=1" in err


def test_a_broken_access_file_stops_serve_and_a_missing_secrets_file_too(
    aws_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\ncookie_secret = "x"\n')
    access = tmp_path / "access.yaml"
    access.write_text("ask: x\nrules:\n  - {group: g}\n")
    monkeypatch.setenv("STEPSCOPE_ACCESS", str(access))
    assert cli.main(["serve", "--lake", str(aws_lake), "--secrets", str(secrets)]) == cli.EXIT_CONFIG
    assert f"{access}: rules[0].domains: missing" in capsys.readouterr().err
    assert (
        cli.main(["serve", "--lake", str(aws_lake), "--secrets", str(tmp_path / "no.toml")]) == cli.EXIT_USAGE
    )
    assert "no secrets file at" in capsys.readouterr().err
