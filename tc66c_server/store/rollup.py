"""A rollup of a run of samples (a minute, an hour...): pure functions, no SQL.

The writer has every new sample's integers in hand, so it summarizes them here rather than
re-reading them from SQLite; appending to a unit combines its stored rollup with the new
samples' one (``extend``), and a unit of a coarser level is its finer units' rollups
chained in time order (``chain``), so a batch never re-reads older samples.

Besides the sums, a rollup keeps its ``LONG_STEPS`` longest steps between samples (with
what each adds to the integrals) and the length of the next: a query whose gap threshold
only excludes those can subtract them instead of reading the run's samples. A meter
unplugged twice and two dropouts, in a day, cost a day's row nothing more.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from .. import quantities as q

#: Positions in a sample's values (the device id comes first, then ``quantities.ALL``).
_CURRENT = 1 + q.ALL.index(q.CURRENT)
_POWER = 1 + q.ALL.index(q.POWER)

#: How many of its longest steps a rollup keeps.
LONG_STEPS = 4
#: Columns of the long steps: the longest one's terms (its length is ``gap_max_us``), the
#: length and terms of the others, then the length of the longest step not kept.
STEP_COLUMNS: tuple[str, ...] = (
    *("step1_e2", "step1_q2"),
    *(f"step{k}_{x}" for k in range(2, LONG_STEPS + 1) for x in ("us", "e2", "q2")),
    f"step{LONG_STEPS + 1}_us",
)
#: The columns a rollup fills in every level's table, in the order of ``Rollup.as_row``.
COLUMNS: tuple[str, ...] = (
    "n",
    *(f"{quantity.key}_{agg}" for quantity in q.ALL for agg in ("min", "max", "sum")),
    *("energy_raw2", "charge_raw2", "gap_max_us"),
    *("first_us", "first_current", "first_power", "last_us", "last_current", "last_power"),
    *STEP_COLUMNS,
)
#: The columns of a minute's row: no long steps.
MINUTE_COLUMNS = COLUMNS[: -len(STEP_COLUMNS)]
#: A step between two samples: (dt_us, (p0 + p1) * dt, (i0 + i1) * dt).
Step = tuple[int, int, int]
_NO_STEP: Step = (0, 0, 0)


@dataclass(frozen=True, slots=True)
class Rollup:
    """Count, per-quantity min/max/sum, and the trapezoid sums of a run of samples.

    ``energy_raw2``/``charge_raw2`` add (a + b) * dt_us over every consecutive pair, in raw
    power/current units; ``gap_max_us`` is the longest dt; ``first``/``last`` are
    ``(ts_us, current, power)`` of the first and last sample. ``long_steps`` are the
    ``LONG_STEPS`` longest steps (longest first, ``(0, 0, 0)`` where there are fewer) and
    ``rest_us`` the longest of the others; both None when unknown (a minute's row does
    not store them).
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
    long_steps: tuple[Step, ...] | None = None
    rest_us: int | None = None

    def as_row(self, *, steps: bool = True) -> tuple[int, ...]:
        """The values for ``COLUMNS`` (without ``steps``: for ``MINUTE_COLUMNS``)."""
        trios = zip(self.mins, self.maxs, self.sums, strict=True)
        per_quantity = (x for trio in trios for x in trio)
        tail: tuple[int, ...] = ()
        if steps:
            if self.long_steps is None or self.rest_us is None:
                raise ValueError("this rollup's long steps are not known")
            (_, e1, q1), *others = self.long_steps
            tail = (e1, q1, *(x for step in others for x in step), self.rest_us)
        return (
            self.n,
            *per_quantity,
            self.energy_raw2,
            self.charge_raw2,
            self.gap_max_us,
            *self.first,
            *self.last,
            *tail,
        )

    @classmethod
    def from_row(cls, row: Sequence[int]) -> Rollup:
        """The inverse of ``as_row``."""
        count = len(q.ALL)
        values = list(row)
        stats = values[1 : 1 + 3 * count]
        rest = values[1 + 3 * count :]
        known = len(row) == len(COLUMNS)
        return cls(
            n=values[0],
            mins=tuple(stats[0::3]),
            maxs=tuple(stats[1::3]),
            sums=tuple(stats[2::3]),
            energy_raw2=rest[0],
            charge_raw2=rest[1],
            gap_max_us=rest[2],
            first=(rest[3], rest[4], rest[5]),
            last=(rest[6], rest[7], rest[8]),
            long_steps=(
                (rest[2], rest[9], rest[10]),
                *((rest[k], rest[k + 1], rest[k + 2]) for k in range(11, len(rest) - 1, 3)),
            )
            if known
            else None,
            rest_us=rest[-1] if known else None,
        )


