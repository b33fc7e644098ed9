"""Shared fixtures for every test tier."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("STEPSCOPE_CORPUS", ROOT.parent / "shared" / "corpus"))

for noisy in ("moto.stepfunctions.parser", "werkzeug", "botocore.credentials"):
    logging.getLogger(noisy).setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real-world ASL corpus (../shared/corpus/asl); never copied into the repo."""
    asl = CORPUS / "asl"
    if not asl.is_dir():
        pytest.fail(f"ASL corpus not found at {asl} (set STEPSCOPE_CORPUS)")
    return asl
