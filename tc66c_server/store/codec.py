"""Samples to the integers the store keeps, and back, exactly."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import attrgetter, mul
from typing import Any, NamedTuple

from .. import quantities as q
from ..reading import Reading, Sample
from .schema import US_PER_S
from .um_columns import UmValues, to_raw

#: product, firmware, serial, runs: what the ``devices`` table holds.
DeviceKey = tuple[str, str, int, int]

_VALUES = attrgetter(*(quantity.key for quantity in q.ALL))
_DEVICE = attrgetter("product", "firmware", "serial", "runs")
# Quantity.to_raw inlined (round(value * scale)): the bulk import encodes 100k samples a
# second; tests check the two agree.
_SCALES = tuple(quantity.scale for quantity in q.ALL)
_FROM_RAW = tuple(int if quantity.decimals == 0 else quantity.from_raw for quantity in q.ALL)
# The meter's fields are u32 (the temperature a sign and a u32). Bounding the raw values
# keeps every sum and trapezoid product the store computes inside SQLite's 64-bit integers.
_RAW_LIMIT = 2**32


class RawSample(NamedTuple):
    """A sample as the store keeps it: integer microseconds, device, raw integers."""

    ts_us: int
    device: DeviceKey
    values: tuple[int, ...]  # one per quantity, in ``quantities.ALL`` order
    um: UmValues | None = None  # a UM meter's other fields (``um_columns.py``)


def ts_to_us(ts: float) -> int:
    """Unix seconds to integer microseconds (nearest)."""
    return round(ts * US_PER_S)


def us_to_ts(ts_us: int) -> float:
    """Integer microseconds to Unix seconds, the same float the sample was made with."""
    return ts_us / US_PER_S


def encode(sample: Sample) -> RawSample:
    """The raw integers of a sample; ``ValueError`` for a time or value the store refuses."""
    if not 0 <= sample.ts < math.inf:  # also false for NaN
        raise ValueError(f"sample time {sample.ts!r} is not a Unix time")
    try:
        values = tuple(map(round, map(mul, _VALUES(sample.reading), _SCALES)))
    except (ValueError, OverflowError, TypeError) as exc:  # NaN, infinity, not a number
        raise ValueError(f"sample at {sample.ts} has a value that is not a number: {exc}") from None
    if max(values) >= _RAW_LIMIT or min(values) <= -_RAW_LIMIT:
        raise ValueError(f"sample at {sample.ts} has a value out of range: {values}")
    um = sample.reading.um
    if um is None:
        return RawSample(ts_to_us(sample.ts), _DEVICE(sample.reading), values)
    try:
        extra = to_raw(um)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(
            f"sample at {sample.ts} has a UM field that is not a number: {exc}"
        ) from None
    if max(extra) >= _RAW_LIMIT or min(extra) <= -_RAW_LIMIT:
        raise ValueError(f"sample at {sample.ts} has a UM field out of range: {extra}")
    return RawSample(ts_to_us(sample.ts), _DEVICE(sample.reading), values, extra)


def decode(ts_us: int, device: DeviceKey, values: Sequence[int]) -> Sample:
    """The sample that ``encode`` turned into these integers."""
    product, firmware, serial, runs = device
    fields: dict[str, Any] = {
        quantity.key: from_raw(raw)
        for quantity, from_raw, raw in zip(q.ALL, _FROM_RAW, values, strict=True)
    }
    reading = Reading(product=product, firmware=firmware, serial=serial, runs=runs, **fields)
    return Sample(us_to_ts(ts_us), reading)
