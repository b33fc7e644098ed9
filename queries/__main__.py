"""`python -m queries <command>`: the report commands of `stepscope` (sla, export-audit)."""

from __future__ import annotations

import sys

from stepscope.cli import main

COMMANDS = ("sla", "export-audit")

if __name__ == "__main__":
    sys.exit(main(prog="python -m queries", commands=COMMANDS))
