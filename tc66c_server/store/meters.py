"""The meters samples belong to: their text ids, integer keys and what each one holds."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .codec import us_to_ts
from .schema import LEVELS, SLOT_BITS, transaction

#: Meter keys must leave room for the unit in a 64-bit slot.
MAX_KEY = 2**30


@dataclass(frozen=True, slots=True)
class MeterSummary:
    """A meter's id, how many samples the store holds for it, and their time span."""

    meter: str
    count: int
    oldest: float | None
    newest: float | None


def key_of(conn: sqlite3.Connection, meter: str) -> int | None:
    """The integer key of ``meter``, or None if the store has never held samples for it."""
    row = conn.execute("SELECT id FROM meters WHERE name = ?", (meter,)).fetchone()
    return None if row is None else int(row[0])


def ensure(conn: sqlite3.Connection, meter: str) -> int:
    """The integer key of ``meter``, adding it (call inside a write transaction)."""
    if not isinstance(meter, str) or not meter:
        raise ValueError(f"a meter id is a non-empty string, not {meter!r}")
    conn.execute("INSERT OR IGNORE INTO meters (name) VALUES (?)", (meter,))
    key = key_of(conn, meter)
    assert key is not None
    if not 0 < key < MAX_KEY:
        raise ValueError(f"meter key {key} out of range")
    return key


_TOP = LEVELS[-1].table
_LISTING = f"""
SELECT m.name, COALESCE(SUM(r.n), 0), MIN(r.first_us), MAX(r.last_us)
FROM meters AS m LEFT JOIN {_TOP} AS r
    ON r.slot BETWEEN m.id << {SLOT_BITS} AND (m.id << {SLOT_BITS}) + {(1 << SLOT_BITS) - 1}
GROUP BY m.id ORDER BY m.id
"""


def listing(conn: sqlite3.Connection) -> list[MeterSummary]:
    """Every meter the store knows, in the order they first stored a sample."""
    with transaction(conn, write=False):
        rows = conn.execute(_LISTING).fetchall()
    return [
        MeterSummary(
            meter=name,
            count=count,
            oldest=None if oldest is None else us_to_ts(oldest),
            newest=None if newest is None else us_to_ts(newest),
        )
        for name, count, oldest, newest in rows
    ]
