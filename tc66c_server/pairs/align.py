"""Two meters' samples on one clock: fixed-width buckets holding samples of both meters.

Buckets are aligned on multiples of the width since the Unix epoch (as the store's chart
buckets are) and counted in integer microseconds, so a sample on a boundary always falls in
the same bucket. A bucket where only one meter has samples is left out: nothing can be said
about the pair there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: One sample as the store returns it: ``(ts, voltage_v, current_a, power_w, ...)``.
Row = Sequence[float]

US_PER_S = 1_000_000


@dataclass(frozen=True, slots=True)
class AlignedBucket:
    """Both meters' mean voltage (V), current (A) and power (W) over one bucket.

    ``ts`` is the bucket's start (Unix s); the bucket covers ``[ts, ts + width_s)``.
    """

    ts: float
    width_s: float
    count_in: int
    count_out: int
    voltage_in: float
    current_in: float
    power_in: float
    voltage_out: float
    current_out: float
    power_out: float

    @property
    def end(self) -> float:
        """The bucket's end (Unix s, excluded)."""
        return self.ts + self.width_s

    @property
    def current(self) -> float:
        """The current through the pair: the mean of both meters' (A)."""
        return (self.current_in + self.current_out) / 2


@dataclass(frozen=True, slots=True)
class _Means:
    index: int
    count: int
    voltage: float
    current: float
    power: float


def width_us(width_s: float) -> int:
    """A bucket width in whole microseconds; raises ValueError unless positive."""
    width = round(width_s * US_PER_S)
    if width <= 0:
        raise ValueError(f"the bucket width must be positive, not {width_s}")
    return width


def _means(rows: Sequence[Row], width: int) -> Iterator[_Means]:
    """Per-bucket means of one meter's time-ordered rows."""
    index, n, v, i, p = 0, 0, 0.0, 0.0, 0.0
    for row in rows:
        k = round(row[0] * US_PER_S) // width
        if n and k != index:
            yield _Means(index, n, v / n, i / n, p / n)
            n, v, i, p = 0, 0.0, 0.0, 0.0
        index = k
        n += 1
        v += row[1]
        i += row[2]
        p += row[3]
    if n:
        yield _Means(index, n, v / n, i / n, p / n)


def align(
    input_rows: Sequence[Row], output_rows: Sequence[Row], width_s: float
) -> list[AlignedBucket]:
    """The buckets of ``width_s`` where both meters have samples, in time order.

    Both row sequences must be in time order (as ``SampleStore.range`` returns them).
    """
    width = width_us(width_s)
    outputs = iter(_means(output_rows, width))
    out = next(outputs, None)
    buckets = []
    for inp in _means(input_rows, width):
        while out is not None and out.index < inp.index:
            out = next(outputs, None)
        if out is None:
            break
        if out.index == inp.index:
            buckets.append(
                AlignedBucket(
                    ts=inp.index * width / US_PER_S,
                    width_s=width / US_PER_S,
                    count_in=inp.count,
                    count_out=out.count,
                    voltage_in=inp.voltage,
                    current_in=inp.current,
                    power_in=inp.power,
                    voltage_out=out.voltage,
                    current_out=out.current,
                    power_out=out.power,
                )
            )
    return buckets
