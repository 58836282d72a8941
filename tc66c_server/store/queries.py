"""Reading samples back: the latest one, a summary, and raw rows over a window."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from .. import quantities as q
from ..reading import Sample
from .codec import decode, ts_to_us, us_to_ts
from .frames import decoded_samples, window_params
from .schema import US_PER_MINUTE, VALUE_COLUMNS, transaction

CORE_KEYS: tuple[str, ...] = tuple(quantity.key for quantity in q.CORE)

# The last minute's samples are decoded from its start; only its last row is kept.
_LATEST = f"""
SELECT s.ts_us, d.product, d.firmware, d.serial, d.runs, {", ".join(VALUE_COLUMNS[1:])}
FROM {decoded_samples(VALUE_COLUMNS, where="m.minute = (SELECT MAX(minute) FROM minutes)")} AS s
JOIN devices AS d ON d.id = s.device
ORDER BY s.ts_us DESC LIMIT 1
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
    return count, us_to_ts(oldest[0]), us_to_ts(newest[0])


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
        SELECT ts, {", ".join(keys)} FROM {decoded_samples(keys, as_floats=True)}
        WHERE ts_us >= :a
    """
    rows: list[tuple[float, ...]] = conn.execute(sql, window_params(start_us, end_us)).fetchall()
    return rows


def sample_count(conn: sqlite3.Connection, start_ts: float, end_ts: float) -> int:
    """How many samples have start_ts <= ts <= end_ts, without decoding any.

    Whole minutes inside the window are counted from their rollup rows; only the two minutes
    cut by its edges count samples, by their time key (a range of the rowid).
    """
    start_us, end_us = ts_to_us(start_ts), ts_to_us(end_ts)
    if end_us < start_us:
        return 0
    first, last = start_us // US_PER_MINUTE, end_us // US_PER_MINUTE
    edges = [(start_us, min(end_us, (first + 1) * US_PER_MINUTE - 1))]
    if last > first:
        edges.append((last * US_PER_MINUTE, end_us))
    with transaction(conn, write=False):
        inside: int = conn.execute(
            "SELECT COALESCE(SUM(n), 0) FROM minutes WHERE minute > ? AND minute < ?",
            (first, last),
        ).fetchone()[0]
        for lo_us, hi_us in edges:
            inside += conn.execute(
                "SELECT COUNT(*) FROM samples WHERE ts_us BETWEEN ? AND ?", (lo_us, hi_us)
            ).fetchone()[0]
    return inside


#: What identifies a minute's content: its count, first and last times, the sums of the
#: core quantities and its energy integral (few columns: this is read for every request).
_MARK_COLUMNS = "n, first_us, last_us, voltage_sum, current_sum, power_sum, energy_raw2"


def minute_marks(
    conn: sqlite3.Connection, first_minute: int, last_minute: int
) -> list[tuple[int, tuple[int, ...]]]:
    """``(minute, mark)`` for each stored minute in the range, in time order.

    The mark changes whenever the minute's samples change (added, pruned, replaced), so a
    reader can cache anything derived from a minute's samples under it.
    """
    rows = conn.execute(
        f"SELECT minute, {_MARK_COLUMNS} FROM minutes WHERE minute BETWEEN ? AND ? ORDER BY minute",
        (first_minute, last_minute),
    ).fetchall()
    return [(row[0], tuple(row[1:])) for row in rows]
