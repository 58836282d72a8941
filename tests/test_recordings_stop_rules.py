"""Stop rules of a capacity or charge test: V below, I below for a while, duration, energy."""

from __future__ import annotations

import pytest

from tc66c_server.recordings.reasons import EndReason
from tc66c_server.recordings.stop_rules import Stop, StopRuleCheck, StopRuleError, StopRules

T0 = 1000.0


def test_no_rules_never_stop() -> None:
    check = StopRuleCheck(StopRules(), T0)
    assert StopRules().empty
    assert check.sample(T0 + 1e6, 0.0, 0.0, 1e6) is None


def test_voltage_below_stops_at_the_first_reading_below() -> None:
    check = StopRuleCheck(StopRules(voltage_below_v=3.0), T0)
    assert check.sample(T0 + 1, 3.7, 1.0, 0.1) is None
    assert check.sample(T0 + 2, 3.0, 1.0, 0.1) is None
    assert check.sample(T0 + 3, 2.99, 1.0, 0.1) == Stop(T0 + 3, EndReason.RULE_VOLTAGE)


def test_current_below_must_last_the_given_time() -> None:
    check = StopRuleCheck(StopRules(current_below_a=0.05, current_below_for_s=30), T0)
    assert check.sample(T0 + 10, 5.0, 0.04, 0.0) is None
    assert check.sample(T0 + 20, 5.0, 0.50, 0.0) is None  # back up: the wait starts again
    assert check.sample(T0 + 21, 5.0, 0.04, 0.0) is None
    assert check.sample(T0 + 50, 5.0, 0.04, 0.0) is None
    assert check.sample(T0 + 51, 5.0, 0.04, 0.0) == Stop(T0 + 51, EndReason.RULE_CURRENT)


def test_duration_ends_exactly_at_start_plus_duration_even_without_readings() -> None:
    check = StopRuleCheck(StopRules(duration_s=3600), T0)
    assert check.tick(T0 + 3599) is None
    assert check.tick(T0 + 3600.7) == Stop(T0 + 3600, EndReason.RULE_DURATION)


def test_energy_stops_at_the_reading_that_reaches_it() -> None:
    check = StopRuleCheck(StopRules(energy_wh=10), T0)
    assert check.sample(T0 + 5, 5.0, 2.0, 9.999) is None
    assert check.sample(T0 + 6, 5.0, 2.0, 10.0) == Stop(T0 + 6, EndReason.RULE_ENERGY)


def test_rules_round_trip_through_json() -> None:
    body = {"voltage_below_v": 3.2, "current_below_a": 0.05, "current_below_for_s": 30,
            "duration_s": 7200, "energy_wh": 12.5}  # fmt: skip
    rules = StopRules.from_json(body)
    assert rules.as_json() == body
    assert StopRules.from_json(None) == StopRules() == StopRules.from_json({})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1], "must be an object"),
        ({"volts": 3}, "unknown key 'volts'"),
        ({"voltage_below_v": "3"}, "voltage_below_v must be a number"),
        ({"voltage_below_v": True}, "voltage_below_v must be a number"),
        ({"voltage_below_v": -1}, "voltage_below_v must be > 0"),
        ({"energy_wh": float("nan")}, "energy_wh must be > 0"),
        ({"duration_s": 1e12}, "duration_s must be > 0 and <="),
        ({"current_below_for_s": 10}, "needs current_below_a"),
    ],
)
def test_bad_rules_are_refused_with_the_key_and_why(body: object, message: str) -> None:
    with pytest.raises(StopRuleError, match=message):
        StopRules.from_json(body)
