"""Every source a `collect` run can ask, by name. Adding a source: its folder, its tables in `lake`,
and one line here."""

from __future__ import annotations

from collectors import cloudwatch, logs, stepfunctions, xray
from collectors.source import Source

SOURCES: dict[str, Source] = {
    s.name: s for s in (stepfunctions.SOURCE, cloudwatch.SOURCE, logs.SOURCE, xray.SOURCE)
}


def enabled(names: list[str] | None) -> list[Source]:
    """The sources to run: the named ones in registry order, every one when none is named."""
    if not names:
        return list(SOURCES.values())
    unknown = sorted(set(names) - SOURCES.keys())
    if unknown:
        raise ValueError(f"no source called {', '.join(unknown)}: choose from {', '.join(SOURCES)}")
    return [s for s in SOURCES.values() if s.name in names]
