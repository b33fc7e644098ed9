"""The scheduled-job recipes in deploy/ (cron, systemd, Kubernetes, EventBridge Scheduler → ECS): each file
parses or verifies with its own tool, schedules what the README says, and the exact command it schedules
runs: `collect` against the moto server, `export-audit` on a demo lake ending now. Only the production
paths and buckets are swapped for the test's."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from collectors.simulate import build_demo
from lake.store import Lake

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
VENV_BIN = str(Path(sys.executable).parent)
PROD_LAKES = ("/var/lib/stepscope/lake", "s3://my-stepscope-lake/lake")
PROD_AUDITS = ("/var/lib/stepscope/audit", "s3://my-stepscope-audit/exports")
SCHEDULES = {  # what the README promises, per recipe kind
    "collect": {"cron": "*/5 * * * *", "k8s": "*/5 * * * *", "ecs": "rate(5 minutes)"},
    "daily": {"cron": "15 1 * * *", "k8s": "15 1 * * *", "ecs": "cron(15 1 * * ? *)"},
    "monthly": {"cron": "30 1 1 * *", "k8s": "30 1 1 * *", "ecs": "cron(30 1 1 * ? *)"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo lake ending now, back to the last day of last month: yesterday and last month have
    executions (a lake of a whole month builds too slowly for this)."""
    lake = tmp_path_factory.mktemp("recipes") / "lake"
    days = datetime.now(UTC).day + 1
    build_demo(str(lake), days=days, executions=150 * days, seed=5, end=None, events="none")
    return lake


