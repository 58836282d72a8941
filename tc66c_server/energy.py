"""Energy and charge through each meter since the server started: monotonic counters.

The server integrates every sample it receives, by the trapezoid rule between consecutive
samples, exactly as the store's statistics do (``store/stats.py``): a step longer than the
meter's gap threshold (``max(3 x interval, 2 s)``, the meter was absent) or going back in
time adds nothing, and the next step starts from the newer sample. The totals only grow,
which is what Prometheus counters (``rate()``) and Home Assistant ``total_increasing``
sensors expect; they restart from zero with the server, which both handle as a reset.
"""

from __future__ import annotations

from dataclasses import dataclass

from .reading import Sample

J_PER_WH = 3600.0
C_PER_MAH = 3.6


@dataclass(frozen=True, slots=True)
class EnergyTotals:
    """Joules and coulombs integrated so far, and the sample the next step starts from."""

    joules: float = 0.0
    coulombs: float = 0.0
    #: Time (Unix s), current (A) and power (W) of the last sample taken in.
    last: tuple[float, float, float] | None = None

    @property
    def energy_wh(self) -> float:
        return self.joules / J_PER_WH

    @property
    def charge_mah(self) -> float:
        return self.coulombs / C_PER_MAH


def accumulate(totals: EnergyTotals, sample: Sample, gap_s: float) -> EnergyTotals:
    """``totals`` with the step from its last sample to ``sample`` added (see module doc)."""
    ts, current, power = sample.ts, sample.reading.current, sample.reading.power
    last = totals.last
    if last is None:
        return EnergyTotals(totals.joules, totals.coulombs, (ts, current, power))
    dt = ts - last[0]
    if dt <= 0 or dt > gap_s:
        return EnergyTotals(totals.joules, totals.coulombs, (ts, current, power))
    return EnergyTotals(
        totals.joules + (last[2] + power) / 2 * dt,
        totals.coulombs + (last[1] + current) / 2 * dt,
        (ts, current, power),
    )
