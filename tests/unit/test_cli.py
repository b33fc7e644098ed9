"""The one command line: every command listed, one exit-code table (the same in --help and the README),
`stepscope: ...` messages, JSON log lines with the run id, and the aliases."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from queries_tiny_lake import build

from stepscope import cli

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["collect", "demo", "sla", "export-audit", "rebuild-derived", "serve"]


def test_help_lists_every_command_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert re.search(rf"^\s+{re.escape(name)}\b", out, re.M), name
    for code, text in cli.EXIT_CODES.items():
        assert f"  {code}  {text}" in out


def test_the_readme_documents_the_same_exit_codes_and_commands():
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| (\d) \| (.+?) \|$", readme, re.M))
    assert {int(k): v for k, v in rows.items()} == cli.EXIT_CODES
    for name in COMMANDS:
        assert f"`stepscope {name}" in readme, name
    assert "python -m collectors collect" not in readme and "python -m queries sla" not in readme


def test_the_console_script_is_declared():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"stepscope": "stepscope.cli:main"}


def test_errors_are_one_line_with_the_prefix_and_their_exit_code(tmp_path, capsys):
    assert cli.main(["sla", "--lake", str(tmp_path / "nothing")]) == cli.EXIT_NO_LAKE
    err = capsys.readouterr().err
    assert err == f"stepscope: no lake at {tmp_path / 'nothing'} (expected _stepscope.json or executions/)\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults: {success_objective: 2}\n")
    lake = build(str(tmp_path / "lake")).uri
    assert cli.main(["sla", "--lake", lake, "--config", str(bad)]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("stepscope: ") and "success_objective" in err
    assert (
        cli.main(
            [
                "export-audit",
                "--lake",
                lake,
                "--domain",
                "pay",
                "--from",
                "2025-01-02",
                "--to",
                "2025-01-01",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )
        == cli.EXIT_USAGE
    )


def test_json_logs_carry_the_run_id(tmp_path, capsys):
    lake = build(str(tmp_path / "lake")).uri
    assert cli.main(["rebuild-derived", "--lake", lake, "--log-format", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines and all(r["run_id"] == cli.RUN_ID and r["level"] for r in lines)
    assert lines[-1]["message"].startswith("rebuilt the derived tables of ")
    # The option may also come before the command.
    assert cli.main(["--log-format", "json", "sla", "--lake", str(tmp_path / "none")]) == cli.EXIT_NO_LAKE
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["level"] == "error"


@pytest.mark.parametrize(
    ("module", "offered", "absent"),
    [
        ("collectors", ["collect", "demo", "rebuild-derived"], ["sla", "serve"]),
        ("queries", ["sla", "export-audit"], ["collect", "serve"]),
        ("stepscope", COMMANDS, []),
    ],
)
def test_python_dash_m_aliases(module, offered, absent):
    out = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    listed = set(re.findall(r"^    ([a-z-]+)", out, re.M))
    assert set(offered) <= listed and not set(absent) & listed, listed
