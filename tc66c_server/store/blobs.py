"""Where chunks live: ``chunks`` for finished minutes, ``open_chunks`` for the minute each
meter is writing.

The open minute grows by a segment at every commit; kept in its own small table, that
churn never splits the pages of the big one, which only ever receives packed, finished
chunks at its end (so its pages stay full). A chunk is in exactly one of the two tables;
readers take both.
"""

from __future__ import annotations

import sqlite3

from . import chunk
from .schema import MINUTES, SLOT_BITS

FINISHED, OPEN = "chunks", "open_chunks"
_UNIT_MASK = (1 << SLOT_BITS) - 1
_RANGE = """
    SELECT slot, data FROM chunks WHERE slot BETWEEN :first AND :last
    UNION ALL SELECT slot, data FROM open_chunks WHERE slot BETWEEN :first AND :last
"""


def between(conn: sqlite3.Connection, first: int, last: int) -> list[tuple[int, bytes]]:
    """``(slot, blob)`` of every chunk with a slot in first..last, in slot order."""
    rows: list[tuple[int, bytes]] = conn.execute(
        _RANGE + " ORDER BY slot", {"first": first, "last": last}
    ).fetchall()
    return rows


def last_between(conn: sqlite3.Connection, first: int, last: int) -> tuple[int, bytes] | None:
    """The chunk with the greatest slot in first..last, or None."""
    row: tuple[int, bytes] | None = conn.execute(
        _RANGE + " ORDER BY slot DESC LIMIT 1", {"first": first, "last": last}
    ).fetchone()
    return row


def find(conn: sqlite3.Connection, slot: int) -> tuple[bytes, str] | None:
    """The chunk at ``slot`` and the table holding it, or None."""
    for table in (OPEN, FINISHED):
        row = conn.execute(f"SELECT data FROM {table} WHERE slot = ?", (slot,)).fetchone()
        if row is not None:
            return bytes(row[0]), table
    return None


def put(conn: sqlite3.Connection, slot: int, blob: bytes, table: str, was: str | None) -> None:
    """Store the chunk at ``slot`` in ``table``, removing it from ``was`` if that differs."""
    if was is not None and was != table:
        conn.execute(f"DELETE FROM {was} WHERE slot = ?", (slot,))
    conn.execute(f"INSERT OR REPLACE INTO {table} (slot, data) VALUES (?, ?)", (slot, blob))


def delete(conn: sqlite3.Connection, first: int, last: int) -> None:
    """Remove the chunks with a slot in first..last."""
    for table in (FINISHED, OPEN):
        conn.execute(f"DELETE FROM {table} WHERE slot BETWEEN ? AND ?", (first, last))


def finish(conn: sqlite3.Connection, first: int, last: int, keep: int) -> None:
    """Move the open chunks with a slot in first..last, except ``keep``, to the finished
    ones, packed into one segment."""
    found = conn.execute(
        "SELECT slot, data FROM open_chunks WHERE slot BETWEEN ? AND ? AND slot != ?",
        (first, last, keep),
    ).fetchall()
    for slot, blob in found:
        if chunk.segments(blob) > 1:
            base_us = (slot & _UNIT_MASK) * MINUTES.width_us
            blob = chunk.encode(chunk.rows(blob, base_us), base_us)
        put(conn, slot, blob, FINISHED, OPEN)
