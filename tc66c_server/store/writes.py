"""Writing samples: insert with per-minute frames, keep the minute rollups exact, prune.

Functions of a connection; each runs in one transaction (or joins the caller's).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from .codec import DeviceKey, RawSample
from .schema import FRAMED, US_PER_MINUTE, VALUE_COLUMNS, decoded, transaction

_BASES = ", ".join(f"base_{column}" for column in VALUE_COLUMNS)
_INSERT_SAMPLE = (
    f"INSERT OR REPLACE INTO samples (ts_us, {', '.join(VALUE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(VALUE_COLUMNS) + 1))})"
)
_INSERT_FRAME = (
    f"INSERT INTO minutes (minute, {_BASES}) VALUES ({', '.join('?' * (len(VALUE_COLUMNS) + 1))})"
)
_SELECT_FRAMES = (
    f"SELECT minute, {_BASES} FROM minutes WHERE minute IN (SELECT value FROM json_each(?))"
)
_ROLLUP_COLUMNS = (
    "n",
    *(f"{key}_{agg}" for key in ("voltage", "current", "power") for agg in ("min", "max", "sum")),
    "energy_raw2",
    "charge_raw2",
    "gap_max_us",
    "first_us",
    "first_current",
    "first_power",
    "last_us",
    "last_current",
    "last_power",
)
# Recomputes the rollup of the listed minutes from their samples. Recomputing (rather than
# adding the new samples in) stays exact whatever the insert order, duplicates or pruning,
# and costs one pass over at most a few minutes of rows per batch.
_REFRESH = f"""
UPDATE minutes SET ({", ".join(_ROLLUP_COLUMNS)}) = (
    a.n, a.vmin, a.vmax, a.vsum, a.imin, a.imax, a.isum, a.pmin, a.pmax, a.psum,
    a.e2, a.q2, a.gap, a.first_us, a.first_i, a.first_p, a.last_us, a.last_i, a.last_p
) FROM (
    SELECT minute, COUNT(*) AS n,
        MIN(v) AS vmin, MAX(v) AS vmax, SUM(v) AS vsum,
        MIN(i) AS imin, MAX(i) AS imax, SUM(i) AS isum,
        MIN(p) AS pmin, MAX(p) AS pmax, SUM(p) AS psum,
        COALESCE(SUM((p + prev_p) * dt), 0) AS e2,
        COALESCE(SUM((i + prev_i) * dt), 0) AS q2,
        COALESCE(MAX(dt), 0) AS gap,
        MIN(ts_us) AS first_us, MAX(first_i) AS first_i, MAX(first_p) AS first_p,
        MAX(ts_us) AS last_us, MAX(last_i) AS last_i, MAX(last_p) AS last_p
    FROM (
        SELECT m.minute AS minute, s.ts_us AS ts_us,
            {decoded("voltage")} AS v, {decoded("current")} AS i, {decoded("power")} AS p,
            s.ts_us - LAG(s.ts_us) OVER w AS dt,
            LAG({decoded("current")}) OVER w AS prev_i,
            LAG({decoded("power")}) OVER w AS prev_p,
            FIRST_VALUE({decoded("current")}) OVER w AS first_i,
            FIRST_VALUE({decoded("power")}) OVER w AS first_p,
            LAST_VALUE({decoded("current")}) OVER whole AS last_i,
            LAST_VALUE({decoded("power")}) OVER whole AS last_p
        FROM {FRAMED}
        WHERE m.minute IN (SELECT value FROM json_each(:minutes))
        WINDOW w AS (PARTITION BY m.minute ORDER BY s.ts_us),
            whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    )
    GROUP BY minute
) AS a
WHERE minutes.minute = a.minute
"""
_DROP_EMPTY = """
DELETE FROM minutes
WHERE minute IN (SELECT value FROM json_each(:minutes)) AND NOT EXISTS (
    SELECT 1 FROM samples
    WHERE ts_us BETWEEN minutes.minute * 60000000 AND minutes.minute * 60000000 + 59999999
)
"""


def insert_samples(conn: sqlite3.Connection, samples: Sequence[RawSample]) -> int:
    """Store the samples (a later one replaces one at the same microsecond); return the count.

    The minutes they fall in get a frame if new and an exact rollup, in the same transaction.
    """
    if not samples:
        return 0
    with transaction(conn, write=True):
        device_ids = _device_ids(conn, {sample.device for sample in samples})
        minutes = sorted({sample.ts_us // US_PER_MINUTE for sample in samples})
        frames = _frames(conn, minutes)
        new_frames: list[tuple[int, ...]] = []
        rows: list[tuple[int, ...]] = []
        for sample in samples:
            minute = sample.ts_us // US_PER_MINUTE
            values = (device_ids[sample.device], *sample.values)
            base = frames.get(minute)
            if base is None:
                # The first sample seen in a minute becomes its frame: it need not be the
                # earliest, any value near the minute's values keeps the differences small.
                base = frames[minute] = values
                new_frames.append((minute, *values))
            rows.append((sample.ts_us, *(value - b for value, b in zip(values, base, strict=True))))
        conn.executemany(_INSERT_FRAME, new_frames)
        conn.executemany(_INSERT_SAMPLE, rows)
        refresh_minutes(conn, minutes)
    return len(rows)


def refresh_minutes(conn: sqlite3.Connection, minutes: Iterable[int]) -> None:
    """Recompute the rollups of these minutes from their samples; drop minutes left empty."""
    params = {"minutes": json.dumps(list(minutes))}
    with transaction(conn, write=True):
        conn.execute(_REFRESH, params)
        conn.execute(_DROP_EMPTY, params)


def prune(conn: sqlite3.Connection, before_us: int) -> int:
    """Delete every sample older than ``before_us``; return how many were removed."""
    with transaction(conn, write=True):
        removed: int = conn.execute("DELETE FROM samples WHERE ts_us < ?", (before_us,)).rowcount
        if removed:
            edge = before_us // US_PER_MINUTE
            conn.execute("DELETE FROM minutes WHERE minute < ?", (edge,))
            refresh_minutes(conn, [edge])
    return removed


def _device_ids(conn: sqlite3.Connection, devices: set[DeviceKey]) -> dict[DeviceKey, int]:
    """The ``devices`` row id of each identity, adding the new ones."""
    ids: dict[DeviceKey, int] = {}
    for device in devices:
        conn.execute(
            "INSERT OR IGNORE INTO devices (product, firmware, serial, runs) VALUES (?, ?, ?, ?)",
            device,
        )
        row = conn.execute(
            "SELECT id FROM devices WHERE product = ? AND firmware = ? AND serial = ? AND runs = ?",
            device,
        ).fetchone()
        ids[device] = row[0]
    return ids


def _frames(conn: sqlite3.Connection, minutes: list[int]) -> dict[int, tuple[int, ...]]:
    """The frame (base values) of each of these minutes that already has one."""
    rows = conn.execute(_SELECT_FRAMES, (json.dumps(minutes),))
    return {row[0]: tuple(row[1:]) for row in rows}
