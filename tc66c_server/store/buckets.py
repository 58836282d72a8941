"""Downsampling for charts: fixed-width time buckets with count, mean, min and max.

Bucket widths come from a ladder of round values and buckets are aligned on multiples of
the width since the Unix epoch, so as a window slides the boundaries, and the values of the
buckets it keeps, do not move. Each bucket summarizes every sample in [start, start + width)
(so the first and last may reach beyond the window); empty buckets are left out and a chart
shows a gap. Min and max survive, so a one-sample spike is still visible.

Buckets of a minute or more are grouped from the coarsest rollup level whose units tile
them (a month in 30-minute buckets reads 8,640 five-minute rows); narrower ones, which
divide a minute, from the raw samples of each minute's chunk.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import quantities as q
from . import extras, meters, um_columns
from .codec import ts_to_us
from .queries import field_keys, raw_window
from .schema import DEFAULT_METER, LEVELS, SLOT_BITS, US_PER_S, Level, slot_range, transaction

#: Bucket widths in seconds, smallest first; past the end, whole days doubling.
LADDER_S: tuple[int, ...] = (
    *(1, 2, 5, 10, 15, 30),
    *(60, 120, 300, 600, 900, 1800),
    *(3600, 7200, 10800, 21600, 43200),
    86400,
)


@dataclass(frozen=True, slots=True)
class BucketSeries:
    """Buckets in time order, one row each.

    ``columns`` is ``("ts", "count", key, key_min, key_max, ...)`` for the voltage, current,
    power and each requested field: ``ts`` is the bucket start (Unix s), ``key`` the mean
    (rounded by SQLite to one decimal beyond the device's resolution), ``key_min`` and
    ``key_max`` the extremes at the device's resolution. Requested UM fields follow, one
    column each: the mean of a measured number over the bucket's samples that have it, the
    last value of a state or setting (``um_columns.COLUMNS``), None when none has it.
    """

    width_s: float
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def bucket_width_s(start_ts: float, end_ts: float, max_points: int) -> int:
    """The smallest ladder width whose aligned buckets over the window number <= max_points."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, not {max_points}")
    # In microseconds, as the query counts them, so a float edge cannot add a bucket.
    start_us, end_us = ts_to_us(max(start_ts, 0.0)), ts_to_us(max(end_ts, 0.0))
    width = LADDER_S[0]
    widths = iter(LADDER_S)
    while True:
        width = next(widths, width * 2)
        width_us = width * US_PER_S
        if end_us // width_us - start_us // width_us + 1 <= max_points:
            return width


def buckets(
    conn: sqlite3.Connection,
    start_ts: float,
    end_ts: float,
    max_points: int,
    fields: Iterable[str] = (),
    meter: str = DEFAULT_METER,
) -> BucketSeries:
    """At most ``max_points`` buckets of the meter's samples covering start_ts..end_ts
    (see the module doc)."""
    requested = field_keys(fields)
    keys = tuple(k for k in requested if k in q.BY_KEY)
    um_keys = tuple(k for k in requested if k in um_columns.BY_KEY)
    width_s = bucket_width_s(start_ts, end_ts, max_points)
    columns = (
        *("ts", "count", *(f"{k}{s}" for k in keys for s in ("", "_min", "_max"))),
        *um_keys,
    )
    if end_ts < start_ts:
        return BucketSeries(float(width_s), columns, [])
    width_us = width_s * US_PER_S
    first = ts_to_us(max(start_ts, 0.0)) // width_us * width_us
    last = (ts_to_us(max(end_ts, 0.0)) // width_us + 1) * width_us - 1
    # The coarsest rollup level whose units tile the buckets; below a minute, raw samples.
    level = next((lv for lv in reversed(LEVELS) if width_s % lv.width_s == 0), None)
    with transaction(conn, write=False):
        if level is None:
            rows = _from_samples(conn, first, last, width_us, keys, meter)
        else:
            rows = _from_rollups(conn, level, first, last, width_s, keys, meter)
        if um_keys and rows:
            rows = _with_um(conn, rows, first, last, width_us, um_keys, meter)
    return BucketSeries(float(width_s), columns, rows)


def _with_um(
    conn: sqlite3.Connection,
    rows: list[tuple[float, ...]],
    first_us: int,
    last_us: int,
    width_us: int,
    um_keys: tuple[str, ...],
    meter: str,
) -> list[tuple[Any, ...]]:
    """The bucket rows with the UM fields' values appended (None where a bucket has none)."""
    key = meters.key_of(conn, meter)
    found = (
        {} if key is None else extras.bucket_values(conn, key, first_us, last_us, width_us, um_keys)
    )
    nothing = (None,) * len(um_keys)
    return [(*row, *found.get(round(row[0] * US_PER_S), nothing)) for row in rows]


def _from_rollups(
    conn: sqlite3.Connection,
    level: Level,
    first_us: int,
    last_us: int,
    width_s: int,
    keys: tuple[str, ...],
    meter: str,
) -> list[tuple[float, ...]]:
    key = meters.key_of(conn, meter)
    if key is None:
        return []
    # SUM * 1.0 / SUM(n) is the same double division as a mean over raw samples.
    aggregates = [
        f"{_mean(k, f'SUM({k}_sum) * 1.0 / SUM(n)')}, "
        f"{scaled(k, f'MIN({k}_min)')}, {scaled(k, f'MAX({k}_max)')}"
        for k in keys
    ]
    bucket = f"(slot - :base) / {width_s // level.width_s:d}"
    low, high = slot_range(key, first_us // level.width_us, last_us // level.width_us)
    sql = f"""
        SELECT {bucket} * {width_s * US_PER_S:d} / {float(US_PER_S)!r}, SUM(n),
            {", ".join(aggregates)}
        FROM {level.table} WHERE slot BETWEEN :low AND :high
        GROUP BY {bucket} ORDER BY 1
    """
    params = {"base": key << SLOT_BITS, "low": low, "high": high}
    rows: list[tuple[float, ...]] = conn.execute(sql, params).fetchall()
    return rows


def _from_samples(
    conn: sqlite3.Connection,
    first_us: int,
    last_us: int,
    width_us: int,
    keys: tuple[str, ...],
    meter: str,
) -> list[tuple[float, ...]]:
    """Buckets narrower than a minute (they divide it): from each minute's raw samples."""
    quantities = [q.BY_KEY[k] for k in keys]
    rows: list[tuple[float, ...]] = []
    for times, columns in raw_window(conn, first_us, last_us, keys, meter):
        start = times[0] // width_us * width_us
        low = 0
        while low < len(times):
            high = bisect_left(times, start + width_us, low)
            if high > low:
                n = high - low
                row: list[float] = [start / US_PER_S, n]
                for quantity, column in zip(quantities, columns, strict=True):
                    part = column[low:high]
                    scale = quantity.scale
                    row.append(round(sum(part) / n / scale, quantity.decimals + 1))
                    row.append(min(part) / scale)
                    row.append(max(part) / scale)
                rows.append(tuple(row))
            low = high
            start += width_us
    return rows


def _mean(key: str, raw_mean: str) -> str:
    """SQL for a mean of raw integers as a float with one decimal more than the device."""
    return f"ROUND({scaled(key, raw_mean)}, {q.BY_KEY[key].decimals + 1})"


def scaled(key: str, raw: str) -> str:
    """SQL for the raw integer ``raw`` as the quantity's float at the device's resolution,
    the same double as ``Quantity.from_raw``."""
    return f"{raw} / {float(q.BY_KEY[key].scale)!r}"
