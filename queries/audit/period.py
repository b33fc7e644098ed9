"""Audit periods: the relative periods a schedule names (`yesterday`, `last-month`, ...) or explicit
bounds, resolved to half-open bounds `[start, end)` in a time zone, with the file name they give."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Relative periods, as `--period` takes them; each is its own series (chain) per domain.
RELATIVE = ("yesterday", "last-7d", "last-week", "last-month", "month-to-date")
CUSTOM = "custom"  # --from/--to


@dataclass(frozen=True)
class Period:
    """A resolved period: `[start, end)` as aware datetimes in `tz`, its kind and its file stem."""

    kind: str
    start: datetime
    end: datetime
    tz: str
    label: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "label": self.label,
            "tz": self.tz,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "start_utc": _z(self.start),
            "end_utc": _z(self.end),
        }


def zone(name: str) -> ZoneInfo:
    """An IANA time zone (`Europe/Paris`, `UTC`); ValueError naming the problem otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as UTC or Europe/Paris"
        ) from None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _z(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def relative(kind: str, tz: str = "UTC", now: datetime | None = None) -> Period:
    """The period `kind` names, as seen at `now` (default: the current time) in time zone `tz`.

    yesterday: the day before today; last-7d: the 7 days before today; last-week: the ISO week
    (Monday to Sunday) before this one; last-month: the calendar month before this one;
    month-to-date: from the first of this month to `now`."""
    zi = zone(tz)
    now = (now or datetime.now(UTC)).astimezone(zi)
    today = now.date()
    if kind == "yesterday":
        day = today - timedelta(days=1)
        return Period(kind, _midnight(day, zi), _midnight(today, zi), tz, day.isoformat())
    if kind == "last-7d":
        last = today - timedelta(days=1)
        return Period(
            kind,
            _midnight(today - timedelta(days=7), zi),
            _midnight(today, zi),
            tz,
            f"7d-to-{last.isoformat()}",
        )
    if kind == "last-week":
        monday = today - timedelta(days=today.weekday() + 7)
        year, week, _ = monday.isocalendar()
        return Period(
            kind, _midnight(monday, zi), _midnight(monday + timedelta(days=7), zi), tz, f"{year}-W{week:02d}"
        )
    first = today.replace(day=1)
    if kind == "last-month":
        prev = (first - timedelta(days=1)).replace(day=1)
        return Period(kind, _midnight(prev, zi), _midnight(first, zi), tz, f"{prev:%Y-%m}")
    if kind == "month-to-date":
        return Period(kind, _midnight(first, zi), now, tz, f"{first:%Y-%m}-mtd")
    raise ValueError(f"unknown period {kind!r}: use one of {', '.join(RELATIVE)} (or --from/--to)")


def explicit(start: datetime | date, end: datetime | date, tz: str = "UTC") -> Period:
    """--from/--to: a date is midnight in `tz` (`end` a date: the whole day, inclusive); a time is as given
    (UTC when naive), `end` exclusive."""
    zi = zone(tz)

    def bound(v: datetime | date, last: bool) -> datetime:
        if isinstance(v, datetime):
            return (v if v.tzinfo else v.replace(tzinfo=UTC)).astimezone(zi)
        return _midnight(v + timedelta(days=1) if last else v, zi)

    s, e = bound(start, False), bound(end, True)
    if e <= s:
        raise ValueError(f"the period is empty: --to ({e.isoformat()}) is not after --from ({s.isoformat()})")

    def stem(v: datetime | date, b: datetime) -> str:
        return v.isoformat() if not isinstance(v, datetime) else b.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    return Period(CUSTOM, s, e, tz, f"{stem(start, s)}_{stem(end, e)}")


def safe_name(text: str) -> str:
    """A file or folder name safe on every OS: letters, digits, dot, dash and underscore."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "domain"


def audit_path(domain: str, period: Period, revision: int = 1) -> str:
    """Where an export goes under its destination: `payments/2026-11.csv` (a later revision of the
    same period: `payments/2026-11.r2.csv`)."""
    suffix = "" if revision == 1 else f".r{revision}"
    return f"{safe_name(domain)}/{period.label}{suffix}.csv"
