"""Cable mode: the resistance between the two meters, ``(V_in − V_out) / I``.

Per aligned bucket the current is the mean of both meters' (the same current flows through
both ends of a cable; averaging halves each meter's own error). A bucket counts when that
current is at least :data:`CABLE_MIN_CURRENT_A` (0.5 A: below it the drop is a few mV and
the meters' 0.1 mV resolution and offsets dominate) and it is not near a load step (the
rule of :mod:`.series`: the meters may straddle the step). The resistance is the mean of
the counted buckets' ratios, and needs at least :data:`CABLE_MIN_SAMPLES` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .align import AlignedBucket
from .series import near_load_step

#: Buckets with less current than this (A) do not count.
CABLE_MIN_CURRENT_A = 0.5
#: Fewer counted buckets than this give no resistance.
CABLE_MIN_SAMPLES = 3


@dataclass(frozen=True, slots=True)
class CableResistance:
    """The resistance (Ω) and how many aligned buckets it was averaged over."""

    ohm: float
    samples_used: int


def cable_resistance(
    buckets: Sequence[AlignedBucket],
    *,
    min_current_a: float = CABLE_MIN_CURRENT_A,
    voltage_offset_v: float = 0.0,
) -> CableResistance | None:
    """The mean ``(V_in − V_out − voltage_offset_v) / I``, or None without enough current.

    ``voltage_offset_v`` is the meters' own difference measured back to back (calibration).
    """
    if min_current_a <= 0:
        raise ValueError(f"min_current_a must be positive, not {min_current_a}")
    near_step = near_load_step(buckets)
    ratios = [
        (b.voltage_in - b.voltage_out - voltage_offset_v) / b.current
        for b, hidden in zip(buckets, near_step, strict=True)
        if not hidden and b.current >= min_current_a
    ]
    if len(ratios) < CABLE_MIN_SAMPLES:
        return None
    return CableResistance(ohm=sum(ratios) / len(ratios), samples_used=len(ratios))
