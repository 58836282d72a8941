"""Samples to the integers the store keeps, and back, exactly."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .. import quantities as q
from ..reading import Reading, Sample
from .schema import US_PER_S

#: product, firmware, serial, runs: what the ``devices`` table holds.
DeviceKey = tuple[str, str, int, int]

_VALUES = attrgetter(*(quantity.key for quantity in q.ALL))
_DEVICE = attrgetter("product", "firmware", "serial", "runs")
_TO_RAW = tuple(quantity.to_raw for quantity in q.ALL)
_FROM_RAW = tuple(
    (lambda raw: int(raw)) if quantity.decimals == 0 else quantity.from_raw for quantity in q.ALL
)
# SQLite integers are signed 64-bit; the meter's fields are u32, so anything near this limit
# is a corrupt value, refused here rather than overflowing inside SQL arithmetic.
_RAW_LIMIT = 2**40


@dataclass(frozen=True, slots=True)
class RawSample:
    """A sample as the store keeps it: integer microseconds, device, raw integers."""

    ts_us: int
    device: DeviceKey
    values: tuple[int, ...]  # one per quantity, in ``quantities.ALL`` order


def ts_to_us(ts: float) -> int:
    """Unix seconds to integer microseconds (nearest)."""
    return round(ts * US_PER_S)


def us_to_ts(ts_us: int) -> float:
    """Integer microseconds to Unix seconds, the same float the sample was made with."""
    return ts_us / US_PER_S


def encode(sample: Sample) -> RawSample:
    """The raw integers of a sample; ``ValueError`` for a time or value the store refuses."""
    if not math.isfinite(sample.ts) or sample.ts < 0:
        raise ValueError(f"sample time {sample.ts!r} is not a Unix time")
    try:
        values = tuple(to_raw(value) for to_raw, value in zip(_TO_RAW, _VALUES(sample.reading)))
    except (ValueError, OverflowError, TypeError) as exc:  # NaN, infinity, not a number
        raise ValueError(f"sample at {sample.ts} has a value that is not a number: {exc}") from None
    if any(not -_RAW_LIMIT < raw < _RAW_LIMIT for raw in values):
        raise ValueError(f"sample at {sample.ts} has a value out of range: {values}")
    return RawSample(ts_to_us(sample.ts), _DEVICE(sample.reading), values)


def decode(ts_us: int, device: DeviceKey, values: Sequence[int]) -> Sample:
    """The sample that ``encode`` turned into these integers."""
    product, firmware, serial, runs = device
    fields: dict[str, Any] = {
        quantity.key: from_raw(raw)
        for quantity, from_raw, raw in zip(q.ALL, _FROM_RAW, values, strict=True)
    }
    reading = Reading(product=product, firmware=firmware, serial=serial, runs=runs, **fields)
    return Sample(us_to_ts(ts_us), reading)
