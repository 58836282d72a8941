"""Server-integrated energy and charge: trapezoids between samples, never across a gap."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tc66c_server.energy import EnergyTotals, accumulate
from tc66c_server.reading import Reading, Sample

BASE = Reading("TC66", "1.14", 12345, 1, 5.0, 1.0, 5.0, 5.0, 0, 0, 0, 0, 25, 0.6, 0.6)


def sample(ts: float, current: float, power: float) -> Sample:
    return Sample(ts, replace(BASE, current=current, power=power))


def run(samples: list[Sample], gap_s: float = 2.0) -> EnergyTotals:
    totals = EnergyTotals()
    for s in samples:
        totals = accumulate(totals, s, gap_s)
    return totals


def test_the_first_sample_adds_nothing() -> None:
    totals = run([sample(100.0, 1.0, 5.0)])
    assert (totals.joules, totals.coulombs) == (0.0, 0.0)


def test_consecutive_samples_add_the_trapezoid_of_power_and_current() -> None:
    totals = run([sample(100.0, 1.0, 5.0), sample(101.0, 2.0, 10.0), sample(101.5, 2.0, 10.0)])
    assert totals.joules == pytest.approx(7.5 + 5.0)
    assert totals.coulombs == pytest.approx(1.5 + 1.0)
    assert totals.energy_wh == pytest.approx(12.5 / 3600)
    assert totals.charge_mah == pytest.approx(2.5 / 3.6)


def test_a_step_longer_than_the_gap_adds_nothing_and_the_next_starts_after_it() -> None:
    totals = run([sample(100.0, 1.0, 5.0), sample(103.0, 1.0, 5.0), sample(104.0, 1.0, 5.0)])
    assert totals.joules == pytest.approx(5.0)  # only 103 -> 104
    assert totals.coulombs == pytest.approx(1.0)


def test_a_step_of_exactly_the_gap_counts() -> None:
    assert run([sample(100.0, 1.0, 5.0), sample(102.0, 1.0, 5.0)]).joules == pytest.approx(10.0)


def test_time_going_backwards_adds_nothing() -> None:
    totals = run([sample(100.0, 1.0, 5.0), sample(99.0, 1.0, 5.0), sample(100.0, 1.0, 5.0)])
    assert totals.joules == pytest.approx(5.0)  # only 99 -> 100


@given(
    st.lists(
        st.tuples(
            st.floats(-5, 5, allow_nan=False),
            st.floats(0, 5, allow_nan=False),
            st.floats(0, 100, allow_nan=False),
        ),
        max_size=50,
    )
)
def test_the_totals_never_decrease(steps: list[tuple[float, float, float]]) -> None:
    totals, ts = EnergyTotals(), 1000.0
    for dt, current, power in steps:
        ts += dt
        after = accumulate(totals, sample(ts, current, power), 2.0)
        assert after.joules >= totals.joules and after.coulombs >= totals.coulombs
        totals = after
