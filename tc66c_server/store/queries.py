"""Reading samples back: the latest one, a summary, and raw rows over a window."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from .. import quantities as q
from ..reading import Sample
from .codec import decode, ts_to_us
from .schema import FRAMED, US_PER_MINUTE, decoded, scaled, transaction, us_to_ts_sql

CORE_KEYS: tuple[str, ...] = tuple(quantity.key for quantity in q.CORE)

_LATEST = f"""
SELECT s.ts_us, d.product, d.firmware, d.serial, d.runs,
    {", ".join(decoded(quantity.key) for quantity in q.ALL)}
FROM (SELECT * FROM samples ORDER BY ts_us DESC LIMIT 1) AS s
JOIN minutes AS m ON m.minute = s.ts_us / {US_PER_MINUTE}
JOIN devices AS d ON d.id = {decoded("device")}
"""


class UnknownFieldError(ValueError):
    """A requested field is not one of the quantity keys."""


def quantity_keys(fields: Iterable[str]) -> tuple[str, ...]:
    """The core keys, then the other requested ones in the order given, each once."""
    wanted = list(dict.fromkeys((*CORE_KEYS, *fields)))
    unknown = [key for key in wanted if key not in q.BY_KEY]
    if unknown:
        known = ", ".join(quantity.key for quantity in q.ALL)
        raise UnknownFieldError(f"unknown field(s) {', '.join(unknown)}: use some of {known}")
    return tuple(wanted)


def latest(conn: sqlite3.Connection) -> Sample | None:
    """The sample with the greatest time, or None when the store is empty."""
    row = conn.execute(_LATEST).fetchone()
    if row is None:
        return None
    return decode(row[0], (row[1], row[2], row[3], row[4]), row[5:])


def summary(conn: sqlite3.Connection) -> tuple[int, float | None, float | None]:
    """(number of samples, oldest time, newest time), read from the minute rollups."""
    with transaction(conn, write=False):
        count: int = conn.execute("SELECT COALESCE(SUM(n), 0) FROM minutes").fetchone()[0]
        oldest = conn.execute("SELECT first_us FROM minutes ORDER BY minute LIMIT 1").fetchone()
        newest = conn.execute("SELECT last_us FROM minutes ORDER BY minute DESC LIMIT 1").fetchone()
    if count == 0 or oldest is None or newest is None:
        return 0, None, None
    return count, oldest[0] / 1e6, newest[0] / 1e6


def sample_range(
    conn: sqlite3.Connection, start_ts: float, end_ts: float, fields: Iterable[str] = ()
) -> list[tuple[float, ...]]:
    """Samples with start_ts <= ts <= end_ts in time order, as ``(ts, voltage, current,
    power, *fields)`` tuples of floats at the device's resolution.

    ``fields`` names extra quantities (core ones are always there, first); unknown names
    raise ``UnknownFieldError``.
    """
    keys = quantity_keys(fields)
    start_us, end_us = ts_to_us(start_ts), ts_to_us(end_ts)
    if end_us < start_us:
        return []
    sql = f"""
        SELECT {us_to_ts_sql("s.ts_us")}, {", ".join(scaled(key) for key in keys)}
        FROM {FRAMED}
        WHERE m.minute BETWEEN ? AND ? AND s.ts_us BETWEEN ? AND ?
        ORDER BY m.minute, s.ts_us
    """
    params = (start_us // US_PER_MINUTE, end_us // US_PER_MINUTE, start_us, end_us)
    rows: list[tuple[float, ...]] = conn.execute(sql, params).fetchall()
    return rows
