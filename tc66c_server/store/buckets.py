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
from .queries import CORE_KEYS, quantity_keys
from .schema import FRAMED, US_PER_MINUTE, US_PER_S, decoded

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
    (one decimal beyond the device's resolution), ``key_min``/``key_max`` the extremes.
    """

    width_s: float
    columns: tuple[str, ...]
    rows: list[tuple[float, ...]]


def bucket_width_s(start_ts: float, end_ts: float, max_points: int) -> int:
    """The smallest ladder width whose aligned buckets over the window number <= max_points."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, not {max_points}")
    start_s, end_s = max(start_ts, 0.0), max(end_ts, 0.0)
    width = LADDER_S[0]
    widths = iter(LADDER_S)
    while True:
        width = next(widths, width * 2)
        if int(end_s // width) - int(start_s // width) + 1 <= max_points:
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
    params = {
        "w": width_us,
        "a": first,
        "b": last,
        "m0": first // US_PER_MINUTE,
        "m1": last // US_PER_MINUTE,
    }
    # Whole-minute buckets of the core quantities read one rollup row per minute.
    from_rollups = width_us % US_PER_MINUTE == 0 and keys == CORE_KEYS
    sql = _rollup_sql(keys) if from_rollups else _raw_sql(keys)
    rows: list[tuple[float, ...]] = conn.execute(sql, params).fetchall()
    return BucketSeries(float(width_s), columns, rows)


def _raw_sql(keys: tuple[str, ...]) -> str:
    aggregates = []
    for key in keys:
        quantity, value = q.BY_KEY[key], decoded(key)
        aggregates.append(_scaled(f"AVG({value})", quantity, extra_decimal=True))
        aggregates.append(_scaled(f"MIN({value})", quantity))
        aggregates.append(_scaled(f"MAX({value})", quantity))
    return f"""
        SELECT s.ts_us / :w * :w / 1000000.0, COUNT(*), {", ".join(aggregates)}
        FROM {FRAMED}
        WHERE m.minute BETWEEN :m0 AND :m1 AND s.ts_us BETWEEN :a AND :b
        GROUP BY s.ts_us / :w ORDER BY 1
    """


def _rollup_sql(keys: tuple[str, ...]) -> str:
    aggregates = []
    for key in keys:
        quantity = q.BY_KEY[key]
        # Same double division as AVG over the raw rows, so both paths agree exactly.
        aggregates.append(_scaled(f"SUM({key}_sum) * 1.0 / SUM(n)", quantity, extra_decimal=True))
        aggregates.append(_scaled(f"MIN({key}_min)", quantity))
        aggregates.append(_scaled(f"MAX({key}_max)", quantity))
    return f"""
        SELECT minute * 60000000 / :w * :w / 1000000.0, SUM(n), {", ".join(aggregates)}
        FROM minutes WHERE minute BETWEEN :m0 AND :m1
        GROUP BY minute * 60000000 / :w ORDER BY 1
    """


def _scaled(raw_sql: str, quantity: q.Quantity, *, extra_decimal: bool = False) -> str:
    value = f"{raw_sql} / {float(quantity.scale)!r}"
    if extra_decimal:
        return f"ROUND({value}, {quantity.decimals + 1})"
    return value
