"""The simulated bench session: reproducible, plausible, and valid on the wire."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc66c_server import protocol
from tc66c_server.emulator.signal import CYCLE_S, MAX_RESISTANCE_OHM, BenchSession
from tc66c_server.reading import Reading

# Two whole cycles at a poller-like 0.25 s step.
TIMES = [n * 0.25 for n in range(int(2 * CYCLE_S / 0.25))]


@pytest.fixture(scope="module")
def readings() -> list[Reading]:
    session = BenchSession(seed=7)
    return [session.reading_at(t) for t in TIMES]


def test_same_seed_and_times_give_identical_readings() -> None:
    a, b = BenchSession(seed=3), BenchSession(seed=3)
    assert [a.reading_at(t) for t in TIMES[::7]] == [b.reading_at(t) for t in TIMES[::7]]


def test_different_seeds_give_different_sessions() -> None:
    a, b = BenchSession(seed=1), BenchSession(seed=2)
    assert (a.serial, a.runs) != (b.serial, b.runs)
    assert sum(a.reading_at(t) != b.reading_at(t) for t in TIMES[::20]) == len(TIMES[::20])


def test_reading_does_not_depend_on_the_order_times_are_asked() -> None:
    forward = BenchSession(seed=5)
    backward = BenchSession(seed=5)
    times = TIMES[::13]
    ahead = [forward.reading_at(t) for t in times]
    behind = [backward.reading_at(t) for t in reversed(times)]
    assert ahead == behind[::-1]


def test_identity_is_constant_for_the_whole_session(readings: list[Reading]) -> None:
    identities = {
        (r.product, r.firmware, r.serial, r.runs, r.group1_mah, r.group1_mwh) for r in readings
    }
    assert len(identities) == 1
    product, firmware, *_ = identities.pop()
    assert (product, firmware) == ("TC66", "1.18")


def test_readings_stay_in_plausible_ranges(readings: list[Reading]) -> None:
    for r in readings:
        assert 4.5 <= r.voltage <= 21.0
        assert 0.0 <= r.current <= 3.6
        assert 20 <= r.temperature <= 45
        assert 0.0 <= r.d_plus <= 3.3 and 0.0 <= r.d_minus <= 3.3


def test_power_is_voltage_times_current_at_device_resolution(readings: list[Reading]) -> None:
    for r in readings:
        assert r.power == pytest.approx(r.voltage * r.current, abs=0.5e-4 + 1e-9)
        assert round(r.power, 4) == r.power


def test_resistance_is_v_over_i_or_capped_near_zero_current(readings: list[Reading]) -> None:
    for r in readings:
        if r.resistance == MAX_RESISTANCE_OHM:
            assert r.voltage / MAX_RESISTANCE_OHM >= r.current
        else:
            assert r.resistance == pytest.approx(r.voltage / r.current, abs=0.05 + 1e-9)


def test_session_climbs_through_every_pd_level_and_back(readings: list[Reading]) -> None:
    levels = {round(r.voltage) for r in readings}
    assert {5, 9, 12, 20} <= levels
    assert readings[-1].voltage == pytest.approx(5.1, abs=0.1)


def test_renegotiation_briefly_drops_the_current() -> None:
    session = BenchSession(seed=1)
    before, during = session.reading_at(59.0), session.reading_at(60.4)
    assert before.current > 1.5
    assert during.current < 0.1


def test_load_step_multiplies_the_current_at_20v() -> None:
    session = BenchSession(seed=1)
    assert session.reading_at(106.0).current > 2 * session.reading_at(104.0).current


def test_data_lines_are_apple_style_idle_and_low_once_negotiated() -> None:
    session = BenchSession(seed=1)
    idle, charging = session.reading_at(10.0), session.reading_at(70.0)
    assert 2.69 <= idle.d_plus <= 2.82 and 2.69 <= idle.d_minus <= 2.82
    assert charging.d_plus == pytest.approx(0.6, abs=0.011)
    assert charging.d_minus == pytest.approx(0.6, abs=0.011)


def test_energy_counters_never_decrease(readings: list[Reading]) -> None:
    for before, after in itertools.pairwise(readings):
        assert after.group0_mah >= before.group0_mah
        assert after.group0_mwh >= before.group0_mwh


def test_energy_counters_integrate_current_and_power(readings: list[Reading]) -> None:
    step_s = TIMES[1] - TIMES[0]
    mah = sum(r.current for r in readings) * step_s / 3.6
    mwh = sum(r.power for r in readings) * step_s / 3.6
    gained_mah = readings[-1].group0_mah - readings[0].group0_mah
    gained_mwh = readings[-1].group0_mwh - readings[0].group0_mwh
    assert gained_mah == pytest.approx(mah, rel=0.03)
    assert gained_mwh == pytest.approx(mwh, rel=0.03)


def test_temperature_rises_under_load_and_cools_after() -> None:
    session = BenchSession(seed=1)
    idle, loaded = session.reading_at(CYCLE_S + 20), session.reading_at(CYCLE_S + 125)
    assert loaded.temperature >= idle.temperature + 5
    assert session.reading_at(CYCLE_S + 178).temperature < loaded.temperature


def test_long_sessions_stay_finite_and_in_range() -> None:
    session = BenchSession(seed=1)
    week = session.reading_at(7 * 24 * 3600.0 + 110.0)
    assert 19.0 <= week.voltage <= 21.0
    assert math.isfinite(week.power)
    assert week.group0_mah > 100_000


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(min_value=-(2**40), max_value=2**40),
    t_s=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
)
def test_every_reading_encodes_and_decodes_unchanged(seed: int, t_s: float) -> None:
    reading = BenchSession(seed).reading_at(t_s)
    assert protocol.decode_packet(protocol.encode_packet(reading)) == reading
