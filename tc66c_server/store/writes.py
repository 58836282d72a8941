"""Writing samples: a meter's minute chunks and the rollups of every level, kept exact.

Functions of a connection; each runs in one transaction (or joins the caller's). A batch
adds a segment to the chunk of the minute the meter is writing (so it is readable as soon
as it is committed, without packing the minute again), packs the minute it has left into
the finished chunks, and updates the rollups above: by extending them when the samples
come after everything stored (the live case), else by rebuilding the touched units from the
level below. Pruning deletes whole chunks and rollup rows by ranges of slots and only
decodes the chunks cut by a boundary."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from . import blobs, chunk, extras, levels, meters
from .codec import DeviceKey, RawSample
from .rollup import Rollup, chain, extend, summarize
from .schema import (
    DEFAULT_METER,
    LEVELS,
    MINUTES,
    SLOT_BITS,
    US_PER_MINUTE,
    slot,
    slot_range,
    transaction,
)

_UNIT_MASK = (1 << SLOT_BITS) - 1
#: A span of a meter's samples that pruning keeps: (meter, first µs, last µs), inclusive.
KeptSpan = tuple[str, int, int]


def insert_samples(
    conn: sqlite3.Connection, samples: Sequence[RawSample], meter: str = DEFAULT_METER
) -> int:
    """Store the samples as ``meter``'s (one at the same microsecond as a stored one
    replaces it); return how many were given. Rollups and a UM meter's other fields
    (``extras.py``) are updated in the same transaction."""
    if not samples:
        return 0
    with transaction(conn, write=True):
        key = meters.ensure(conn, meter)
        device_ids = _device_ids(conn, {sample.device for sample in samples})
        runs: dict[int, dict[int, chunk.Values]] = {}
        for sample in samples:
            values = (device_ids[sample.device], *sample.values)
            runs.setdefault(sample.ts_us // US_PER_MINUTE, {})[sample.ts_us] = values
        known = levels.read(conn, MINUTES, key, runs)
        first, top = slot_range(key, 0, _UNIT_MASK)
        newest = conn.execute(
            f"SELECT MAX(slot) FROM {MINUTES.table} WHERE slot BETWEEN ? AND ?", (first, top)
        ).fetchone()[0]
        # The meter's latest minute stays open (a segment per commit) until it moves on.
        open_minute = max(max(runs), -1 if newest is None else newest - first)
        rollups: dict[int, Rollup] = {}
        #: Per minute, the rollup of the new samples when they all come after the stored
        #: ones (None when the minute had to be merged).
        added: dict[int, Rollup | None] = {}
        replaced: list[int] = []  # times of the minutes merged: their UM fields may go
        for minute in sorted(runs):
            run = sorted(runs[minute].items())
            state = known.get(minute)
            base_us = minute * US_PER_MINUTE
            found = blobs.find(conn, slot(key, minute)) if state is not None else None
            table = blobs.OPEN if minute == open_minute else blobs.FINISHED
            stored = b"" if found is None else found[0]
            if state is None or not stored:
                blob = chunk.encode(run, base_us)
                rollups[minute] = added[minute] = summarize(run)
            elif run[0][0] > state.last[0]:  # after every stored sample: the live case
                if table == blobs.OPEN:
                    blob = chunk.append(stored, run, base_us)
                else:
                    blob = chunk.encode(chunk.rows(stored, base_us) + run, base_us)
                new = summarize(run)
                rollups[minute], added[minute] = extend(state, new), new
            else:  # out of order or a replacement: the whole minute again
                merged = dict(chunk.rows(stored, base_us))
                merged.update(run)
                everything = sorted(merged.items())
                blob = chunk.encode(everything, base_us)
                rollups[minute] = summarize(everything)
                added[minute] = None
                replaced += runs[minute]
            blobs.put(conn, slot(key, minute), blob, table, None if found is None else found[1])
        blobs.finish(conn, first, top, keep=slot(key, open_minute))  # the minute it left
        levels.write(conn, MINUTES, key, rollups)
        _roll_up(conn, key, added)
        extras.put(conn, key, {s.ts_us: s.um for s in samples if s.um is not None}, replaced)
    return len(samples)


def _roll_up(conn: sqlite3.Connection, key: int, added: dict[int, Rollup | None]) -> None:
    """Bring every coarser level up to date after the minutes in ``added`` changed."""
    touched = sorted(added)
    finer = MINUTES
    for level in LEVELS[1:]:
        ratio = level.width_s // MINUTES.width_s
        parts: dict[int, list[Rollup | None]] = {}
        for minute in touched:
            parts.setdefault(minute // ratio, []).append(added[minute])
        known = levels.read(conn, level, key, parts)
        extended: dict[int, Rollup] = {}
        rebuild: list[int] = []
        for unit, unit_parts in parts.items():
            new = None if None in unit_parts else chain(p for p in unit_parts if p is not None)
            state = known.get(unit)
            if new is not None and state is None:
                extended[unit] = new
            elif new is not None and state is not None and new.first[0] > state.last[0]:
                extended[unit] = extend(state, new)
            else:
                rebuild.append(unit)
        levels.write(conn, level, key, extended)
        levels.rebuild(conn, level, finer, key, rebuild)
        finer = level


def prune(conn: sqlite3.Connection, before_us: int, keep: Iterable[KeptSpan] = ()) -> int:
    """Delete every meter's samples older than ``before_us`` except those inside a ``keep``
    span of their meter; return how many were removed."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for meter, first_us, last_us in keep:
        spans.setdefault(meter, []).append((first_us, last_us))
    removed = 0
    with transaction(conn, write=True):
        for key, name in conn.execute("SELECT id, name FROM meters ORDER BY id").fetchall():
            for low, high in _uncovered(0, before_us - 1, spans.get(name, [])):
                removed += _delete_between(conn, key, low, high)
    return removed