class Job:
    """A scheduled command, run as its scheduler would, with the test's lake, audit folder and logs."""

    def __init__(self, kind: str, env, demo: Path, tmp_path: Path):
        self.kind, self.tmp = kind, tmp_path
        self.lake = str(tmp_path / "lake") if kind == "collect" else str(demo)
        self.audit = tmp_path / "audit"
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.swaps = {
            **dict.fromkeys(PROD_LAKES, self.lake),
            **dict.fromkeys(PROD_AUDITS, str(self.audit)),
            "/etc/stepscope/slas.yaml": str(ROOT / "slas.yaml"),
            "/var/log/stepscope": str(self.logs),
            "/opt/stepscope/.venv/bin": VENV_BIN,
        }

    def swap(self, text: str) -> str:
        for prod, here in self.swaps.items():
            text = text.replace(prod, here)
        return text

    def environ(self, recipe_env: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEPSCOPE_")}
        env.update({k: self.swap(v) for k, v in recipe_env.items()})
        env["PATH"] = f"{VENV_BIN}:{env.get('PATH', os.environ['PATH'])}"
        return env

    def run(self, argv: list[str], env: dict[str, str]) -> str:
        proc = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{argv}\n{proc.stdout}\n{proc.stderr}"
        return proc.stderr

    def check(self) -> None:
        """What the job leaves: a collect run in the lake, or the period's audit CSVs with manifests."""
        if self.kind == "collect":
            runs = Lake(self.lake).read("collection_runs").to_pylist()
            assert len(runs) == 1 and Lake(self.lake).partitions("executions")
            return
        today = datetime.now(UTC).date()
        last_month = today.replace(day=1) - timedelta(days=1)
        period = (
            (today - timedelta(days=1)).isoformat() if self.kind == "daily" else last_month.strftime("%Y-%m")
        )
        [csv] = self.audit.rglob("*.csv")
        assert csv.relative_to(self.audit) == Path(
            "payments", f"{period}.csv"
        )  # named from domain and period
        assert csv.read_text().count("\n") > 1  # a header and rows: the period had executions
        assert csv.with_name(f"{csv.name}.manifest.json").is_file()


def kind_of(text: str) -> str:
    if " collect " in f" {text} ":
        return "collect"
    return "monthly" if "last-month" in text else "daily"


# -- cron --------------------------------------------------------------------------------------------
def cron_entries() -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """The /etc/cron.d file's variables and its (schedule, user, command) lines."""
    env, jobs = {}, []
    for line in (DEPLOY / "cron" / "stepscope").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if m := re.fullmatch(r"([A-Z_]+)=(.*)", line):
            env[m.group(1)] = m.group(2)
            continue
        fields = line.split(None, 6)
        assert len(fields) == 7, f"not a cron.d line (5 times, a user, a command): {line}"
        jobs.append((" ".join(fields[:5]), fields[5], fields[6]))
    return env, jobs


def cron_command(command: str) -> tuple[str, str]:
    """What cron runs: the command up to the first unescaped %, the rest as its standard input."""
    parts = re.split(r"(?<!\\)%", command, maxsplit=1)
    return parts[0].replace("\\%", "%"), (parts[1].replace("%", "\n") if len(parts) > 1 else "")


def test_cron_schedules_every_job():
    env, jobs = cron_entries()
    assert {kind_of(c): s for s, _, c in jobs} == {k: v["cron"] for k, v in SCHEDULES.items()}
    assert {u for _, u, _ in jobs} == {"stepscope"} and env["SHELL"] == "/bin/sh"


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_cron_commands_run(kind: str, env, demo: Path, tmp_path: Path):
    recipe_env, jobs = cron_entries()
    [command] = [c for _, _, c in jobs if kind_of(c) == kind]
    job = Job(kind, env, demo, tmp_path)
    line, stdin = cron_command(command)
    assert stdin == ""
    environ = job.environ(recipe_env)
    environ["PATH"] = f"{VENV_BIN}:{recipe_env['PATH']}"  # the crontab's own PATH, with the venv for /opt
    job.run(["/bin/sh", "-c", line], environ)
    job.check()
    log = next(job.logs.iterdir()).read_text().splitlines()
    assert log and all(json.loads(x)["run_id"] for x in log)  # JSON log lines with the run id


# -- systemd ------------------------------------------------------------------------------------------
def units(tmp_path: Path) -> Path:
    """The unit files as installed on a host where stepscope lives in this venv."""
    out = tmp_path / "units"
    out.mkdir()
    for f in (DEPLOY / "systemd").glob("*.[st]*"):
        if f.suffix in (".service", ".timer"):
            (out / f.name).write_text(f.read_text().replace("/opt/stepscope/.venv/bin", VENV_BIN))
    return out


def unit_value(path: Path, key: str) -> str:
    [value] = re.findall(rf"^{key}=(.*)$", path.read_text(), re.M)
    return value


def elapses(calendar: str, n: int) -> list[datetime]:
    out = subprocess.run(
        ["systemd-analyze", "calendar", f"--iterations={n}", calendar],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    times = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC", out)
    return [datetime.fromisoformat(t).replace(tzinfo=UTC) for t in times]


def test_systemd_units_verify_and_their_timers_fire_when_the_readme_says(tmp_path: Path):
    d = units(tmp_path)
    files = sorted(str(p) for p in d.iterdir())
    assert len(files) == 6
    proc = subprocess.run(["systemd-analyze", "verify", *files], capture_output=True, text=True, cwd=d)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    collect = elapses(unit_value(d / "stepscope-collect.timer", "OnCalendar"), 3)
    assert {(b - a).total_seconds() for a, b in zip(collect, collect[1:], strict=False)} == {300.0}
    daily = elapses(unit_value(d / "stepscope-audit-daily.timer", "OnCalendar"), 2)
    assert (daily[1] - daily[0]).days == 1 and (daily[0].hour, daily[0].minute) == (1, 15)
    monthly = elapses(unit_value(d / "stepscope-audit-monthly.timer", "OnCalendar"), 2)
    assert [t.day for t in monthly] == [1, 1] and monthly[0].month != monthly[1].month


@pytest.mark.parametrize(
    "kind,unit",
    [
        ("collect", "stepscope-collect"),
        ("daily", "stepscope-audit-daily"),
        ("monthly", "stepscope-audit-monthly"),
    ],
)
def test_systemd_services_run(kind: str, unit: str, env, demo: Path, tmp_path: Path):
    service = units(tmp_path) / f"{unit}.service"
    assert unit_value(service, "EnvironmentFile") == "/etc/stepscope/stepscope.env"
    recipe_env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "systemd" / "stepscope.env").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    job = Job(kind, env, demo, tmp_path)
    environ = job.environ(recipe_env)
    # systemd substitutes ${VAR} in ExecStart= from the unit's environment, each as one word
    argv = [
        re.sub(r"\$\{(\w+)\}", lambda m: environ[m.group(1)], w)
        for w in shlex.split(unit_value(service, "ExecStart"))
    ]
    job.run(argv, environ)
    job.check()


# -- Kubernetes -------------------------------------------------------------------------------------
def cronjobs() -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "cronjobs.yaml").read_text()) if d]


