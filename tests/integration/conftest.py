"""A real moto server (subprocess on 127.0.0.1) with real Step Functions execution."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from services import free_port, point_boto3_at, serve

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@dataclass(frozen=True)
class MotoServer:
    url: str
    port: int

    def post(self, path: str, body: dict | None = None) -> bytes:
        req = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body or {}).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def configure(self) -> None:
        self.post("/moto-api/config", MOTO_CONFIG)

    def reset(self) -> None:
        # A reset keeps the config in moto 5.2.5; configuring again costs nothing and
        # does not depend on that.
        self.post("/moto-api/reset")
        self.configure()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """Start `python -m moto.server` once per session and enable real ASL execution."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    env = {**os.environ, "MOTO_PORT": str(port)}
    for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(k, None)
    server = MotoServer(f"http://127.0.0.1:{port}", port)
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with serve(cmd, env=env, log=log, ready_url=f"{server.url}/moto-api/config", timeout=30):
        server.configure()
        yield server


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """A fresh moto account; boto3 in this process points at it with dummy credentials."""
    moto_server.reset()
    point_boto3_at(moto_server.url, monkeypatch)
    return moto_server


@pytest.fixture(scope="module")
def account(moto_server: MotoServer) -> Iterator[tuple[Any, Any]]:
    """The scenario account (scenario.py), built once per module: the flows take real seconds."""
    import boto3
    from scenario import build

    with pytest.MonkeyPatch.context() as mp:
        moto_server.reset()
        point_boto3_at(moto_server.url, mp)
        sfn = boto3.client("stepfunctions")
        yield build(sfn), sfn


@pytest.fixture
def env(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, account: tuple[Any, Any]
) -> tuple[Any, Any]:
    """The module's scenario account, with boto3 pointed at the server for this test."""
    point_boto3_at(moto_server.url, monkeypatch)
    return account
