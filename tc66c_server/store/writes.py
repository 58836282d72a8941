"""Writing samples: insert them as differences, keep the minute rollups exact, prune.

Functions of a connection; each runs in one transaction (or joins the caller's).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .codec import DeviceKey, RawSample
from .frames import Values, decode_run, encode_run
from .rollup import COLUMNS as ROLLUP_COLUMNS
from .rollup import Rollup, extend, summarize
from .schema import US_PER_MINUTE, VALUE_COLUMNS, transaction

_COLUMNS = ", ".join(VALUE_COLUMNS)
_BASES = ", ".join(f"base_{column}" for column in VALUE_COLUMNS)
_ROLLUP = ", ".join(ROLLUP_COLUMNS)
_SUMS = ", ".join(f"SUM({column})" for column in VALUE_COLUMNS)
_IN_MINUTES = "minute IN (SELECT value FROM json_each(:minutes))"
_INSERT_SAMPLES = (
    f"INSERT INTO samples (ts_us, {_COLUMNS}) VALUES ({', '.join('?' * (1 + len(VALUE_COLUMNS)))})"
)
_INSERT_MINUTE = (
    f"INSERT INTO minutes (minute, {_BASES}, {_ROLLUP}) "
    f"VALUES ({', '.join('?' * (1 + len(VALUE_COLUMNS) + len(ROLLUP_COLUMNS)))})"
)
_UPDATE_ROLLUP = (
    f"UPDATE minutes SET ({_ROLLUP}) = ({', '.join('?' * len(ROLLUP_COLUMNS))}) WHERE minute = ?"
)
# The step into each listed minute and into the minute after each (whose predecessor may
# have just appeared, changed or gone): what stats need to join neighbouring minutes.
_LINK = f"""
UPDATE minutes SET (link_us, link_current, link_power) = (
    SELECT minutes.first_us - p.last_us, p.last_current, p.last_power
    FROM minutes AS p WHERE p.minute < minutes.minute ORDER BY p.minute DESC LIMIT 1
)
WHERE {_IN_MINUTES} OR minute IN (
    SELECT (SELECT MIN(x.minute) FROM minutes AS x WHERE x.minute > j.value)
    FROM json_each(:minutes) AS j
)
"""


@dataclass(frozen=True, slots=True)
class _Minute:
    base: Values
    rollup: Rollup


def insert_samples(conn: sqlite3.Connection, samples: Sequence[RawSample]) -> int:
    """Store the samples (one at the same microsecond as another replaces it); return how
    many were given. The rollups of their minutes are updated in the same transaction."""
    if not samples:
        return 0
    with transaction(conn, write=True):
        device_ids = _device_ids(conn, {sample.device for sample in samples})
        runs: dict[int, dict[int, Values]] = {}
        for sample in samples:
            values = (device_ids[sample.device], *sample.values)
            runs.setdefault(sample.ts_us // US_PER_MINUTE, {})[sample.ts_us] = values
        known = _minutes(conn, list(runs))
        new_minutes: list[tuple[int, ...]] = []
        rollups: list[tuple[int, ...]] = []
        rows: list[tuple[int, ...]] = []
        for minute, by_ts in runs.items():
            run = sorted(by_ts.items())
            state = known.get(minute)
            if state is None:  # a new minute: its first sample is the base
                base = run[0][1]
                rows += encode_run(base, run)
                new_minutes.append((minute, *base, *summarize(run).as_row()))
            elif run[0][0] > state.rollup.last[0]:  # the usual case: after the last sample
                rows += encode_run(_last_values(conn, minute, state.base), run)
                rollups.append((*extend(state.rollup, summarize(run)).as_row(), minute))
            else:  # out of order or a replacement: re-encode the whole minute
                merged = _take_minute(conn, minute, state.base)
                merged.update(run)
                everything = sorted(merged.items())
                rows += encode_run(state.base, everything)
                rollups.append((*summarize(everything).as_row(), minute))
        conn.executemany(_INSERT_MINUTE, new_minutes)
        conn.executemany(_UPDATE_ROLLUP, rollups)
        conn.executemany(_INSERT_SAMPLES, rows)
        _link(conn, runs)
    return len(samples)


def prune(conn: sqlite3.Connection, before_us: int) -> int:
    """Delete every sample older than ``before_us``; return how many were removed."""
    edge = before_us // US_PER_MINUTE
    removed = 0
    with transaction(conn, write=True):
        state = _minutes(conn, [edge]).get(edge)
        if state is not None and state.rollup.first[0] < before_us:
            # The minute being cut: its later samples are decoded while the earlier ones
            # are still there, then stored again from a new base.
            everything = sorted(_take_minute(conn, edge, state.base).items())
            kept = [(ts_us, values) for ts_us, values in everything if ts_us >= before_us]
            removed += len(everything) - len(kept)
            if kept:
                base = kept[0][1]
                conn.execute(
                    f"UPDATE minutes SET ({_BASES}) = ({', '.join('?' * len(base))}) "
                    "WHERE minute = ?",
                    (*base, edge),
                )
                conn.executemany(_INSERT_SAMPLES, encode_run(base, kept))
                conn.execute(_UPDATE_ROLLUP, (*summarize(kept).as_row(), edge))
            else:
                conn.execute("DELETE FROM minutes WHERE minute = ?", (edge,))
        removed += conn.execute("DELETE FROM samples WHERE ts_us < ?", (before_us,)).rowcount
        if removed:
            conn.execute("DELETE FROM minutes WHERE minute < ?", (edge,))
            _link(conn, [edge])
    return removed


def _link(conn: sqlite3.Connection, minutes: Iterable[int]) -> None:
    conn.execute(_LINK, {"minutes": json.dumps(list(minutes))})


def _minutes(conn: sqlite3.Connection, minutes: list[int]) -> dict[int, _Minute]:
    """The base and rollup of each of these minutes that already has samples."""
    rows = conn.execute(
        f"SELECT minute, {_BASES}, {_ROLLUP} FROM minutes WHERE {_IN_MINUTES}",
        {"minutes": json.dumps(minutes)},
    )
    width = len(VALUE_COLUMNS)
    return {
        row[0]: _Minute(base=tuple(row[1 : 1 + width]), rollup=Rollup.from_row(row[1 + width :]))
        for row in rows
    }


def _last_values(conn: sqlite3.Connection, minute: int, base: Values) -> Values:
    """The values of the minute's last sample: its base plus every difference stored."""
    first = minute * US_PER_MINUTE
    sums = conn.execute(
        f"SELECT {_SUMS} FROM samples WHERE ts_us BETWEEN ? AND ?",
        (first, first + US_PER_MINUTE - 1),
    ).fetchone()
    return tuple(b + (step or 0) for b, step in zip(base, sums, strict=True))


def _take_minute(conn: sqlite3.Connection, minute: int, base: Values) -> dict[int, Values]:
    """Delete the minute's samples and return their values by time."""
    bounds = (minute * US_PER_MINUTE, (minute + 1) * US_PER_MINUTE - 1)
    stored = conn.execute(
        f"SELECT ts_us, {_COLUMNS} FROM samples WHERE ts_us BETWEEN ? AND ? ORDER BY ts_us",
        bounds,
    ).fetchall()
    conn.execute("DELETE FROM samples WHERE ts_us BETWEEN ? AND ?", bounds)
    return dict(decode_run(base, stored))


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
