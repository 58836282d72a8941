"""Reading a meter's samples back: the latest one, a summary, raw rows over a window.

A UM meter's other fields (``extras.py``) come with them when asked for by key; a sample
without them (a TC66C's) has None there."""

from __future__ import annotations

import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import repeat
from operator import truediv
from typing import Any

from .. import quantities as q
from ..reading import Sample
from . import blobs, chunk, extras, meters, um_columns
from .codec import decode, ts_to_us, us_to_ts
from .schema import (
    DEFAULT_METER,
    LEVELS,
    MINUTES,
    SLOT_BITS,
    US_PER_MINUTE,
    US_PER_S,
    VALUE_COLUMNS,
    slot_range,
    transaction,
)

CORE_KEYS: tuple[str, ...] = tuple(quantity.key for quantity in q.CORE)
_UNIT_MASK = (1 << SLOT_BITS) - 1
_TOP = LEVELS[-1].table


class UnknownFieldError(ValueError):
    """A requested field is not one of the quantity keys (or UM field keys)."""


def quantity_keys(fields: Iterable[str]) -> tuple[str, ...]:
    """The core keys, then the other requested ones in the order given, each once."""
    wanted = list(dict.fromkeys((*CORE_KEYS, *fields)))
    unknown = [key for key in wanted if key not in q.BY_KEY]
    if unknown:
        known = ", ".join(quantity.key for quantity in q.ALL)
        raise UnknownFieldError(f"unknown field(s) {', '.join(unknown)}: use some of {known}")
    return tuple(wanted)


def field_keys(fields: Iterable[str]) -> tuple[str, ...]:
    """Like ``quantity_keys``, UM field keys (``reading.UM_KEYS``) allowed too."""
    wanted = list(dict.fromkeys((*CORE_KEYS, *fields)))
    unknown = [key for key in wanted if key not in q.BY_KEY and key not in um_columns.BY_KEY]
    if unknown:
        known = ", ".join((*(quantity.key for quantity in q.ALL), *um_columns.BY_KEY))
        raise UnknownFieldError(f"unknown field(s) {', '.join(unknown)}: use some of {known}")
    return tuple(wanted)


def latest(conn: sqlite3.Connection, meter: str = DEFAULT_METER) -> Sample | None:
    """The meter's sample with the greatest time, or None when it has none."""
    key = meters.key_of(conn, meter)
    if key is None:
        return None
    row = blobs.last_between(conn, *slot_range(key, 0, _UNIT_MASK))
    if row is None:
        return None
    ts_us, values = chunk.rows(row[1], (row[0] & _UNIT_MASK) * US_PER_MINUTE)[-1]
    device = conn.execute(
        "SELECT product, firmware, serial, runs FROM devices WHERE id = ?", (values[0],)
    ).fetchone()
    sample = decode(ts_us, (device[0], device[1], device[2], device[3]), values[1:])
    um = extras.at(conn, key, ts_us)
    if um is None:
        return sample
    r = sample.reading
    fields = um_columns.from_raw(um, (r.group0_mah, r.group0_mwh), (r.group1_mah, r.group1_mwh))
    return replace(sample, reading=replace(r, um=fields))


def summary(
    conn: sqlite3.Connection, meter: str = DEFAULT_METER
) -> tuple[int, float | None, float | None]:
    """(number of samples, oldest time, newest time) of the meter, from the day rollups."""
    with transaction(conn, write=False):
        key = meters.key_of(conn, meter)
        if key is None:
            return 0, None, None
        first, last = slot_range(key, 0, _UNIT_MASK)
        count, oldest, newest = conn.execute(
            f"SELECT COALESCE(SUM(n), 0), MIN(first_us), MAX(last_us) FROM {_TOP} "
            "WHERE slot BETWEEN ? AND ?",
            (first, last),
        ).fetchone()
    if count == 0 or oldest is None or newest is None:
        return 0, None, None
    return count, us_to_ts(oldest), us_to_ts(newest)


