"""The rollup rows of every level: read, write, delete, rebuild from the level below.

Functions of a connection, called by ``writes.py`` inside its transaction. A row of a
coarser level is always its finer rows chained in time order (``rollup.chain``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping

from . import blobs, chunk
from .rollup import COLUMNS, MINUTE_COLUMNS, Rollup, chain, summarize
from .schema import MINUTES, SLOT_BITS, Level, slot, slot_range

_UNIT_MASK = (1 << SLOT_BITS) - 1


def read(
    conn: sqlite3.Connection, level: Level, meter_key: int, units: Iterable[int]
) -> dict[int, Rollup]:
    """The stored rollup of each of these units that has samples."""
    slots = [slot(meter_key, unit) for unit in units]
    rows = conn.execute(
        f"SELECT slot, {_columns(level)} FROM {level.table} "
        "WHERE slot IN (SELECT value FROM json_each(?))",
        (json.dumps(slots),),
    )
    return {row[0] & _UNIT_MASK: Rollup.from_row(row[1:]) for row in rows}


def write(
    conn: sqlite3.Connection, level: Level, meter_key: int, rollups: Mapping[int, Rollup]
) -> None:
    """Store these units' rollups (a minute's without its long steps)."""
    steps = level != MINUTES
    marks = ", ".join("?" * (1 + len(COLUMNS if steps else MINUTE_COLUMNS)))
    conn.executemany(
        f"INSERT OR REPLACE INTO {level.table} (slot, {_columns(level)}) VALUES ({marks})",
        [(slot(meter_key, unit), *r.as_row(steps=steps)) for unit, r in rollups.items()],
    )


def delete(conn: sqlite3.Connection, level: Level, meter_key: int, first: int, last: int) -> None:
    """Remove the meter's rows for units ``first..last``."""
    conn.execute(
        f"DELETE FROM {level.table} WHERE slot BETWEEN ? AND ?",
        slot_range(meter_key, first, last),
    )


def rebuild(
    conn: sqlite3.Connection, level: Level, finer: Level, meter_key: int, units: Iterable[int]
) -> None:
    """Recompute these units of ``level`` from the rows of the ``finer`` level below it,
    or from the samples when that is the minutes (whose rows keep no long steps); a unit
    left without samples is removed."""
    ratio = level.width_s // finer.width_s
    for unit in units:
        first, last = slot_range(meter_key, unit * ratio, (unit + 1) * ratio - 1)
        total: Rollup | None
        if finer == MINUTES:
            samples = [
                row
                for found, data in blobs.between(conn, first, last)
                for row in chunk.rows(data, (found & _UNIT_MASK) * MINUTES.width_us)
            ]
            total = summarize(samples) if samples else None
        else:
            rows = conn.execute(
                f"SELECT {_columns(finer)} FROM {finer.table} "
                "WHERE slot BETWEEN ? AND ? ORDER BY slot",
                (first, last),
            )
            total = chain(Rollup.from_row(row) for row in rows)
        if total is None:
            delete(conn, level, meter_key, unit, unit)
        else:
            write(conn, level, meter_key, {unit: total})


def _columns(level: Level) -> str:
    return ", ".join(MINUTE_COLUMNS if level == MINUTES else COLUMNS)
