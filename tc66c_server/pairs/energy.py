"""Energy through a pair over a window: trapezoids over the time both meters cover.

Each meter's power is integrated by the trapezoid rule exactly as the store's statistics
do it (``store/stats.py``): a step between consecutive samples counts only if they are no
more than ``gap_s`` apart, so a meter that stopped answering adds nothing for that time.
A meter *covers* the union of its counted steps. Both meters' energies are taken over the
time both cover, each step clipped to it (power interpolated linearly inside the step), so
a meter unplugged for ten minutes of an hour does not turn its partner's ten minutes into
"loss". When both cover the same time, each energy is exactly the store's ``energy_wh``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from .align import Row

S_PER_H = 3600.0

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class PairEnergy:
    """Energy into and out of the pair (Wh) over ``duration_s`` covered by both meters."""

    energy_in_wh: float
    energy_out_wh: float
    duration_s: float

    @property
    def efficiency(self) -> float | None:
        """ΔE_out / ΔE_in, or None when no energy went in."""
        if self.energy_in_wh <= 0:
            return None
        return self.energy_out_wh / self.energy_in_wh

    @property
    def loss_w(self) -> float | None:
        """The average power lost in the pair (E_in − E_out) / duration, or None."""
        if self.duration_s <= 0:
            return None
        return (self.energy_in_wh - self.energy_out_wh) * S_PER_H / self.duration_s


def coverage(rows: Sequence[Row], gap_s: float) -> list[Interval]:
    """The disjoint time intervals covered by steps no longer than ``gap_s``, in order."""
    if gap_s < 0:
        raise ValueError(f"gap_s must be >= 0, not {gap_s}")
    spans: list[Interval] = []
    for prev, row in itertools.pairwise(rows):
        t0, t1 = prev[0], row[0]
        if t1 - t0 > gap_s or t1 <= t0:
            continue
        if spans and spans[-1][1] >= t0:
            spans[-1] = (spans[-1][0], t1)
        else:
            spans.append((t0, t1))
    return spans


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The intervals covered by both ``a`` and ``b`` (each disjoint and in order)."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def energy_within(rows: Sequence[Row], gap_s: float, spans: Sequence[Interval]) -> float:
    """The trapezoid integral of power (W·s) over the counted steps, clipped to ``spans``."""
    total = 0.0
    first = 0  # the first span that may still overlap a step
    for prev, row in itertools.pairwise(rows):
        t0, t1 = prev[0], row[0]
        if t1 - t0 > gap_s or t1 <= t0:
            continue
        p0, slope = prev[3], (row[3] - prev[3]) / (t1 - t0)
        while first < len(spans) and spans[first][1] <= t0:
            first += 1
        k = first
        while k < len(spans) and spans[k][0] < t1:
            x, y = max(t0, spans[k][0]), min(t1, spans[k][1])
            if y > x:
                total += (2 * p0 + slope * (x - t0 + y - t0)) / 2 * (y - x)
            k += 1
    return total


def pair_energy(input_rows: Sequence[Row], output_rows: Sequence[Row], gap_s: float) -> PairEnergy:
    """Energy in and out over the time both meters cover (see the module doc)."""
    both = intersect(coverage(input_rows, gap_s), coverage(output_rows, gap_s))
    return PairEnergy(
        energy_in_wh=energy_within(input_rows, gap_s, both) / S_PER_H,
        energy_out_wh=energy_within(output_rows, gap_s, both) / S_PER_H,
        duration_s=sum(hi - lo for lo, hi in both),
    )
