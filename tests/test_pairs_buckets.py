"""Aligned buckets of two meters: efficiency and loss series, their masks, cable mode."""

from __future__ import annotations

import pytest

from tc66c_server.pairs import (
    CABLE_MIN_SAMPLES,
    AlignedBucket,
    align,
    cable_resistance,
    efficiency_series,
    loss_series,
    near_load_step,
)
from tc66c_server.pairs.series import is_load_step

from .storehelpers import T0


def bucket(
    ts: float,
    power_in: float,
    power_out: float,
    *,
    width_s: float = 1.0,
    voltage_in: float = 5.0,
    voltage_out: float = 5.0,
    current_in: float = 1.0,
    current_out: float = 1.0,
) -> AlignedBucket:
    return AlignedBucket(
        ts, width_s, 1, 1, voltage_in, current_in, power_in, voltage_out, current_out, power_out
    )


def steady(powers_in: list[float], width_s: float = 1.0) -> list[AlignedBucket]:
    """Buckets from T0 with these input powers and 90 % of them out."""
    return [bucket(T0 + k * width_s, p, 0.9 * p, width_s=width_s) for k, p in enumerate(powers_in)]


# -- alignment --------------------------------------------------------------------------


def test_buckets_average_each_meter_and_skip_buckets_with_one_meter() -> None:
    inp = [(T0 + 0.1, 5.0, 1.0, 5.0), (T0 + 0.6, 5.2, 1.2, 6.24), (T0 + 2.5, 5.0, 1.0, 5.0)]
    out = [(T0 + 0.4, 4.9, 1.0, 4.9), (T0 + 1.5, 4.9, 1.0, 4.9), (T0 + 2.9, 4.8, 2.0, 9.6)]
    buckets = align(inp, out, 1.0)
    assert [b.ts for b in buckets] == [T0, T0 + 2]  # T0 + 1 only has the output meter
    first = buckets[0]
    assert (first.count_in, first.count_out, first.width_s) == (2, 1, 1.0)
    assert first.voltage_in == pytest.approx(5.1)
    assert first.current_in == pytest.approx(1.1)
    assert first.power_in == pytest.approx(5.62)
    assert (first.voltage_out, first.power_out) == (4.9, 4.9)
    assert buckets[1].current == pytest.approx(1.5)  # the mean of both meters' currents


def test_a_sample_on_a_boundary_belongs_to_the_later_bucket() -> None:
    inp = [(T0 + 0.5, 5.0, 1.0, 5.0), (T0 + 1.0, 6.0, 1.0, 6.0)]
    out = [(T0 + 0.7, 5.0, 1.0, 5.0), (T0 + 1.2, 5.0, 1.0, 5.0)]
    buckets = align(inp, out, 0.5)
    assert [(b.ts, b.power_in) for b in buckets] == [(T0 + 0.5, 5.0), (T0 + 1.0, 6.0)]


def test_a_bucket_width_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        align([], [], 0.0)


# -- efficiency and loss ----------------------------------------------------------------


def test_efficiency_is_hidden_below_the_input_power_floor() -> None:
    assert efficiency_series(steady([0.4, 0.5, 0.6])) == [
        None,
        pytest.approx(0.9),
        pytest.approx(0.9),
    ]


def test_load_step_thresholds_are_relative_and_absolute() -> None:
    assert not is_load_step(10.0, 10.9)  # 9 %: ripple, not a step
    assert is_load_step(10.0, 11.2)
    assert is_load_step(11.2, 10.0)  # steps down count too
    assert not is_load_step(1.0, 1.4)  # 40 % but only 0.4 W
    assert is_load_step(1.0, 1.6)


def test_efficiency_is_hidden_within_one_second_of_a_load_step() -> None:
    series = efficiency_series(steady([10, 10, 10, 20, 20, 20, 20]))
    # The step is at T0 + 3: buckets touching [T0 + 2, T0 + 4) are within 1 s of it.
    assert [e is None for e in series] == [False, False, True, True, False, False, False]


def test_the_load_step_mask_spans_a_second_either_side_with_fine_buckets() -> None:
    powers = [10.0] * 12 + [20.0] * 12  # 0.25 s buckets: the step is at T0 + 3
    hidden = near_load_step(steady(powers, width_s=0.25))
    masked = [T0 + k * 0.25 for k, h in enumerate(hidden) if h]
    assert masked == [T0 + 2 + k * 0.25 for k in range(8)]  # [T0 + 2, T0 + 4)


