"""Rendered JSON of whole minutes of samples, reused across ``/api/data`` requests.

A chart or a script that asks for the same day again and again would otherwise have every
sample of it rebuilt, formatted and serialised each time. Here each whole minute inside the
window is rendered once and kept under the store's *mark* of that minute (count, first and
last times and per-field sums), so any change to the minute's samples (an import, a prune,
a late sample) makes the stale entry miss. Minutes cut by the window's edges are rendered
fresh every time. Entries are evicted least recently used beyond a byte budget.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import orjson

from ..store import DEFAULT_METER, SampleStore
from ..timefmt import iso_many

US_PER_MINUTE = 60_000_000
DEFAULT_BUDGET_BYTES = 24 * 2**20

_Key = tuple[str, int, tuple[str, ...]]


def render_points(rows: Sequence[tuple[float, ...]], keys: tuple[str, ...]) -> bytes:
    """Rows ``(ts, *values)`` as comma-separated JSON objects (no enclosing brackets)."""
    if not rows:
        return b""
    stamps = iso_many([row[0] for row in rows])
    points: list[dict[str, Any]]
    if keys == ("voltage", "current", "power"):  # the common case, ~4x faster spelled out
        points = [
            {"timestamp": stamp, "voltage": row[1], "current": row[2], "power": row[3]}
            for stamp, row in zip(stamps, rows, strict=True)
        ]
    else:
        points = [
            {"timestamp": stamp, **dict(zip(keys, row[1:], strict=True))}
            for stamp, row in zip(stamps, rows, strict=True)
        ]
    return orjson.dumps(points)[1:-1]


class SeriesCache:
    """Per-minute JSON fragments of raw samples, validated by the store's minute marks."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[_Key, tuple[tuple[int, ...], int, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        return self._size

    def _get(self, key: _Key, mark: tuple[int, ...]) -> tuple[int, bytes] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != mark:
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def _put(self, key: _Key, mark: tuple[int, ...], count: int, fragment: bytes) -> None:
        if len(fragment) > self.budget_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[2])
            self._entries[key] = (mark, count, fragment)
            self._size += len(fragment)
            while self._size > self.budget_bytes:
                _, (_, _, evicted) = self._entries.popitem(last=False)
                self._size -= len(evicted)

    def render(
        self,
        store: SampleStore,
        start_ts: float,
        end_ts: float,
        extras: tuple[str, ...],
        meter: str = DEFAULT_METER,
    ) -> tuple[int, list[bytes]]:
        """``(count, fragments)``: the samples of one meter in ``[start_ts, end_ts]`` as JSON
        objects, in non-empty fragments to be joined with commas."""
        keys = ("voltage", "current", "power", *extras)
        start_us, end_us = round(start_ts * 1e6), round(end_ts * 1e6)
        if end_us < start_us:
            return 0, []
        first, last = start_us // US_PER_MINUTE, end_us // US_PER_MINUTE
        # Each part is (count, fragment), or the minute still to render (a cache miss).
        parts: list[tuple[int, bytes] | int] = []
        missing: list[tuple[int, tuple[int, ...]]] = []
        for minute, mark in store.minute_marks(first, last, meter=meter):
            lo_us, hi_us = minute * US_PER_MINUTE, (minute + 1) * US_PER_MINUTE - 1
            if lo_us < start_us or hi_us > end_us:  # cut by the window: never cached
                rows = store.range(
                    max(start_us, lo_us) / 1e6, min(end_us, hi_us) / 1e6, extras, meter=meter
                )
                parts.append((len(rows), render_points(rows, keys)))
                continue
            cached = self._get((meter, minute, extras), mark)
            if cached is None:
                self.misses += 1
                missing.append((minute, mark))
                parts.append(minute)
            else:
                self.hits += 1
                parts.append(cached)
        filled = self._fill(store, missing, extras, keys, meter) if missing else {}
        done = [filled[p] if isinstance(p, int) else p for p in parts]
        return sum(n for n, _ in done), [f for _, f in done if f]

    def _fill(
        self,
        store: SampleStore,
        missing: list[tuple[int, tuple[int, ...]]],
        extras: tuple[str, ...],
        keys: tuple[str, ...],
        meter: str,
    ) -> dict[int, tuple[int, bytes]]:
        """Render missing minutes, one store query per run of consecutive minutes."""
        rendered: dict[int, tuple[int, bytes]] = {}
        run: list[tuple[int, tuple[int, ...]]] = []
        sentinel = (missing[-1][0] + 2, ())  # not consecutive: closes the last run
        for item in [*missing, sentinel]:
            if run and item[0] != run[-1][0] + 1:
                lo, hi = run[0][0] * 60.0, (run[-1][0] + 1) * 60.0 - 1e-6
                by_minute: dict[int, list[tuple[float, ...]]] = {m: [] for m, _ in run}
                for row in store.range(lo, hi, extras, meter=meter):
                    by_minute.setdefault(int(row[0] // 60), []).append(row)
                for minute, mark in run:
                    rows = by_minute[minute]
                    fragment = render_points(rows, keys)
                    self._put((meter, minute, extras), mark, len(rows), fragment)
                    rendered[minute] = (len(rows), fragment)
                run = []
            run.append(item)
        return rendered
