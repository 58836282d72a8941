"""Where a UM meter's extra fields live: the ``extras`` table, a blob per meter and minute.

Rows are keyed by the chunks' slots (``meter key * 2**32 + minute``) and hold the UM fields
of that minute's samples that have them (``um_columns.py``), with their own times, so a
minute mixing samples with and without them (a meter id that changed model) stays exact.
The writer updates them in the transaction that stores the samples; pruning and
``delete_meter`` remove them with the chunks. A TC66C meter has no rows here, and its
writes never read this table.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import um_columns
from .schema import SLOT_BITS, US_PER_MINUTE, slot, slot_range
from .um_columns import UmValues

TABLE = "extras"  # created by schema.ADDED_V2
_UNIT_MASK = (1 << SLOT_BITS) - 1
#: Per minute with UM fields: their times and, per wanted field, their raw integers.
Window = dict[int, tuple[list[int], list[list[int]]]]


def put(
    conn: sqlite3.Connection, key: int, ums: Mapping[int, UmValues], replaced: Iterable[int] = ()
) -> None:
    """Store the UM values of the meter's samples at the times in ``ums``, and forget those
    of the ``replaced`` times not in ``ums`` (a sample without them took their place)."""
    changes: dict[int, UmValues | None] = dict.fromkeys(t for t in replaced if t not in ums)
    if not changes and not ums:
        return
    changes.update(ums)
    by_minute: dict[int, dict[int, UmValues | None]] = {}
    for ts_us, values in changes.items():
        by_minute.setdefault(ts_us // US_PER_MINUTE, {})[ts_us] = values
    for minute, run in by_minute.items():
        at, base_us = slot(key, minute), minute * US_PER_MINUTE
        row = conn.execute(f"SELECT data FROM {TABLE} WHERE slot = ?", (at,)).fetchone()
        merged: dict[int, UmValues | None] = {}
        if row is not None:
            merged.update(um_columns.rows(bytes(row[0]), base_us))
        merged.update(run)
        kept = sorted((ts, values) for ts, values in merged.items() if values is not None)
        if kept:
            blob = um_columns.encode(kept, base_us)
            conn.execute(f"INSERT OR REPLACE INTO {TABLE} (slot, data) VALUES (?, ?)", (at, blob))
        elif row is not None:
            conn.execute(f"DELETE FROM {TABLE} WHERE slot = ?", (at,))


def delete(conn: sqlite3.Connection, first: int, last: int) -> None:
    """Remove the rows with a slot in first..last."""
    conn.execute(f"DELETE FROM {TABLE} WHERE slot BETWEEN ? AND ?", (first, last))


def delete_between(conn: sqlite3.Connection, key: int, low_us: int, high_us: int) -> None:
    """Remove the meter's UM values with low_us <= ts_us <= high_us: whole minutes by range
    of slots, the (at most two) minutes cut by an edge decoded and written again."""
    inner = (-(-low_us // US_PER_MINUTE), (high_us + 1) // US_PER_MINUTE - 1)
    if inner[0] <= inner[1]:
        delete(conn, *slot_range(key, *inner))
    for minute in {low_us // US_PER_MINUTE, high_us // US_PER_MINUTE}:
        if inner[0] <= minute <= inner[1]:
            continue
        at, base_us = slot(key, minute), minute * US_PER_MINUTE
        row = conn.execute(f"SELECT data FROM {TABLE} WHERE slot = ?", (at,)).fetchone()
        if row is None:
            continue
        kept = [r for r in um_columns.rows(bytes(row[0]), base_us) if not low_us <= r[0] <= high_us]
        if kept:
            blob = um_columns.encode(kept, base_us)
            conn.execute(f"UPDATE {TABLE} SET data = ? WHERE slot = ?", (blob, at))
        else:
            delete(conn, at, at)


def at(conn: sqlite3.Connection, key: int, ts_us: int) -> UmValues | None:
    """The meter's UM values stored for its sample at ``ts_us``, or None."""
    minute = ts_us // US_PER_MINUTE
    row = conn.execute(f"SELECT data FROM {TABLE} WHERE slot = ?", (slot(key, minute),)).fetchone()
    if row is None:
        return None
    return dict(um_columns.rows(bytes(row[0]), minute * US_PER_MINUTE)).get(ts_us)


def window(
    conn: sqlite3.Connection, key: int, start_us: int, end_us: int, keys: Sequence[str]
) -> Window:
    """Per minute with UM values in start_us..end_us: their times and, per field of
    ``keys``, their raw integers (call inside the read transaction of the chunks)."""
    if end_us < start_us:
        return {}
    wanted = [um_columns.INDEX[k] for k in keys]
    first, last = slot_range(key, start_us // US_PER_MINUTE, end_us // US_PER_MINUTE)
    found: Window = {}
    for at_slot, data in conn.execute(
        f"SELECT slot, data FROM {TABLE} WHERE slot BETWEEN ? AND ? ORDER BY slot", (first, last)
    ):
        minute = at_slot & _UNIT_MASK
        times, columns = um_columns.decode(bytes(data), minute * US_PER_MINUTE, wanted)
        low = bisect_left(times, start_us) if times[0] < start_us else 0
        high = bisect_right(times, end_us) if times[-1] > end_us else len(times)
        if low < high:
            found[minute] = times[low:high], [column[low:high] for column in columns]
    return found


def aligned(
    found: tuple[list[int], list[list[int]]] | None, times: list[int], count: int
) -> list[Sequence[int | None]]:
    """``count`` columns of raw UM integers at ``times`` (None where a sample has none),
    from one minute of ``window``."""
    if found is None:
        return [[None] * len(times) for _ in range(count)]
    um_times, columns = found
    if um_times == times:
        return list(columns)
    position = {ts: i for i, ts in enumerate(um_times)}
    indexes = [position.get(ts) for ts in times]
    return [[None if i is None else column[i] for i in indexes] for column in columns]


def bucket_values(
    conn: sqlite3.Connection,
    key: int,
    first_us: int,
    last_us: int,
    width_us: int,
    keys: Sequence[str],
) -> dict[int, tuple[Any, ...]]:
    """Per bucket start (µs, buckets of ``width_us`` aligned on the epoch) with UM values in
    first_us..last_us: per field of ``keys``, the mean over its samples (one decimal beyond
    the meter's resolution) or, for a state or setting, the last value."""
    fields = [um_columns.BY_KEY[k] for k in keys]
    acc: dict[int, tuple[list[int], list[int]]] = {}  # start: ([n, *sums], lasts)
    for minute, (times, columns) in window(conn, key, first_us, last_us, keys).items():
        if width_us % US_PER_MINUTE == 0:
            parts = [(minute * US_PER_MINUTE // width_us * width_us, 0, len(times))]
        else:
            parts, low, start = [], 0, times[0] // width_us * width_us
            while low < len(times):
                high = bisect_left(times, start + width_us, low)
                if high > low:
                    parts.append((start, low, high))
                low, start = high, start + width_us
        for start, low, high in parts:
            if start not in acc:
                acc[start] = ([0] * (1 + len(fields)), [0] * len(fields))
            sums, lasts = acc[start]
            sums[0] += high - low
            for index, column in enumerate(columns):
                sums[1 + index] += sum(column[low:high])
                lasts[index] = column[high - 1]
    return {
        start: tuple(
            field.value(last)
            if field.summary == "last"
            else round(total / sums[0] / field.scale, field.decimals + 1)
            for field, total, last in zip(fields, sums[1:], lasts, strict=True)
        )
        for start, (sums, lasts) in acc.items()
    }
