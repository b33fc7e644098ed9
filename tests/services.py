"""Servers the tests start: a free localhost port, and a subprocess that is up before it is used."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(cmd: Sequence[str], *, env: Mapping[str, str], log: Path, ready_url: str,
          timeout: float = 60, cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run `cmd` with its output in `log`; yield once `ready_url` answers, stop it afterwards."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(cmd), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as r:  # noqa: S310 - localhost only
                    r.read()
                break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{cmd[0]} {' '.join(cmd[1:3])} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