def delete_meter(conn: sqlite3.Connection, meter: str) -> int:
    """Forget ``meter`` and every sample it holds; return how many samples were removed."""
    with transaction(conn, write=True):
        key = meters.key_of(conn, meter)
        if key is None:
            return 0
        first, last = slot_range(key, 0, _UNIT_MASK)
        count: int = conn.execute(
            f"SELECT COALESCE(SUM(n), 0) FROM {LEVELS[-1].table} WHERE slot BETWEEN ? AND ?",
            (first, last),
        ).fetchone()[0]
        blobs.delete(conn, first, last)
        extras.delete(conn, first, last)
        for level in LEVELS:
            levels.delete(conn, level, key, 0, _UNIT_MASK)
        conn.execute("DELETE FROM meters WHERE id = ?", (key,))
    return count


def _uncovered(low: int, high: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``low..high`` (inclusive) outside every span, in order."""
    parts = []
    for first, last in sorted(spans):
        if first > low:
            parts.append((low, min(high, first - 1)))
        low = max(low, last + 1)
        if low > high:
            return [part for part in parts if part[0] <= part[1]]
    parts.append((low, high))
    return [part for part in parts if part[0] <= part[1]]


def _delete_between(conn: sqlite3.Connection, key: int, low: int, high: int) -> int:
    """Delete the meter's samples with low <= ts_us <= high; return how many there were."""
    width = MINUTES.width_us
    extras.delete_between(conn, key, low, high)
    # Minutes wholly inside go by ranges of slots; the (at most two) cut ones are decoded.
    inner = (-(-low // width), (high + 1) // width - 1)
    removed = 0
    if inner[0] <= inner[1]:
        removed += conn.execute(
            f"SELECT COALESCE(SUM(n), 0) FROM {MINUTES.table} WHERE slot BETWEEN ? AND ?",
            slot_range(key, *inner),
        ).fetchone()[0]
        blobs.delete(conn, *slot_range(key, *inner))
        levels.delete(conn, MINUTES, key, *inner)
    edges = _outside({low // width, high // width}, inner)
    known = levels.read(conn, MINUTES, key, edges)
    changed: dict[int, Rollup] = {}
    for minute in edges:
        state = known.get(minute)
        if state is None or state.last[0] < low or state.first[0] > high:
            continue
        found = blobs.find(conn, slot(key, minute))
        if found is None:
            continue
        everything = chunk.rows(found[0], minute * width)
        kept = [row for row in everything if not low <= row[0] <= high]
        removed += len(everything) - len(kept)
        if kept:
            blob = chunk.encode(kept, minute * width)
            blobs.put(conn, slot(key, minute), blob, found[1], found[1])
            changed[minute] = summarize(kept)
        else:
            blobs.delete(conn, *slot_range(key, minute, minute))
            levels.delete(conn, MINUTES, key, minute, minute)
    levels.write(conn, MINUTES, key, changed)
    finer = MINUTES
    for level in LEVELS[1:]:
        unit_us = level.width_us
        whole = (-(-low // unit_us), (high + 1) // unit_us - 1)
        if whole[0] <= whole[1]:
            levels.delete(conn, level, key, *whole)
        cut = _outside({low // unit_us, high // unit_us}, whole)
        levels.rebuild(conn, level, finer, key, cut)
        finer = level
    return removed


def _outside(units: set[int], inner: tuple[int, int]) -> list[int]:
    """Those of ``units`` not in the range ``inner`` (first, last), in order."""
    return sorted(unit for unit in units if not inner[0] <= unit <= inner[1])


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
