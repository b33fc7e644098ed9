"""Global filters (domain, state machine, period) and the time windows they select; pure, no Streamlit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PERIODS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
CUSTOM = "custom"  # a range picked by date and time (UTC), `?period=custom&from=...&to=...`
PERIOD_CHOICES = (*PERIODS, CUSTOM)
DEFAULT_PERIOD = "7d"
# Up to this span a heatmap runs in time order; beyond it, by hour of day.
CHRONOLOGICAL_MAX = timedelta(hours=48)
# Heatmap columns in time order: the first bucket size that keeps a period within this many columns.
BUCKETS_S = (60, 300, 900, 3600)
MAX_COLUMNS = 48


@dataclass(frozen=True)
class Filters:
    """What every page shows: one domain (or all), one state machine ARN (or all), one period; for the
    custom period, its [since, until) in UTC. Values from a URL are kept as given, valid or not (see
    `problems`), so a page can say what is wrong with a link instead of silently showing another view."""

    domain: str | None = None
    machine: str | None = None
    period: str = DEFAULT_PERIOD
    since: datetime | None = None
    until: datetime | None = None

    @property
    def custom(self) -> tuple[datetime, datetime] | None:
        """The custom range, when both ends are set."""
        return (self.since, self.until) if self.since and self.until else None


def _one(value: object) -> str | None:
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    return str(value) if value not in (None, "") else None


def parse_utc(text: str | None) -> datetime | None:
    """An ISO date and time from a URL (`2026-11-19T14:30`), read as UTC when it names no zone; None when
    it is empty or not a date and time."""
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def from_params(params: Mapping[str, object]) -> Filters:
    """Filters from URL query parameters, as given (an unknown value is reported, not replaced)."""
    return Filters(
        domain=_one(params.get("domain")),
        machine=_one(params.get("machine")),
        period=_one(params.get("period")) or DEFAULT_PERIOD,
        since=parse_utc(_one(params.get("from"))),
        until=parse_utc(_one(params.get("to"))),
    )


def to_params(f: Filters) -> dict[str, str]:
    """Query parameters for a shareable link (empty filters are left out)."""
    out = {"domain": f.domain, "machine": f.machine, "period": f.period}
    if f.period == CUSTOM and f.custom:
        out.update({"from": f"{f.custom[0]:%Y-%m-%dT%H:%M}", "to": f"{f.custom[1]:%Y-%m-%dT%H:%M}"})
    return {k: v for k, v in out.items() if v}


def problems(
    f: Filters,
    domains: Collection[str],
    machines: Mapping[str, str],
    machine_domains: Mapping[str, str],
    scoped: bool = False,
) -> list[tuple[str, str]]:
    """What is wrong with the filters: (filter key, one plain sentence) each, [] when nothing is.

    `domains`: the lake's domains, or with `scoped` those the person may see (a domain they may not see
    reads like one that does not exist, so a link tells nothing of it); `machines`: ARN → label (the name a link holds) of every state
    machine of the lake; `machine_domains`: ARN → domain. A valid machine filter is an ARN of `machines`
    in the chosen domain (when a valid one is chosen); anything else is the label a link gave.
    """
    out: list[tuple[str, str]] = []
    domain_ok = f.domain is None or f.domain in domains
    if not domain_ok:
        known = ", ".join(sorted(domains)) or "none"
        where = "among the domains you may see (yours" if scoped else "in this lake (its domains"
        out.append(("domain", f'No domain called "{f.domain}" {where}: {known}).'))
    if f.machine is not None:
        arn = f.machine if f.machine in machines else None
        label = machines.get(f.machine, f.machine)
        arn = arn or next((a for a, lbl in machines.items() if lbl == f.machine), None)
        if arn is None:
            out.append(("machine", f'No state machine called "{label}" in this lake.'))
        elif f.domain is not None and domain_ok and machine_domains.get(arn) != f.domain:
            there = machine_domains.get(arn) or "none"
            out.append(
                ("machine", f'State machine "{label}" is not in domain "{f.domain}" (its domain: {there}).')
            )
    if f.period not in PERIOD_CHOICES:
        out.append(("period", f'No period called "{f.period}": choose one of {", ".join(PERIOD_CHOICES)}.'))
    elif f.period == CUSTOM and f.custom is None:
        out.append(("period", "The custom range needs a start and an end (UTC): pick both in the sidebar."))
    elif f.period == CUSTOM and f.custom is not None and f.custom[1] <= f.custom[0]:
        ends = f"{f.custom[1]:%Y-%m-%d %H:%M} UTC"
        out.append(
            ("period", f"The custom range ends ({ends}) before it starts ({f.custom[0]:%Y-%m-%d %H:%M} UTC).")
        )
    return out


def window(
    period: str, anchor: datetime | None, custom: tuple[datetime, datetime] | None = None
) -> tuple[datetime, datetime]:
    """Half-open [start, end): the custom range for `custom`, else the period ending at `anchor` (default
    now) rounded up to a whole minute (periods under a day) or a whole hour."""
    if period == CUSTOM:
        if custom is None:
            raise ValueError("the custom period needs its range")
        return custom[0].astimezone(UTC), custom[1].astimezone(UTC)
    span = PERIODS.get(period, PERIODS[DEFAULT_PERIOD])
    anchor = (anchor or datetime.now(UTC)).astimezone(UTC)
    if span < timedelta(days=1):
        end, unit = anchor.replace(second=0, microsecond=0), timedelta(minutes=1)
    else:
        end, unit = anchor.replace(minute=0, second=0, microsecond=0), timedelta(hours=1)
    if end < anchor:
        end += unit
    return end - span, end


def time_bucket_s(start: datetime, end: datetime) -> int | None:
    """Seconds per heatmap column for a period drawn in time order, or None beyond CHRONOLOGICAL_MAX
    (drawn by hour of day): the smallest of BUCKETS_S that keeps it within MAX_COLUMNS columns."""
    span = end - start
    if span > CHRONOLOGICAL_MAX:
        return None
    return next((s for s in BUCKETS_S if span / timedelta(seconds=s) <= MAX_COLUMNS), BUCKETS_S[-1])


def bucket_starts(start: datetime, end: datetime, bucket_s: int) -> list[datetime]:
    """The start of every `bucket_s` bucket that [start, end) touches (UTC, aligned like DuckDB's
    time_bucket on whole minutes and hours)."""
    step = timedelta(seconds=bucket_s)
    epoch = datetime(2000, 1, 3, tzinfo=UTC)  # time_bucket's origin
    t = epoch + (start - epoch) // step * step
    out = []
    while t < end:
        out.append(t)
        t += step
    return out


def period_words(period: str) -> str:
    """'7d' → '7 days', '24h' → '24 hours', '15m' → '15 minutes', '1h' → '1 hour' (for labels)."""
    n, unit = period[:-1], {"m": "minute", "h": "hour", "d": "day"}.get(period[-1:], "")
    return f"{n} {unit}{'' if n == '1' else 's'}".strip()


def period_phrase(period: str, start: datetime, end: datetime) -> str:
    """What a figure covers, in words: 'the last 7 days', 'the last hour', or a custom range's bounds."""
    if period == CUSTOM:
        return f"{start:%d %b %H:%M} → {end:%d %b %H:%M} UTC"
    words = period_words(period)
    return f"the last {words.removeprefix('1 ')}" if words.startswith("1 ") else f"the last {words}"


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