def sample_range(
    conn: sqlite3.Connection,
    start_ts: float,
    end_ts: float,
    fields: Iterable[str] = (),
    meter: str = DEFAULT_METER,
) -> list[tuple[Any, ...]]:
    """The meter's samples with start_ts <= ts <= end_ts in time order, as ``(ts, voltage,
    current, power, *fields)`` tuples of floats at the device's resolution.

    ``fields`` names extra quantities (core ones are always there, first) or UM fields
    (their API values: None for a sample without them); unknown names raise
    ``UnknownFieldError``.
    """
    keys = field_keys(fields)
    um_keys = [k for k in keys if k in um_columns.BY_KEY]
    stored = tuple(k for k in keys if k in q.BY_KEY)
    start_us, end_us = ts_to_us(start_ts), ts_to_us(end_ts)
    rows: list[tuple[Any, ...]] = []
    if not um_keys:
        for times, columns in raw_window(conn, start_us, end_us, stored, meter):
            scaled = [
                map(truediv, column, repeat(float(q.BY_KEY[k].scale)))
                for k, column in zip(stored, columns, strict=True)
            ]
            rows += zip(map(truediv, times, repeat(US_PER_S)), *scaled, strict=True)
        return rows
    with transaction(conn, write=False):
        key = meters.key_of(conn, meter)
        if key is None:
            return rows
        found = extras.window(conn, key, start_us, end_us, um_keys)
        for times, columns in raw_window(conn, start_us, end_us, stored, meter):
            by_key: dict[str, Iterable[object]] = {
                k: map(truediv, column, repeat(float(q.BY_KEY[k].scale)))
                for k, column in zip(stored, columns, strict=True)
            }
            um_raw = extras.aligned(found.get(times[0] // US_PER_MINUTE), times, len(um_keys))
            for k, column in zip(um_keys, um_raw, strict=True):
                value = um_columns.BY_KEY[k].value
                by_key[k] = [None if raw is None else value(raw) for raw in column]
            ordered = [by_key[k] for k in keys]
            rows += zip(map(truediv, times, repeat(US_PER_S)), *ordered, strict=True)
    return rows


def sample_count(
    conn: sqlite3.Connection, start_ts: float, end_ts: float, meter: str = DEFAULT_METER
) -> int:
    """How many samples a meter has with start_ts <= ts <= end_ts, decoding two minutes at most.

    Whole minutes inside the window are counted from their rollup rows; only the two minutes
    cut by its edges are decoded (their times only).
    """
    start_us, end_us = ts_to_us(start_ts), ts_to_us(end_ts)
    if end_us < start_us:
        return 0
    first, last = start_us // US_PER_MINUTE, end_us // US_PER_MINUTE
    with transaction(conn, write=False):
        key = meters.key_of(conn, meter)
        if key is None:
            return 0
        inside = 0
        if last - first > 1:
            low, high = slot_range(key, first + 1, last - 1)
            inside = conn.execute(
                f"SELECT COALESCE(SUM(n), 0) FROM {MINUTES.table} WHERE slot BETWEEN ? AND ?",
                (low, high),
            ).fetchone()[0]
    edges = [(start_us, min(end_us, (first + 1) * US_PER_MINUTE - 1))]
    if last > first:
        edges.append((last * US_PER_MINUTE, end_us))
    for lo_us, hi_us in edges:
        inside += sum(len(times) for times, _ in raw_window(conn, lo_us, hi_us, (), meter))
    return int(inside)


def raw_window(
    conn: sqlite3.Connection,
    start_us: int,
    end_us: int,
    keys: Sequence[str],
    meter: str = DEFAULT_METER,
) -> Iterator[tuple[list[int], list[list[int]]]]:
    """Per minute with samples in start_us..end_us, in time order: their times and, for
    each of ``keys`` (``device`` or quantity keys), their raw integers."""
    if end_us < start_us:
        return
    with transaction(conn, write=False):
        key = meters.key_of(conn, meter)
        if key is None:
            return
        indexes = [VALUE_COLUMNS.index(k) for k in keys]
        found = blobs.between(
            conn, *slot_range(key, start_us // US_PER_MINUTE, end_us // US_PER_MINUTE)
        )
    for slot, data in found:
        columns = chunk.decode(data, (slot & _UNIT_MASK) * US_PER_MINUTE, indexes)
        times = columns.times
        low = bisect_left(times, start_us) if times[0] < start_us else 0
        high = bisect_right(times, end_us) if times[-1] > end_us else len(times)
        if low >= high:
            continue
        if low or high < len(times):
            yield times[low:high], [columns.column(i)[low:high] for i in indexes]
        else:
            yield times, [columns.column(i) for i in indexes]


def stored_times(
    conn: sqlite3.Connection, times_us: Sequence[int], meter: str = DEFAULT_METER
) -> set[int]:
    """Those of ``times_us`` at which the meter has a sample stored."""
    wanted = set(times_us)
    if not wanted:
        return set()
    found: set[int] = set()
    for times, _ in raw_window(conn, min(wanted), max(wanted), (), meter):
        found.update(wanted.intersection(times))
    return found


#: What identifies a minute's content: its count, first and last times, the sums of the
#: core quantities and its energy integral (few columns: this is read for every request).
_MARK_COLUMNS = "n, first_us, last_us, voltage_sum, current_sum, power_sum, energy_raw2"


def minute_marks(
    conn: sqlite3.Connection, first_minute: int, last_minute: int, meter: str = DEFAULT_METER
) -> list[tuple[int, tuple[int, ...]]]:
    """``(minute, mark)`` for each of the meter's stored minutes in the range, in order.

    The mark changes whenever the minute's samples change (added, pruned, replaced), so a
    reader can cache anything derived from a minute's samples under it.
    """
    with transaction(conn, write=False):
        key = meters.key_of(conn, meter)
        if key is None:
            return []
        rows = conn.execute(
            f"SELECT slot, {_MARK_COLUMNS} FROM {MINUTES.table} "
            "WHERE slot BETWEEN ? AND ? ORDER BY slot",
            slot_range(key, first_minute, last_minute),
        ).fetchall()
    return [(row[0] & _UNIT_MASK, tuple(row[1:])) for row in rows]
