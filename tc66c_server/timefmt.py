"""Timestamps as the API shows them: ISO 8601 local time with microseconds and UTC offset."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


def local_zone(ts: float) -> timezone:
    """The local UTC offset in force at ``ts`` as a fixed zone."""
    offset = datetime.fromtimestamp(ts).astimezone().utcoffset() or timedelta(0)
    return timezone(offset)


def iso(ts: float) -> str:
    """``2026-01-19T14:25:12.123456+01:00`` for a Unix time."""
    return datetime.fromtimestamp(ts, local_zone(ts)).isoformat(timespec="microseconds")


def iso_many(stamps: list[float]) -> list[str]:
    """:func:`iso` for a time-ordered series, fast when no DST change falls inside it."""
    if not stamps:
        return []
    first, last = local_zone(stamps[0]), local_zone(stamps[-1])
    if first != last:
        return [iso(ts) for ts in stamps]
    fromts = datetime.fromtimestamp
    return [fromts(ts, first).isoformat(timespec="microseconds") for ts in stamps]


def parse_iso(text: str) -> float:
    """Unix time from an ISO 8601 string (naive strings are local time)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return time.mktime(moment.timetuple()) + moment.microsecond / 1e6
    return moment.timestamp()