def summarize(run: Sequence[tuple[int, tuple[int, ...]]]) -> Rollup:
    """The rollup of ``(ts_us, values)`` samples in time order (at least one)."""
    times = [ts_us for ts_us, _ in run]
    columns = list(zip(*(values for _, values in run), strict=True))
    current, power = columns[_CURRENT], columns[_POWER]
    steps = [later - earlier for earlier, later in pairwise(times)]
    energies = [(a + b) * dt for (a, b), dt in zip(pairwise(power), steps, strict=True)]
    charges = [(a + b) * dt for (a, b), dt in zip(pairwise(current), steps, strict=True)]
    # Ordered as whole tuples, so ``extend`` picks the same steps among equally long ones.
    top = heapq.nlargest(LONG_STEPS + 1, zip(steps, energies, charges, strict=True))
    top += [_NO_STEP] * (LONG_STEPS + 1 - len(top))
    quantities = columns[1:]
    return Rollup(
        n=len(run),
        mins=tuple(map(min, quantities)),
        maxs=tuple(map(max, quantities)),
        sums=tuple(map(sum, quantities)),
        energy_raw2=sum(energies),
        charge_raw2=sum(charges),
        gap_max_us=max(steps, default=0),
        first=(times[0], current[0], power[0]),
        last=(times[-1], current[-1], power[-1]),
        long_steps=tuple(top[:LONG_STEPS]),
        rest_us=top[LONG_STEPS][0],
    )


def extend(earlier: Rollup, later: Rollup) -> Rollup:
    """The rollup of ``earlier``'s samples followed by ``later``'s (all of them later)."""
    step = later.first[0] - earlier.last[0]
    bridge = (
        step,
        (earlier.last[2] + later.first[2]) * step,
        (earlier.last[1] + later.first[1]) * step,
    )
    long_steps: tuple[Step, ...] | None = None
    rest_us: int | None = None
    if (
        earlier.long_steps is not None
        and later.long_steps is not None
        and earlier.rest_us is not None
        and later.rest_us is not None
    ):
        top = sorted((*earlier.long_steps, *later.long_steps, bridge), reverse=True)
        long_steps = tuple(top[:LONG_STEPS])
        rest_us = max(top[LONG_STEPS][0], earlier.rest_us, later.rest_us)
    return Rollup(
        n=earlier.n + later.n,
        mins=tuple(map(min, earlier.mins, later.mins)),
        maxs=tuple(map(max, earlier.maxs, later.maxs)),
        sums=tuple(map(int.__add__, earlier.sums, later.sums)),
        energy_raw2=earlier.energy_raw2 + later.energy_raw2 + bridge[1],
        charge_raw2=earlier.charge_raw2 + later.charge_raw2 + bridge[2],
        gap_max_us=max(earlier.gap_max_us, later.gap_max_us, step),
        first=earlier.first,
        last=later.last,
        long_steps=long_steps,
        rest_us=rest_us,
    )


def chain(rollups: Iterable[Rollup]) -> Rollup | None:
    """The rollup of runs in time order, each after the one before; None for no runs."""
    total: Rollup | None = None
    for rollup in rollups:
        total = rollup if total is None else extend(total, rollup)
    return total
