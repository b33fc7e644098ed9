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
    """The real-world ASL corpus (../shared/corpus/asl beside the clone); never copied into the repo.

    Without it a local run skips the corpus tests and says where the corpus comes from; CI (CI=true)
    fails, since CI always has it."""
    asl = CORPUS / "asl"
    if not asl.is_dir():
        msg = (
            f"ASL corpus not found at {asl}: it is the project's shared/corpus folder, checked out beside "
            "this clone (or set STEPSCOPE_CORPUS to the folder holding asl/)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return asl