def test_kubernetes_cronjobs_are_well_formed():
    docs = cronjobs()
    assert [(d["apiVersion"], d["kind"]) for d in docs] == [("batch/v1", "CronJob")] * 3
    by_kind = {
        kind_of(" ".join(d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"])): d
        for d in docs
    }
    assert {k: d["spec"]["schedule"] for k, d in by_kind.items()} == {
        k: v["k8s"] for k, v in SCHEDULES.items()
    }
    user = re.search(r"^USER (\d+):", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    for d in docs:
        assert d["spec"]["timeZone"] == "Etc/UTC" and d["spec"]["concurrencyPolicy"] == "Forbid"
        pod = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["restartPolicy"] in ("Never", "OnFailure")
        assert (
            pod["securityContext"]["runAsNonRoot"] is True
            and str(pod["securityContext"]["runAsUser"]) == user
        )
        [c] = pod["containers"]
        names = {e["name"] for e in c["env"]}
        assert set(re.findall(r"\$\((\w+)\)", " ".join(c["args"]))) <= names  # every $(VAR) is defined


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_kubernetes_cronjobs_run_through_the_image_entrypoint(kind: str, env, demo: Path, tmp_path: Path):
    [c] = [
        d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        for d in cronjobs()
        if kind_of(" ".join(d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]))
        == kind
    ]
    job = Job(kind, env, demo, tmp_path)
    environ = job.environ({e["name"]: e["value"] for e in c["env"]})
    args = [
        re.sub(r"\$\((\w+)\)", lambda m: environ[m.group(1)], a) for a in c["args"]
    ]  # as the kubelet does
    job.run(["sh", str(ENTRYPOINT), *args], environ)
    job.check()


# -- EventBridge Scheduler → ECS RunTask ---------------------------------------------------------------
def ecs_file(name: str) -> dict:
    return json.loads((DEPLOY / "ecs" / name).read_text())


@pytest.mark.parametrize(
    "kind,schedule_file",
    [
        ("collect", "schedule-collect.json"),
        ("daily", "schedule-audit-daily.json"),
        ("monthly", "schedule-audit-monthly.json"),
    ],
)
def test_eventbridge_schedules_start_the_ecs_task_with_a_command_that_runs(
    kind: str, schedule_file: str, env, demo: Path, tmp_path: Path
):
    import boto3

    task = ecs_file("task-definition.json")
    registered = boto3.client("ecs").register_task_definition(**task)[
        "taskDefinition"
    ]  # validated by botocore
    schedule = ecs_file(schedule_file)
    assert (
        schedule["ScheduleExpression"] == SCHEDULES[kind]["ecs"]
        and schedule["ScheduleExpressionTimezone"] == "UTC"
    )
    scheduler = boto3.client("scheduler")
    scheduler.create_schedule(**schedule)
    try:
        target = scheduler.get_schedule(Name=schedule["Name"])["Target"]
    finally:
        scheduler.delete_schedule(Name=schedule["Name"])
    assert target["EcsParameters"]["TaskDefinitionArn"].endswith(f":task-definition/{registered['family']}")
    [override] = json.loads(target["Input"])["containerOverrides"]  # RunTask's overrides
    [container] = registered["containerDefinitions"]
    assert override["name"] == container["name"]
    job = Job(kind, env, demo, tmp_path)
    environ = job.environ({e["name"]: e["value"] for e in container["environment"]})
    job.run(["sh", str(ENTRYPOINT), *[job.swap(a) for a in override["command"]]], environ)
    job.check()


def test_every_recipe_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for f in sorted(p for p in DEPLOY.rglob("*") if p.is_file()):
        assert str(f.relative_to(ROOT)) in readme, f
    assert shutil.which("systemd-analyze"), "systemd-analyze: `make test` installs systemd"