def test_a_step_across_missing_buckets_masks_both_sides() -> None:
    buckets = [bucket(T0, 10, 9), bucket(T0 + 5, 30, 27), bucket(T0 + 6.5, 30, 27)]
    assert near_load_step(buckets) == [True, True, False]


def test_shown_efficiency_is_divided_by_the_apparent_efficiency() -> None:
    assert efficiency_series(steady([10.0]), apparent_efficiency=0.99) == [
        pytest.approx(0.9 / 0.99)
    ]


def test_loss_is_shown_everywhere_and_corrected_like_efficiency() -> None:
    buckets = steady([0.2, 10, 20])
    assert loss_series(buckets) == pytest.approx([0.02, 1.0, 2.0])
    assert loss_series(buckets, apparent_efficiency=0.9) == pytest.approx([0, 0, 0])


# -- cable mode -------------------------------------------------------------------------


def cable_bucket(
    k: int, amps_in: float, amps_out: float, drop_v: float, volts: float = 5.0
) -> AlignedBucket:
    return bucket(
        T0 + k,
        volts * amps_in,
        (volts - drop_v) * amps_out,
        voltage_in=volts,
        voltage_out=volts - drop_v,
        current_in=amps_in,
        current_out=amps_out,
    )


def test_resistance_is_the_drop_over_the_mean_of_both_currents() -> None:
    buckets = [
        cable_bucket(0, 1.0, 1.02, 0.2525),  # I = 1.01 A
        cable_bucket(1, 1.05, 1.05, 0.2625),
        cable_bucket(2, 1.1, 1.1, 0.33),
    ]
    result = cable_resistance(buckets)
    assert result is not None
    assert result.ohm == pytest.approx((0.25 + 0.25 + 0.3) / 3)
    assert result.samples_used == 3


def test_buckets_below_the_current_threshold_do_not_count() -> None:
    buckets = [cable_bucket(k, 1.0, 1.0, 0.25) for k in range(3)]
    # The same 5 W (no load step), but at 0.3 A: its 1.7 Ω is left out.
    buckets += [cable_bucket(3, 0.3, 0.3, 0.5, volts=5.0 / 0.3)]
    result = cable_resistance(buckets)
    assert result is not None
    assert (result.ohm, result.samples_used) == (pytest.approx(0.25), 3)
    lenient = cable_resistance(buckets, min_current_a=0.2)
    assert lenient is not None
    assert (lenient.ohm, lenient.samples_used) == (pytest.approx((0.75 + 0.5 / 0.3) / 4), 4)
    assert cable_resistance(buckets, min_current_a=2.0) is None


def test_too_little_current_gives_no_resistance() -> None:
    assert cable_resistance([cable_bucket(k, 0.49, 0.49, 0.1) for k in range(50)]) is None
    few = [cable_bucket(k, 1.0, 1.0, 0.25) for k in range(CABLE_MIN_SAMPLES - 1)]
    assert cable_resistance(few) is None
    assert cable_resistance([]) is None


def test_the_calibrated_voltage_offset_is_subtracted_before_dividing() -> None:
    buckets = [cable_bucket(k, 2.0, 2.0, 0.506) for k in range(3)]
    result = cable_resistance(buckets, voltage_offset_v=0.006)
    assert result is not None
    assert result.ohm == pytest.approx(0.25)


def test_buckets_near_a_load_step_do_not_count_for_resistance() -> None:
    buckets = [cable_bucket(k, 1.0, 1.0, 0.25) for k in range(4)]
    # The step: the input meter sees 3 A, the output still 1 A, a bogus 0.48 Ω...
    buckets += [cable_bucket(4, 3.0, 1.0, 0.96)]
    buckets += [cable_bucket(k, 3.0, 3.0, 0.75) for k in range(5, 9)]
    result = cable_resistance(buckets)
    assert result is not None
    assert result.ohm == pytest.approx(0.25)
    assert result.samples_used == 7  # the buckets either side of the step are masked


def test_a_cable_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="min_current_a"):
        cable_resistance([], min_current_a=0)
