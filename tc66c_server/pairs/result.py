"""A pair's result over a window: everything ``GET /api/pairs/{id}/{period}`` returns.

Windowed figures (efficiency, energies, average loss) come from each meter's own samples
(:mod:`.energy`); the cable resistance and ``sample_count`` from buckets of ``align_s``
(the polling interval) where both meters answered; the ``data`` series from aligned
buckets of the data endpoint's width for ``max_points`` (never narrower than ``align_s``,
so both meters land in most buckets), or of ``align_s`` without ``max_points``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..store.buckets import LADDER_S, bucket_width_s
from .align import Row, align
from .cable import CABLE_MIN_CURRENT_A, cable_resistance
from .calibration import Calibration, CalibrationInfo
from .energy import S_PER_H, pair_energy
from .series import efficiency_series, loss_series

#: Decimals of the ratios and powers returned (one beyond the meter's 0.1 mW resolution).
RATIO_DECIMALS = 5
POWER_DECIMALS = 5
ENERGY_DECIMALS = 6  # as the store's stats


@dataclass(frozen=True, slots=True)
class PairPoint:
    """One aligned bucket: mean powers (W), efficiency (``None`` where hidden), loss (W)."""

    timestamp: float  # bucket start, Unix s
    power_in: float
    power_out: float
    efficiency: float | None
    loss_w: float


@dataclass(frozen=True, slots=True)
class PairResult:
    """A pair over a window; ``None`` where a figure cannot be measured.

    ``efficiency`` is the windowed ΔE_out / ΔE_in; ``loss_w`` the average power lost;
    ``cable_resistance_ohm`` None without enough current; ``sample_count`` the aligned
    buckets of ``align_s`` where both meters answered; ``bucket_seconds`` the width of the
    ``data`` buckets.
    """

    efficiency: float | None
    energy_in_wh: float
    energy_out_wh: float
    loss_w: float | None
    cable_resistance_ohm: float | None
    sample_count: int
    bucket_seconds: float
    data: tuple[PairPoint, ...]
    calibration: CalibrationInfo


def data_width_s(start_ts: float, end_ts: float, max_points: int, align_s: float) -> float:
    """The data endpoint's bucket width for ``max_points``, widened to at least ``align_s``."""
    width = bucket_width_s(start_ts, end_ts, max_points)
    if width >= align_s:
        return float(width)
    wider = [w for w in LADDER_S if w >= align_s]
    if wider:
        return float(wider[0])
    width = LADDER_S[-1]
    while width < align_s:
        width *= 2
    return float(width)


def _round(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


def pair_result(
    input_rows: Sequence[Row],
    output_rows: Sequence[Row],
    *,
    start_ts: float,
    end_ts: float,
    gap_s: float,
    align_s: float,
    max_points: int | None = None,
    calibration: Calibration | None = None,
    min_current_a: float = CABLE_MIN_CURRENT_A,
) -> PairResult:
    """The pair's figures over the window ``start_ts..end_ts`` (see the module doc).

    ``input_rows`` and ``output_rows`` are the window's samples of each meter in time order,
    as ``SampleStore.range(start_ts, end_ts)`` returns them. ``gap_s`` is the store's gap
    threshold; ``align_s`` the polling interval (the larger of the two meters').
    """
    apparent = calibration.apparent_efficiency if calibration else 1.0
    offset_v = calibration.voltage_offset_v if calibration else 0.0
    energy = pair_energy(input_rows, output_rows, gap_s)
    efficiency = energy.efficiency
    loss_w = None
    if energy.duration_s > 0:
        lost_wh = energy.energy_in_wh - energy.energy_out_wh / apparent
        loss_w = lost_wh * S_PER_H / energy.duration_s
    fine = align(input_rows, output_rows, align_s)
    cable = cable_resistance(fine, min_current_a=min_current_a, voltage_offset_v=offset_v)
    width_s = align_s
    if max_points is not None:
        width_s = data_width_s(start_ts, end_ts, max_points, align_s)
    buckets = fine if width_s == align_s else align(input_rows, output_rows, width_s)
    points = tuple(
        PairPoint(
            timestamp=b.ts,
            power_in=round(b.power_in, POWER_DECIMALS),
            power_out=round(b.power_out, POWER_DECIMALS),
            efficiency=_round(e, RATIO_DECIMALS),
            loss_w=round(loss, POWER_DECIMALS),
        )
        for b, e, loss in zip(
            buckets,
            efficiency_series(buckets, apparent),
            loss_series(buckets, apparent),
            strict=True,
        )
    )
    return PairResult(
        efficiency=_round(None if efficiency is None else efficiency / apparent, RATIO_DECIMALS),
        energy_in_wh=round(energy.energy_in_wh, ENERGY_DECIMALS),
        energy_out_wh=round(energy.energy_out_wh, ENERGY_DECIMALS),
        loss_w=_round(loss_w, POWER_DECIMALS),
        cable_resistance_ohm=_round(cable.ohm if cable else None, RATIO_DECIMALS),
        sample_count=len(fine),
        bucket_seconds=width_s,
        data=points,
        calibration=CalibrationInfo.of(calibration),
    )
