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
COMMANDS = ["collect", "demo", "sla", "export-audit", "rebuild-derived", "serve", "athena-ddl"]


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


def test_sla_command_checks_the_file_against_the_lake(tmp_path, capsys):
    """A misspelt key is a warning on stderr (exit 0), an error with --strict (exit 4); an unknown
    --domain is an error (exit 2), not a made-up row."""
    lake = build(str(tmp_path / "lake")).uri
    cfg = tmp_path / "slas.yaml"
    cfg.write_text("defaults: {window: 7d, min_executions: 1}\ndomains: {pya: {owner: x}}\n")
    args = ["sla", "--lake", lake, "--config", str(cfg), "--at", "2025-01-03"]
    assert cli.main(args) == cli.EXIT_OK
    out = capsys.readouterr()
    assert "domains.pya: no domain called 'pya' in the lake" in out.err and "did you mean 'pay'?" in out.err
    assert "pya" not in out.out  # no phantom row
    assert cli.main([*args, "--strict"]) == cli.EXIT_CONFIG
    assert "match nothing in the lake (--strict)" in capsys.readouterr().err
    assert cli.main([*args, "--domain", "nosuch"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.splitlines()[-1] == (
        "stepscope: no domain called 'nosuch' in the lake (domains: care, pay)"
    )


def test_sla_table_reads_as_a_person_would(tmp_path, capsys):
    lake = build(str(tmp_path / "lake")).uri
    cfg = tmp_path / "slas.yaml"
    cfg.write_text("defaults: {window: 7d, min_executions: 10}\n")
    assert cli.main(["sla", "--lake", lake, "--config", str(cfg), "--at", "2025-01-03"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    # care has 5 executions in the window (< 10): no budget beside INSUFFICIENT_DATA
    assert "INSUFFICIENT_DATA" in lines["care"] and "%  -  " not in lines["care"]
    assert re.search(r"\s-\s+INSUFFICIENT_DATA", lines["care"])
    assert not re.search(r"\d{4,}\.\ds", capsys.readouterr().out)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (850, "850 ms"),
        (12_340, "12.3 s"),
        (135_000, "2 min 15 s"),
        (3 * 3_600_000 + 5 * 60_000, "3 h 05 min"),
        (135_493_300, "1 d 13 h"),
        (None, "-"),
    ],
)
def test_human_durations(ms, text):
    assert cli.human_duration(ms) == text
