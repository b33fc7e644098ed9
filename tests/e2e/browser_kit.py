"""What the browser tests share: the Chromium they drive, its window width, and the served dashboard."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from services import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WIDTH = 1400


@contextmanager
def served(
    lake: Path,
    slas_file: Path,
    log: Path,
    *,
    port: int | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """`stepscope serve` (Streamlit) in a subprocess on a free localhost port (or `port`), serving `lake`,
    with more `args` and `env` if given; its URL."""
    port = port or free_port()
    env = {**os.environ, "STEPSCOPE_SLAS": str(slas_file), **(env or {})}
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "stepscope", "serve", "--lake", str(lake), "--port", str(port), *args]
    with serve(cmd, env=env, log=log, ready_url=f"{base}/_stcore/health", cwd=ROOT):
        yield base
