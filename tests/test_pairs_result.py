"""A pair's whole result over a window, and calibration from a back-to-back run."""

from __future__ import annotations

import dataclasses

import pytest

from tc66c_server.pairs import (
    Calibration,
    CalibrationError,
    CalibrationInfo,
    PairPoint,
    PairResult,
    calibrate,
    data_width_s,
    pair_result,
)

from .storehelpers import T0

Rows = list[tuple[float, ...]]


def meter(volts: float, amps: float, watts: float, *, phase_s: float = 0.0, n: int = 60) -> Rows:
    """One sample a second for ``n`` s from ``T0 + phase_s``, all the same."""
    return [(T0 + k + phase_s, volts, amps, watts) for k in range(n)]


def converter() -> tuple[Rows, Rows]:
    """12 V, 1 A in; 5 V, 2.16 A (90 %) out, read 0.3 s later."""
    return meter(12.0, 1.0, 12.0), meter(5.0, 2.16, 10.8, phase_s=0.3)


def test_a_converter_window_gives_every_field_of_the_api() -> None:
    inp, out = converter()
    result = pair_result(inp, out, start_ts=T0, end_ts=T0 + 60, gap_s=2.0, align_s=1.0)
    assert [f.name for f in dataclasses.fields(PairResult)] == [
        "efficiency",
        "energy_in_wh",
        "energy_out_wh",
        "loss_w",
        "cable_resistance_ohm",
        "sample_count",
        "bucket_seconds",
        "data",
        "calibration",
    ]
    assert result.efficiency == 0.9
    covered_s = 59 - 0.3  # both meters answer from T0 + 0.3 to T0 + 59
    assert result.energy_in_wh == round(12 * covered_s / 3600, 6)
    assert result.energy_out_wh == round(10.8 * covered_s / 3600, 6)
    assert result.loss_w == pytest.approx(1.2)
    assert result.sample_count == 60
    assert result.bucket_seconds == 1.0
    assert len(result.data) == 60
    assert result.data[0] == PairPoint(T0, 12.0, 10.8, 0.9, 1.2)
    assert result.calibration == CalibrationInfo(applied=False)


def test_max_points_buckets_the_series_like_the_data_endpoint() -> None:
    inp, out = converter()
    result = pair_result(
        inp, out, start_ts=T0, end_ts=T0 + 60, gap_s=2.0, align_s=1.0, max_points=10
    )
    assert result.bucket_seconds == 10.0  # the first ladder width with <= 10 buckets
    assert [p.timestamp for p in result.data] == [T0 + 10 * k for k in range(6)]
    assert all(p.efficiency == 0.9 for p in result.data)
    assert result.sample_count == 60  # still counted at the polling interval
    assert result.efficiency == 0.9


def test_data_buckets_are_never_narrower_than_the_polling_interval() -> None:
    assert data_width_s(T0, T0 + 60, 1000, align_s=0.1) == 1.0
    assert data_width_s(T0, T0 + 60, 1000, align_s=2.5) == 5.0
    assert data_width_s(T0, T0 + 60, 1000, align_s=100_000) == 172_800.0


def test_a_window_without_common_samples_measures_nothing() -> None:
    inp, _ = converter()
    out = meter(5.0, 2.16, 10.8, phase_s=500)
    result = pair_result(inp, out, start_ts=T0, end_ts=T0 + 600, gap_s=2.0, align_s=1.0)
    assert result.efficiency is None
    assert result.loss_w is None
    assert result.cable_resistance_ohm is None
    assert (result.energy_in_wh, result.energy_out_wh, result.sample_count) == (0, 0, 0)
    assert result.data == ()


def test_cable_resistance_is_returned_with_enough_current_only() -> None:
    inp, out = meter(5.0, 2.0, 10.0), meter(4.5, 2.0, 9.0, phase_s=0.3)
    result = pair_result(inp, out, start_ts=T0, end_ts=T0 + 60, gap_s=2.0, align_s=1.0)
    assert result.cable_resistance_ohm == 0.25
    inp, out = meter(5.0, 0.2, 1.0), meter(4.95, 0.2, 0.99, phase_s=0.3)
    result = pair_result(inp, out, start_ts=T0, end_ts=T0 + 60, gap_s=2.0, align_s=1.0)
    assert result.cable_resistance_ohm is None
    assert result.efficiency == 0.99


# -- calibration ------------------------------------------------------------------------


def back_to_back() -> tuple[Rows, Rows]:
    """Nothing between the meters: the output one reads 1 % low in power and 6 mV low."""
    return meter(5.0, 2.0, 10.0), meter(4.994, 2.0, 9.9, phase_s=0.3)


def test_a_back_to_back_run_measures_apparent_efficiency_and_offset() -> None:
    calibration = calibrate(*back_to_back(), gap_s=2.0, align_s=1.0)
    assert calibration.apparent_efficiency == pytest.approx(0.99)
    assert calibration.voltage_offset_v == pytest.approx(0.006)
    assert calibration.sample_count == 60


def test_calibration_is_applied_to_later_results_and_says_so() -> None:
    calibration = calibrate(*back_to_back(), gap_s=2.0, align_s=1.0)
    # A 0.25 Ω cable at 2 A through the same meters: 4.5 V and 9 W really come out.
    inp, out = meter(5.0, 2.0, 10.0), meter(4.494, 2.0, 8.91, phase_s=0.3)
    raw = pair_result(inp, out, start_ts=T0, end_ts=T0 + 60, gap_s=2.0, align_s=1.0)
    fixed = pair_result(
        inp, out, start_ts=T0, end_ts=T0 + 60, gap_s=2.0, align_s=1.0, calibration=calibration
    )
    assert (raw.efficiency, raw.cable_resistance_ohm) == (0.891, 0.253)
    assert (fixed.efficiency, fixed.cable_resistance_ohm) == (0.9, 0.25)
    assert fixed.loss_w == pytest.approx(1.0)
    assert fixed.data[0].efficiency == 0.9
    assert fixed.data[0].loss_w == pytest.approx(1.0)
    assert (fixed.energy_in_wh, fixed.energy_out_wh) == (raw.energy_in_wh, raw.energy_out_wh)
    assert fixed.calibration == CalibrationInfo(
        True, calibration.apparent_efficiency, calibration.voltage_offset_v
    )


def test_calibrating_without_common_data_is_an_error() -> None:
    inp, _ = back_to_back()
    with pytest.raises(CalibrationError, match="nothing to calibrate"):
        calibrate(inp, meter(4.994, 2.0, 9.9, phase_s=500), gap_s=2.0, align_s=1.0)
    with pytest.raises(CalibrationError, match="same"):
        calibrate(inp, meter(4.994, 2.0, 9.9, phase_s=0.3), gap_s=2.0, align_s=0.1)


def test_a_calibration_needs_a_positive_apparent_efficiency() -> None:
    with pytest.raises(ValueError, match="apparent_efficiency"):
        Calibration(apparent_efficiency=0.0, voltage_offset_v=0.0, sample_count=1)
