"""The `stepscope` command line (`stepscope.cli`): collect, demo, sla, export-audit, rebuild-derived, serve."""
