"""`python -m collectors <command>`: the collector commands of `stepscope` (collect, demo, rebuild-derived)."""

from __future__ import annotations

import sys

from stepscope.cli import main

COMMANDS = ("collect", "demo", "rebuild-derived")

if __name__ == "__main__":
    sys.exit(main(prog="python -m collectors", commands=COMMANDS))
