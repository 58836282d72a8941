"""Calibration of a pair: what the two meters disagree on when nothing is between them.

Two meters of the same model still differ by a fraction of a percent in gain and a few mV
in offset. Plugged back to back, a perfect pair would read an efficiency of exactly 1 and
no voltage drop; what they read instead (the *apparent* efficiency and the mean voltage
offset ``V_in − V_out``) is stored for the pair and taken out of later results: efficiency
is divided by the apparent efficiency (the output's power corrected the same way for the
loss), and the offset is subtracted from the voltage drop before the cable resistance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .align import Row, align
from .energy import pair_energy


class CalibrationError(ValueError):
    """A calibration run without enough common data to measure anything."""


@dataclass(frozen=True, slots=True)
class Calibration:
    """What a back-to-back run measured: apparent efficiency and voltage offset (V)."""

    apparent_efficiency: float
    voltage_offset_v: float
    sample_count: int  # aligned buckets the offset was averaged over

    def __post_init__(self) -> None:
        if not self.apparent_efficiency > 0:
            raise ValueError(
                f"apparent_efficiency must be positive, not {self.apparent_efficiency}"
            )


@dataclass(frozen=True, slots=True)
class CalibrationInfo:
    """How a result was corrected: ``applied`` False means raw values."""

    applied: bool
    apparent_efficiency: float | None = None
    voltage_offset_v: float | None = None

    @classmethod
    def of(cls, calibration: Calibration | None) -> CalibrationInfo:
        """The info for a result computed with ``calibration`` (or without one)."""
        if calibration is None:
            return cls(applied=False)
        return cls(True, calibration.apparent_efficiency, calibration.voltage_offset_v)


def calibrate(
    input_rows: Sequence[Row], output_rows: Sequence[Row], *, gap_s: float, align_s: float
) -> Calibration:
    """The calibration measured by a back-to-back run (raises CalibrationError if empty).

    The apparent efficiency is the windowed ΔE_out / ΔE_in (see :mod:`.energy`); the offset
    the mean of ``V_in − V_out`` over the buckets of ``align_s`` where both meters answered.
    """
    efficiency = pair_energy(input_rows, output_rows, gap_s).efficiency
    if efficiency is None or efficiency <= 0:
        raise CalibrationError("no energy went through both meters: nothing to calibrate")
    buckets = align(input_rows, output_rows, align_s)
    offsets = [b.voltage_in - b.voltage_out for b in buckets]
    if not offsets:
        raise CalibrationError(f"the meters never answered within the same {align_s} s")
    return Calibration(
        apparent_efficiency=efficiency,
        voltage_offset_v=sum(offsets) / len(offsets),
        sample_count=len(offsets),
    )
