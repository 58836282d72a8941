"""A rollup of a run of samples (a minute, an hour...): pure functions, no SQL.

The writer has every new sample's integers in hand, so it summarizes them here rather than
re-reading them from SQLite; appending to a unit combines its stored rollup with the new
samples' one (``extend``), and a unit of a coarser level is its finer units' rollups
chained in time order (``chain``), so a batch never re-reads older samples.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from .. import quantities as q

#: Positions in a sample's values (the device id comes first, then ``quantities.ALL``).
_CURRENT = 1 + q.ALL.index(q.CURRENT)
_POWER = 1 + q.ALL.index(q.POWER)

#: The columns a rollup fills in every level's table, in the order of ``Rollup.as_row``.
COLUMNS: tuple[str, ...] = (
    "n",
    *(f"{quantity.key}_{agg}" for quantity in q.ALL for agg in ("min", "max", "sum")),
    *("energy_raw2", "charge_raw2", "gap_max_us"),
    *("first_us", "first_current", "first_power", "last_us", "last_current", "last_power"),
)


@dataclass(frozen=True, slots=True)
class Rollup:
    """Count, per-quantity min/max/sum, and the trapezoid sums of a run of samples.

    ``energy_raw2``/``charge_raw2`` add (a + b) * dt_us over every consecutive pair, in raw
    power/current units; ``gap_max_us`` is the longest dt; ``first``/``last`` are
    ``(ts_us, current, power)`` of the first and last sample.
    """

    n: int
    mins: tuple[int, ...]
    maxs: tuple[int, ...]
    sums: tuple[int, ...]
    energy_raw2: int
    charge_raw2: int
    gap_max_us: int
    first: tuple[int, int, int]
    last: tuple[int, int, int]

    def as_row(self) -> tuple[int, ...]:
        """The values for ``COLUMNS``."""
        trios = zip(self.mins, self.maxs, self.sums, strict=True)
        per_quantity = (x for trio in trios for x in trio)
        return (
            self.n,
            *per_quantity,
            self.energy_raw2,
            self.charge_raw2,
            self.gap_max_us,
            *self.first,
            *self.last,
        )

    @classmethod
    def from_row(cls, row: Sequence[int]) -> Rollup:
        """The inverse of ``as_row``."""
        count = len(q.ALL)
        stats = row[1 : 1 + 3 * count]
        rest = row[1 + 3 * count :]
        return cls(
            n=row[0],
            mins=tuple(stats[0::3]),
            maxs=tuple(stats[1::3]),
            sums=tuple(stats[2::3]),
            energy_raw2=rest[0],
            charge_raw2=rest[1],
            gap_max_us=rest[2],
            first=(rest[3], rest[4], rest[5]),
            last=(rest[6], rest[7], rest[8]),
        )


def summarize(run: Sequence[tuple[int, tuple[int, ...]]]) -> Rollup:
    """The rollup of ``(ts_us, values)`` samples in time order (at least one)."""
    times = [ts_us for ts_us, _ in run]
    columns = list(zip(*(values for _, values in run), strict=True))
    current, power = columns[_CURRENT], columns[_POWER]
    steps = [later - earlier for earlier, later in pairwise(times)]
    quantities = columns[1:]
    return Rollup(
        n=len(run),
        mins=tuple(map(min, quantities)),
        maxs=tuple(map(max, quantities)),
        sums=tuple(map(sum, quantities)),
        energy_raw2=sum((a + b) * dt for (a, b), dt in zip(pairwise(power), steps, strict=True)),
        charge_raw2=sum((a + b) * dt for (a, b), dt in zip(pairwise(current), steps, strict=True)),
        gap_max_us=max(steps, default=0),
        first=(times[0], current[0], power[0]),
        last=(times[-1], current[-1], power[-1]),
    )


def extend(earlier: Rollup, later: Rollup) -> Rollup:
    """The rollup of ``earlier``'s samples followed by ``later``'s (all of them later)."""
    step = later.first[0] - earlier.last[0]
    return Rollup(
        n=earlier.n + later.n,
        mins=tuple(map(min, earlier.mins, later.mins)),
        maxs=tuple(map(max, earlier.maxs, later.maxs)),
        sums=tuple(map(int.__add__, earlier.sums, later.sums)),
        energy_raw2=earlier.energy_raw2
        + later.energy_raw2
        + (earlier.last[2] + later.first[2]) * step,
        charge_raw2=earlier.charge_raw2
        + later.charge_raw2
        + (earlier.last[1] + later.first[1]) * step,
        gap_max_us=max(earlier.gap_max_us, later.gap_max_us, step),
        first=earlier.first,
        last=later.last,
    )


def chain(rollups: Iterable[Rollup]) -> Rollup | None:
    """The rollup of runs in time order, each after the one before; None for no runs."""
    total: Rollup | None = None
    for rollup in rollups:
        total = rollup if total is None else extend(total, rollup)
    return total
