"""Timestamps as the API shows them: ISO 8601 local time with microseconds and UTC offset."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone


def local_zone(ts: float) -> timezone:
    """The local UTC offset in force at ``ts`` as a fixed zone."""
    offset = datetime.fromtimestamp(ts).astimezone().utcoffset() or timedelta(0)
    return timezone(offset)


def iso(ts: float) -> str:
    """``2026-01-19T14:25:12.123456+01:00`` for a Unix time."""
    return datetime.fromtimestamp(ts, local_zone(ts)).isoformat(timespec="microseconds")


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


def iso_many(stamps: list[float]) -> list[str]:
    """:func:`iso` for a time-ordered series, about 2x faster.

    This runs for every point of ``/api/data``: when no UTC-offset change falls inside the
    series, each string is assembled from a per-minute prefix instead of a datetime object.
    Microseconds are rounded exactly as :meth:`datetime.fromtimestamp` rounds them.
    """
    if not stamps:
        return []
    zone = local_zone(stamps[0])
    if zone != local_zone(stamps[-1]):
        return [iso(ts) for ts in stamps]
    offset = zone.utcoffset(None) or timedelta(0)
    shift = int(offset.total_seconds())
    suffix = datetime(2000, 1, 1, tzinfo=zone).isoformat()[19:]
    utc = UTC
    out: list[str] = []
    last_minute = None
    prefix = ""
    for ts in stamps:
        sec = int(ts)
        micro = round((ts - sec) * 1_000_000)
        if micro == 1_000_000:
            sec += 1
            micro = 0
        minute, second = divmod(sec + shift, 60)
        if minute != last_minute:
            last_minute = minute
            prefix = datetime.fromtimestamp(minute * 60, utc).strftime("%Y-%m-%dT%H:%M:")
        out.append("%s%s.%06d%s" % (prefix, _TWO_DIGITS[second], micro, suffix))  # noqa: UP031
    return out


def parse_iso(text: str) -> float:
    """Unix time from an ISO 8601 string (naive strings are local time)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return time.mktime(moment.timetuple()) + moment.microsecond / 1e6
    return moment.timestamp()
