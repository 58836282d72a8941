"""Downsampling for charts: fixed-width time buckets with count, mean, min and max.

Bucket widths come from a ladder of round values and buckets are aligned on multiples of
the width since the Unix epoch, so as a window slides the boundaries, and the values of the
buckets it keeps, do not move. Each bucket summarizes every sample in [start, start + width)
(so the first and last may reach beyond the window); empty buckets are left out and a chart
shows a gap. Min and max survive, so a one-sample spike is still visible.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from .. import quantities as q
from .codec import ts_to_us
from .frames import decoded_samples, scaled, seconds, window_params
from .queries import quantity_keys
from .schema import US_PER_MINUTE, US_PER_S

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
    ``key_max`` the extremes at the device's resolution.
    """

    width_s: float
    columns: tuple[str, ...]
    rows: list[tuple[float, ...]]


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
) -> BucketSeries:
    """At most ``max_points`` buckets covering start_ts..end_ts (see the module doc)."""
    keys = quantity_keys(fields)
    width_s = bucket_width_s(start_ts, end_ts, max_points)
    columns = ("ts", "count", *(f"{k}{s}" for k in keys for s in ("", "_min", "_max")))
    if end_ts < start_ts:
        return BucketSeries(float(width_s), columns, [])
    width_us = width_s * US_PER_S
    first = ts_to_us(max(start_ts, 0.0)) // width_us * width_us
    last = (ts_to_us(max(end_ts, 0.0)) // width_us + 1) * width_us - 1
    params = window_params(first, last) | {"w": width_us}
    # Whole-minute buckets read one rollup row per minute.
    from_rollups = width_us % US_PER_MINUTE == 0
    sql = _rollup_sql(keys) if from_rollups else _raw_sql(keys)
    rows: list[tuple[float, ...]] = conn.execute(sql, params).fetchall()
    return BucketSeries(float(width_s), columns, rows)


def _raw_sql(keys: tuple[str, ...]) -> str:
    aggregates = [
        f"{_mean(key, f'AVG({key})')}, {scaled(key, f'MIN({key})')}, {scaled(key, f'MAX({key})')}"
        for key in keys
    ]
    return f"""
        SELECT {seconds("ts_us / :w * :w")}, COUNT(*), {", ".join(aggregates)}
        FROM {decoded_samples(keys)} WHERE ts_us >= :a
        GROUP BY ts_us / :w ORDER BY 1
    """


def _rollup_sql(keys: tuple[str, ...]) -> str:
    # SUM * 1.0 / SUM(n) is the same double division AVG does over raw rows: both agree.
    aggregates = [
        f"{_mean(key, f'SUM({key}_sum) * 1.0 / SUM(n)')}, "
        f"{scaled(key, f'MIN({key}_min)')}, {scaled(key, f'MAX({key}_max)')}"
        for key in keys
    ]
    start_us = f"minute * {US_PER_MINUTE}"
    return f"""
        SELECT {seconds(f"{start_us} / :w * :w")}, SUM(n), {", ".join(aggregates)}
        FROM minutes WHERE minute BETWEEN :m0 AND :m1
        GROUP BY {start_us} / :w ORDER BY 1
    """


def _mean(key: str, raw_mean: str) -> str:
    """SQL for a mean of raw integers as a float with one decimal more than the device."""
    return f"ROUND({scaled(key, raw_mean)}, {q.BY_KEY[key].decimals + 1})"
