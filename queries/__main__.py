"""`python -m queries <command>`: the report commands of `stepscope` (sla and the audit commands)."""

from __future__ import annotations

import sys

from stepscope.cli import main

COMMANDS = ("sla", "export-audit", "verify-audit", "keygen")

if __name__ == "__main__":
    sys.exit(main(prog="python -m queries", commands=COMMANDS))
