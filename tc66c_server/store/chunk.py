"""A minute of one meter's samples as one compressed blob, and back, exactly.

A blob is a format byte, then segments, each a run of samples: usually one. While a
minute is being written, each commit appends a segment with its new samples (cheap: the
older samples are neither decoded nor packed again), and the writer packs the minute into
one segment once the meter has moved on to a later minute.

A segment holds columns, not rows: the times, then each stored value (the device id, then
the quantities in ``quantities.ALL`` order), each as ``n`` integers:

* times: the first as an offset from the chunk's minute, then deltas of deltas in
  microseconds (a steady poll interval gives zeros);
* power and resistance: the cheaper of deltas, or residuals from what voltage and current
  predict (``P = V * I``, ``R = V / I``, in integers, so decoding is exact); a meter that
  computes them from the same readings leaves residuals of zero or a few steps;
* every other value: deltas from the previous sample (the counters, temperature and data
  lines mostly do not move).

Each column's integers after its first are packed at the smallest fixed width (1, 2, 4 or 8
bytes) that holds them cheaply; the few that do not fit leave a marker and are kept aside
at 8 bytes. Fixed widths rather than varints: the columns decode through ``array`` at C
speed, five times faster than a Python varint loop, for about half a byte more per 1 Hz
sample after compression. The payload is compressed with zlib (raw deflate), behind its
compressed length.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import sub

from .. import quantities as q

FORMAT = 1
#: Stored values of one sample: device id, then the quantities in ``quantities.ALL`` order.
Values = tuple[int, ...]

_VOLTAGE = 1 + q.ALL.index(q.VOLTAGE)
_CURRENT = 1 + q.ALL.index(q.CURRENT)
_POWER = 1 + q.ALL.index(q.POWER)
_RESISTANCE = 1 + q.ALL.index(q.RESISTANCE)
# P_raw = V_raw * I_raw / _POWER_DIVISOR and R_raw = V_raw * _RATIO_FACTOR / I_raw.
_POWER_DIVISOR = q.VOLTAGE.scale * q.CURRENT.scale // q.POWER.scale
_RATIO_FACTOR = q.CURRENT.scale * q.RESISTANCE.scale // q.VOLTAGE.scale
#: What the meter shows as V/I when almost no current flows (9999.9 Ω).
_RATIO_MAX = 99_999

# Column kinds.
_DELTA, _TIMES, _PRODUCT, _RATIO = 0, 1, 2, 3
# Packing widths: array type code, marker, and the range stored in place.
_WIDTHS: tuple[tuple[str, int, int, int], ...] = (
    ("b", -(2**7), -(2**7) + 1, 2**7 - 1),
    ("h", -(2**15), -(2**15) + 1, 2**15 - 1),
    ("i", -(2**31), -(2**31) + 1, 2**31 - 1),
    ("q", 0, -(2**63), 2**63 - 1),  # everything fits: no marker needed
)
_WIDE = len(_WIDTHS) - 1
_SIZES = tuple(array(typecode).itemsize for typecode, _, _, _ in _WIDTHS)
_SWAP = sys.byteorder != "little"  # the blob is little-endian on every machine
# Chunks are small: the best compression costs little more time, and an 8 KiB window with
# smaller tables (raw deflate, no header) makes setting up the compressor 5x cheaper than
# zlib's defaults, for the same output.
_LEVEL, _WINDOW_BITS, _MEMORY_LEVEL = 9, -13, 6


@dataclass(frozen=True, slots=True)
class Columns:
    """Decoded samples of a chunk: ``times`` (µs) and, per stored value (device id, then
    the quantities), its integers, or None where it was not asked for."""

    times: list[int]
    values: list[list[int] | None]

    def column(self, index: int) -> list[int]:
        """The integers of stored value ``index``; ``KeyError`` if it was not decoded."""
        found = self.values[index]
        if found is None:
            raise KeyError(f"column {index} was not decoded")
        return found


def predicted_power(voltage: int, current: int) -> int:
    """The raw power V * I would give, rounded to the meter's step."""
    return (voltage * current + _POWER_DIVISOR // 2) // _POWER_DIVISOR


def predicted_resistance(voltage: int, current: int) -> int:
    """The raw resistance V / I would give, capped like the meter's display."""
    if current <= 0:
        return _RATIO_MAX
    return min((voltage * _RATIO_FACTOR + current // 2) // current, _RATIO_MAX)


def encode(rows: Sequence[tuple[int, Values]], base_us: int) -> bytes:
    """The blob for samples ``(ts_us, values)`` in time order (at least one), in the chunk
    whose minute starts at ``base_us``: one segment."""
    return bytes([FORMAT]) + _segment(rows, base_us)


def append(blob: bytes, rows: Sequence[tuple[int, Values]], base_us: int) -> bytes:
    """The blob with samples that all come after its own added as one more segment."""
    _check(blob)
    return blob + _segment(rows, base_us)


def segments(blob: bytes) -> int:
    """How many segments the blob holds (``encode`` its rows again to make it one)."""
    return len(_segments(blob))


def decode(blob: bytes, base_us: int, wanted: Collection[int] | None = None) -> Columns:
    """The times and the stored values of a chunk: every value, or only the indexes in
    ``wanted`` (0 the device id, 1... the quantities)."""
    parts = [_decode(segment, base_us, wanted) for segment in _segments(blob)]
    if len(parts) == 1:
        return parts[0]
    times = [ts for part in parts for ts in part.times]
    values: list[list[int] | None] = []
    for pieces in zip(*(part.values for part in parts), strict=True):
        # A column only some segments decoded (to predict another) was not asked for.
        whole = [x for piece in pieces if piece is not None for x in piece]
        values.append(whole if len(whole) == len(times) else None)
    return Columns(times, values)


def rows(blob: bytes, base_us: int) -> list[tuple[int, Values]]:
    """Every sample of a chunk as ``(ts_us, values)``, the inverse of ``encode``."""
    columns = decode(blob, base_us)
    full = [column for column in columns.values if column is not None]
    return list(zip(columns.times, zip(*full, strict=True), strict=True))


def _check(blob: bytes) -> None:
    if not blob or blob[0] != FORMAT:
        raise ValueError(f"unknown chunk format {blob[:1]!r}")


def _segment(rows: Sequence[tuple[int, Values]], base_us: int) -> bytes:
    """Samples as one segment: its compressed length (varint), then the compressed payload."""
    if not rows:
        raise ValueError("a chunk holds at least one sample")
    times = [ts_us for ts_us, _ in rows]
    columns = list(zip(*(values for _, values in rows), strict=True))
    deltas = list(map(sub, times[1:], times))
    chosen = [_Column(_TIMES, times[0] - base_us, list(map(sub, deltas, [0, *deltas])))]
    for index, values in enumerate(columns):
        delta = _Column(_DELTA, values[0], list(map(sub, values[1:], values)))
        if index in (_POWER, _RESISTANCE):
            predict = predicted_power if index == _POWER else predicted_resistance
            guesses = list(map(predict, columns[_VOLTAGE], columns[_CURRENT]))
            residuals = list(map(sub, values, guesses))
            kind = _PRODUCT if index == _POWER else _RATIO
            chosen.append(min(delta, _Column(kind, residuals[0], residuals[1:]), key=_Column.cost))
        else:
            chosen.append(delta)
    out = bytearray()
    put_varint(out, len(rows))
    put_varint(out, len(chosen))
    for column in chosen:
        out.append(column.kind << 4 | column.width)
        put_varint(out, column.aside)
        put_varint(out, (column.first << 1) ^ (column.first >> 63))  # zigzag: few bytes
    for column in chosen:
        out += column.packed()
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL)
    packed = packer.compress(out) + packer.flush()
    head = bytearray()
    put_varint(head, len(packed))
    return bytes(head) + packed


def _segments(blob: bytes) -> list[memoryview]:
    """The compressed payloads of a blob's segments."""
    _check(blob)
    data = memoryview(blob)
    found = []
    pos = 1
    while pos < len(data):
        (size,), pos = get_varints(data, pos, 1)
        found.append(data[pos : pos + size])
        pos += size
    return found


def _decode(segment: memoryview, base_us: int, wanted: Collection[int] | None) -> Columns:
    """The times and stored values of one segment (see ``decode``)."""
    payload = memoryview(zlib.decompress(segment, -15))
    # Header: sample count, column count, then per column its code byte (below 0x80, so a
    # one-byte varint), how many values are kept aside and its first value (zigzag).
    (n, count), pos = get_varints(payload, 0, 2)
    head, pos = get_varints(payload, pos, 3 * count)
    codes, asides = head[0::3], head[1::3]
    firsts = [(zigzag >> 1) ^ -(zigzag & 1) for zigzag in head[2::3]]
    starts = []
    for code, aside in zip(codes, asides, strict=True):
        starts.append(pos)
        pos += _SIZES[code & 0x0F] * (n - 1) + 8 * aside

    def integers(column: int) -> list[int]:
        code = codes[column]
        return _integers(payload, code & 0x0F, firsts[column], starts[column], asides[column], n)

    stored_times = integers(0)
    deltas = accumulate(stored_times[1:])
    times = list(accumulate(deltas, initial=base_us + stored_times[0]))
    needed = range(count - 1) if wanted is None else sorted(set(wanted))
    predicted = [index for index in needed if codes[1 + index] >> 4 != _DELTA]
    if predicted:
        needed = sorted({*needed, _VOLTAGE, _CURRENT})
    values: list[list[int] | None] = [None] * (count - 1)
    for index in needed:
        if codes[1 + index] >> 4 == _DELTA:
            values[index] = list(accumulate(integers(1 + index)))
    for index in predicted:
        voltage, current = values[_VOLTAGE], values[_CURRENT]
        assert voltage is not None and current is not None
        residuals = integers(1 + index)
        if codes[1 + index] >> 4 == _PRODUCT:  # predicted_power, inlined: runs per sample
            half, divisor = _POWER_DIVISOR // 2, _POWER_DIVISOR
            values[index] = [
                (v * i + half) // divisor + r
                for v, i, r in zip(voltage, current, residuals, strict=True)
            ]
        else:
            values[index] = list(map(_plus_resistance, voltage, current, residuals))
    return Columns(times, values)


def _plus_resistance(voltage: int, current: int, residual: int) -> int:
    return predicted_resistance(voltage, current) + residual


def _integers(
    payload: memoryview, width: int, first: int, start: int, aside: int, n: int
) -> list[int]:
    """A column's stored integers: its first, then the ``n - 1`` packed from ``start``."""
    typecode, marker, _, _ = _WIDTHS[width]
    packed = array(typecode)
    wide_at = start + _SIZES[width] * (n - 1)
    packed.frombytes(payload[start:wide_at])
    if _SWAP:
        packed.byteswap()
    integers = [first, *packed]
    if aside:
        wide = array("q")
        wide.frombytes(payload[wide_at : wide_at + 8 * aside])
        if _SWAP:
            wide.byteswap()
        at = 0
        for value in wide:  # the markers stand, in order, for the values kept aside
            at = packed.index(marker, at)
            integers[at + 1] = value
            at += 1
    return integers


class _Column:
    """One column to encode: its kind, first integer, the rest and how they pack."""

    def __init__(self, kind: int, first: int, rest: list[int]) -> None:
        self.kind, self.first, self.rest = kind, first, rest
        self.width, self.size, self.aside = _packing(rest)

    def cost(self) -> tuple[int, int]:
        """Bytes packed, then the sum of magnitudes (smaller compresses better)."""
        return self.size, sum(map(abs, self.rest))

    def packed(self) -> bytes:
        """The rest packed at the column's width, then the values kept aside."""
        typecode, marker, lo, hi = _WIDTHS[self.width]
        rest = self.rest
        if not self.aside:
            packed, wide = array(typecode, rest), array("q")
        else:
            packed = array(typecode, [x if lo <= x <= hi else marker for x in rest])
            wide = array("q", [x for x in rest if not lo <= x <= hi])
        if _SWAP:
            packed.byteswap()
            wide.byteswap()
        return packed.tobytes() + wide.tobytes()


def _packing(values: list[int]) -> tuple[int, int, int]:
    """(width index, bytes, how many values go aside) of the cheapest packing."""
    if not values:
        return 0, 0, 0
    low, high = min(values), max(values)
    best = (_WIDE, 8 * len(values), 0)
    ordered: list[int] | None = None
    for width, (_, _, lo, hi) in enumerate(_WIDTHS[:_WIDE]):
        size = _SIZES[width]
        if lo <= low and high <= hi:
            fits = (width, size * len(values), 0)
            return fits if fits[1] < best[1] else best
        if ordered is None:
            ordered = sorted(values)
        aside = len(values) - (bisect_right(ordered, hi) - bisect_left(ordered, lo))
        cost = size * len(values) + 8 * aside
        if cost < best[1]:
            best = (width, cost, aside)
    return best


def put_varint(out: bytearray, value: int) -> None:
    """Append ``value`` (≥ 0) as a little-endian base-128 varint."""
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def get_varints(data: memoryview, pos: int, count: int) -> tuple[list[int], int]:
    """``count`` varints from ``pos``, and the offset after them."""
    values: list[int] = []
    value = shift = 0
    while len(values) < count:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            values.append(value)
            value = shift = 0
        else:
            shift += 7
    return values, pos
