"""A UM meter's fields beyond the TC66C's: declared once, as raw integers, and as blobs.

The store keeps them per meter and minute next to the chunks (``extras.py``), each at the
meter's resolution, exactly: the model id, then ``reading.UM_KEYS`` in order. A blob is a
format byte and a raw deflate stream of columns: the times (the first as an offset into the
minute, then deltas of deltas in microseconds), then each field (its first value, then
deltas from the previous sample). A field's first value sits in the header as a zigzag
varint; the rest of each column is packed at the smallest fixed width (1, 2, 4 or 8 bytes)
that holds it, so decoding one column is a C-speed ``array`` load and an ``accumulate``.
Most of these fields do not move within a minute: their deltas are zeros, which deflate
all but removes.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import sub
from typing import Any, Literal

from ..reading import CHARGING_MODES, UM_GROUP_COUNT, UM_KEYS, UmFields
from .chunk import get_varints, put_varint

FORMAT = 1
#: A sample's stored UM values: the model id, then one integer per ``UM_KEYS`` entry.
UmValues = tuple[int, ...]


def _mode_name(code: int) -> str:
    return CHARGING_MODES[code] if 0 <= code < len(CHARGING_MODES) else f"code {code}"


@dataclass(frozen=True, slots=True)
class UmColumn:
    """One stored UM field: its API key, raw steps per unit, how a chart bucket sums it
    up (the mean of a measured number, the last value of a state or setting), and the API
    value of a raw integer."""

    key: str
    scale: int = 1
    summary: Literal["mean", "last"] = "mean"
    value: Callable[[int], Any] = int

    @property
    def decimals(self) -> int:
        return len(str(self.scale)) - 1


_BY_NAME: dict[str, UmColumn] = {
    "threshold_current": UmColumn("threshold_current", 100, value=lambda raw: raw / 100),
    "charging_mode": UmColumn("charging_mode", summary="last", value=_mode_name),
    "recording_active": UmColumn("recording_active", summary="last", value=bool),
    **{
        key: UmColumn(key, summary="last")
        for key in ("selected_group", "screen_timeout_min", "screen_brightness", "screen_index")
    },
}
#: The stored fields in storage order (after the model id), one per ``UM_KEYS`` entry.
COLUMNS: tuple[UmColumn, ...] = tuple(_BY_NAME.get(key, UmColumn(key)) for key in UM_KEYS)
BY_KEY: dict[str, UmColumn] = {column.key: column for column in COLUMNS}
#: A field's index in ``UmValues`` (0 is the model id).
INDEX: dict[str, int] = {column.key: 1 + i for i, column in enumerate(COLUMNS)}

_WIDTHS = ("b", "h", "i", "q")
_LIMITS = tuple(2 ** (8 * array(code).itemsize - 1) for code in _WIDTHS)
_SWAP = sys.byteorder != "little"  # blobs are little-endian on every machine
_LEVEL, _WINDOW_BITS = 9, -13


def to_raw(um: UmFields) -> UmValues:
    """The integers the store keeps for ``um`` (``ValueError`` if one is not a number)."""
    groups = {
        f"group{g}_{unit}": um.groups[g][u]
        for g in range(2, UM_GROUP_COUNT)
        for u, unit in enumerate(("mah", "mwh"))
    }
    values = [um.model_id]
    for column in COLUMNS:
        value = groups[column.key] if column.key in groups else getattr(um, column.key)
        values.append(round(value * column.scale))
    return tuple(values)


def from_raw(values: Sequence[int], group0: tuple[int, int], group1: tuple[int, int]) -> UmFields:
    """The ``UmFields`` that ``to_raw`` turned into ``values`` (groups 0 and 1 are the
    reading's own, kept in its chunk)."""
    by_key = {column.key: raw for column, raw in zip(COLUMNS, values[1:], strict=True)}
    later = [(by_key[f"group{g}_mah"], by_key[f"group{g}_mwh"]) for g in range(2, UM_GROUP_COUNT)]
    groups = (group0, group1, *later)
    return UmFields(
        model_id=values[0],
        groups=groups,
        selected_group=by_key["selected_group"],
        temperature_f=by_key["temperature_f"],
        charging_mode=by_key["charging_mode"],
        threshold_mah=by_key["threshold_mah"],
        threshold_mwh=by_key["threshold_mwh"],
        threshold_current=by_key["threshold_current"] / 100,
        recording_s=by_key["recording_s"],
        recording_active=bool(by_key["recording_active"]),
        screen_timeout_min=by_key["screen_timeout_min"],
        screen_brightness=by_key["screen_brightness"],
        screen_index=by_key["screen_index"],
    )


def encode(rows: Sequence[tuple[int, UmValues]], base_us: int) -> bytes:
    """The blob of samples ``(ts_us, values)`` in time order (at least one) of the minute
    starting at ``base_us``."""
    if not rows:
        raise ValueError("a UM blob holds at least one sample")
    times = [ts_us for ts_us, _ in rows]
    deltas = list(map(sub, times[1:], times))
    columns = [[times[0] - base_us, *map(sub, deltas, [0, *deltas])]]
    for values in zip(*(values for _, values in rows), strict=True):
        columns.append([values[0], *map(sub, values[1:], values)])
    head, body = bytearray(), bytearray()
    put_varint(head, len(rows))
    put_varint(head, len(columns))
    for column in columns:
        rest = column[1:]
        low, high = (min(rest), max(rest)) if rest else (0, 0)
        width = next(w for w, limit in enumerate(_LIMITS) if -limit <= low and high < limit)
        head.append(width)
        put_varint(head, (column[0] << 1) ^ (column[0] >> 63))
        packed = array(_WIDTHS[width], rest)
        if _SWAP:
            packed.byteswap()
        body += packed.tobytes()
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS)
    return bytes([FORMAT]) + packer.compress(head + body) + packer.flush()


def decode(blob: bytes, base_us: int, wanted: Sequence[int]) -> tuple[list[int], list[list[int]]]:
    """The times of a blob's samples and, for each index of ``wanted`` (0 the model id,
    ``INDEX[key]`` a field), its integers."""
    if not blob or blob[0] != FORMAT:
        raise ValueError(f"unknown UM blob format {blob[:1]!r}")
    payload = memoryview(zlib.decompress(blob[1:], -15))
    (n, count), pos = get_varints(payload, 0, 2)
    widths, firsts, starts = [], [], []
    for _ in range(count):
        widths.append(payload[pos])
        (zigzag,), pos = get_varints(payload, pos + 1, 1)
        firsts.append((zigzag >> 1) ^ -(zigzag & 1))
    for width in widths:
        starts.append(pos)
        pos += array(_WIDTHS[width]).itemsize * (n - 1)

    def rest(index: int) -> array[int]:
        packed = array(_WIDTHS[widths[index]])
        packed.frombytes(payload[starts[index] : starts[index] + packed.itemsize * (n - 1)])
        if _SWAP:
            packed.byteswap()
        return packed

    times = list(accumulate(accumulate(rest(0)), initial=base_us + firsts[0]))
    columns = [list(accumulate(rest(1 + i), initial=firsts[1 + i])) for i in wanted]
    return times, columns


def rows(blob: bytes, base_us: int) -> list[tuple[int, UmValues]]:
    """Every sample of a blob as ``(ts_us, values)``, the inverse of ``encode``."""
    times, columns = decode(blob, base_us, range(1 + len(COLUMNS)))
    return list(zip(times, zip(*columns, strict=True), strict=True))
