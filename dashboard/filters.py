"""Global filters (domain, state machine, period) and the time windows they select; pure, no Streamlit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PERIODS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
DEFAULT_PERIOD = "7d"
PARAM_KEYS = ("domain", "machine", "period")


@dataclass(frozen=True)
class Filters:
    """What every page shows: one domain (or all), one state machine ARN (or all), one period."""

    domain: str | None = None
    machine: str | None = None
    period: str = DEFAULT_PERIOD


def _one(value: object) -> str | None:
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    return str(value) if value not in (None, "") else None


def from_params(params: Mapping[str, object]) -> Filters:
    """Filters from URL query parameters; an unknown period falls back to the default."""
    period = _one(params.get("period"))
    return Filters(
        domain=_one(params.get("domain")),
        machine=_one(params.get("machine")),
        period=period if period in PERIODS else DEFAULT_PERIOD,
    )


def to_params(f: Filters) -> dict[str, str]:
    """Query parameters for a shareable link (empty filters are left out)."""
    out = {"domain": f.domain, "machine": f.machine, "period": f.period}
    return {k: v for k, v in out.items() if v}


def window(period: str, anchor: datetime | None) -> tuple[datetime, datetime]:
    """Half-open [start, end) of a period ending at `anchor` (default now) rounded up to a whole hour."""
    anchor = (anchor or datetime.now(UTC)).astimezone(UTC)
    end = anchor.replace(minute=0, second=0, microsecond=0)
    if end < anchor:
        end += timedelta(hours=1)
    return end - PERIODS.get(period, PERIODS[DEFAULT_PERIOD]), end


def period_words(period: str) -> str:
    """'7d' → '7 days', '24h' → '24 hours' (for labels: which period a figure covers)."""
    n, unit = period[:-1], {"h": "hours", "d": "days"}.get(period[-1:], "")
    return f"{n} {unit}".strip()


def window_words(row: Mapping[str, object]) -> str:
    """Which window an SLA verdict covers, from a report row: 'the 30-day window to 20 Nov 00:00 UTC'."""
    end = row.get("period_end")
    when = f" to {end:%d %b %H:%M} UTC" if isinstance(end, datetime) else ""
    window = str(row.get("window") or "")
    name = "the calendar month" if window == "calendar_month" else f"the {window[:-1]}-day window"
    return f"{name}{when}"


def previous_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length just before [start, end)."""
    return start - (end - start), start
