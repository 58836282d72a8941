"""The output meter's models, its readings, the served-values log and the pair's clock."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tc66c_server import protocol
from tc66c_server import quantities as q
from tc66c_server.emulator import BenchSession
from tc66c_server.emulator.converter import CableModel, ConverterModel, FollowerSession
from tc66c_server.emulator.pair import EmulatorPair, PairClock
from tc66c_server.emulator.source import LoggedSource

#: Times across the whole scene: idle, 5/9/12/20 V, the load step, the taper.
TIMES = [t / 4 for t in range(0, 4 * 180, 7)]


def at_resolution(quantity: q.Quantity, value: float) -> bool:
    return quantity.from_raw(quantity.to_raw(value)) == value


def test_converter_efficiency_rises_smoothly_from_80_to_92_percent() -> None:
    model = ConverterModel()
    curve = [model.efficiency(p / 10) for p in range(0, 1000)]  # 0 to 100 W
    assert curve[0] == pytest.approx(0.80)
    assert min(curve) >= 0.80 and max(curve) <= 0.92
    assert curve[-1] > 0.919
    assert all(b > a for a, b in itertools.pairwise(curve))
    assert max(b - a for a, b in itertools.pairwise(curve)) < 0.002  # no jumps


def test_converter_output_steps_the_voltage_down_and_carries_p_in_times_efficiency() -> None:
    model = ConverterModel()
    for volts, amps in ((9.0, 2.0), (12.0, 1.5), (20.0, 2.9), (5.1, 0.02)):
        v_out, i_out = model.output(volts, amps, volts * amps)
        assert 0.59 * volts < v_out <= 0.6 * volts
        assert i_out < 5.0  # the TC66C's range
        assert v_out * i_out == pytest.approx(volts * amps * model.efficiency(volts * amps))


def test_a_regulated_converter_holds_its_output_voltage() -> None:
    model = ConverterModel(output_v=5.0)
    for volts in (9.0, 12.0, 20.0):
        v_out, i_out = model.output(volts, 1.0, volts)
        assert 4.9 < v_out <= 5.0
        assert v_out * i_out == pytest.approx(volts * model.efficiency(volts))


def test_cable_drops_i_times_r_and_keeps_the_current() -> None:
    assert CableModel(0.25).output(5.0, 2.0, 10.0) == (4.5, 2.0)


@pytest.mark.parametrize("model", [ConverterModel(), CableModel()], ids=["converter", "cable"])
def test_output_readings_follow_the_input_at_the_same_instant(
    model: ConverterModel | CableModel,
) -> None:
    upstream = BenchSession(seed=3)
    follower = FollowerSession(upstream, model, seed=4)
    for t in TIMES:
        inp, out = upstream.reading_at(t), follower.reading_at(t)
        volts, amps = model.output(inp.voltage, inp.current, inp.power)
        assert out.voltage == pytest.approx(volts, abs=0.00005)
        assert out.current == pytest.approx(amps, abs=0.000005)
        assert at_resolution(q.VOLTAGE, out.voltage) and at_resolution(q.CURRENT, out.current)
        assert out.power == q.POWER.from_raw(q.POWER.to_raw(out.voltage * out.current))
        assert protocol.decode_packet(protocol.encode_packet(out)) == out  # valid on the wire


def test_the_cable_current_is_the_same_at_both_ends() -> None:
    upstream = BenchSession(seed=3)
    follower = FollowerSession(upstream, CableModel(0.25))
    assert all(follower.reading_at(t).current == upstream.reading_at(t).current for t in TIMES)


def test_the_output_meter_has_its_own_identity() -> None:
    upstream = BenchSession(seed=3)
    out = FollowerSession(upstream, ConverterModel(), seed=4).reading_at(70.0)
    assert out.serial == BenchSession(seed=4).serial != upstream.serial


def test_a_logged_source_keeps_what_it_served_in_order_and_bounded() -> None:
    session = BenchSession(seed=3)
    log = LoggedSource(session, size=3)
    readings = [log.reading_at(t) for t in (1.0, 2.0, 3.0, 4.0)]
    assert readings == [session.reading_at(t) for t in (1.0, 2.0, 3.0, 4.0)]
    assert [(s.t_s, s.reading) for s in log.served()] == list(
        zip((2.0, 3.0, 4.0), readings[1:], strict=True)
    )
    log.clear()
    assert log.served() == []


def test_the_pair_clock_holds_one_origin_until_released() -> None:
    now = iter([100.0, 130.0, 131.0])
    clock = PairClock(lambda: next(now), start_s=25.0)
    assert clock() == clock() == 75.0  # meters created now share this origin
    assert clock.origin == 75.0
    clock.release()
    assert clock() == 130.0  # 55 s into the session, as a meter made while held counts


def test_both_meters_of_a_pair_share_one_session_time(tmp_path: Path) -> None:
    now = [1000.0]
    pair = EmulatorPair(
        tmp_path / "in", tmp_path / "out", CableModel(), start_s=30.0, clock=lambda: now[0]
    )
    now[0] += 12.5
    assert pair.input.meter.elapsed_s() == pair.output.meter.elapsed_s() == 42.5
    assert pair.session_time(now[0]) == 42.5
    assert pair.input.meter.handle("getva") is not None
    assert pair.output.meter.handle("getva") is not None
    (inp,), (out,) = pair.input_log.served(), pair.output_log.served()
    assert inp.t_s == out.t_s == 42.5
    assert out.reading == pair.output_session.reading_at(42.5)
    assert out.reading.voltage == pytest.approx(
        inp.reading.voltage - 0.25 * inp.reading.current, abs=0.00005
    )
