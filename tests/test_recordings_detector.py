"""Auto-record: start at the threshold, end when it fell below (confirmed), gone, resumed."""

from __future__ import annotations

import pytest

from tc66c_server.recordings.detector import (
    AutoRecordDetector,
    DetectorSettings,
    Ended,
    Event,
    Resumed,
    Started,
)
from tc66c_server.recordings.reasons import EndReason


def run(detector: AutoRecordDetector, currents: list[tuple[float, float]]) -> list[Event]:
    events: list[Event] = []
    for ts, amps in currents:
        events.extend(detector.sample(ts, amps))
    return events


def test_the_start_is_the_first_reading_at_the_threshold() -> None:
    detector = AutoRecordDetector()
    events = run(detector, [(0, 0.05), (1, 0.0999), (2, 0.10), (3, 0.5)])
    assert events == [Started(2)]
    assert detector.recording


def test_the_end_is_the_moment_the_current_fell_confirmed_after_the_delay() -> None:
    detector = AutoRecordDetector(DetectorSettings(end_delay_s=60))
    events = run(detector, [(0, 1.0), (10, 1.0), (11, 0.02)])
    events += run(detector, [(11 + k, 0.02) for k in range(1, 60)])
    assert events == [Started(0)]  # 59 s below: not yet
    assert detector.sample(71, 0.02) == [Ended(11, EndReason.CURRENT_BELOW_THRESHOLD)]
    assert not detector.recording


def test_a_short_drop_below_the_threshold_does_not_end_the_recording() -> None:
    # A PD renegotiation releases the load for half a second.
    detector = AutoRecordDetector(DetectorSettings(end_delay_s=5))
    events = run(detector, [(0, 1.0), (1, 0.01), (1.5, 0.01), (2, 1.2), (6, 1.2), (10, 1.2)])
    assert events == [Started(0)]


def test_the_clock_alone_confirms_an_end_when_no_reading_comes() -> None:
    detector = AutoRecordDetector(DetectorSettings(end_delay_s=60))
    run(detector, [(0, 1.0), (5, 0.0)])
    assert detector.tick(64) == []
    assert detector.tick(65) == [Ended(5, EndReason.CURRENT_BELOW_THRESHOLD)]


def test_a_meter_gone_for_the_delay_ends_the_recording_at_its_last_reading() -> None:
    detector = AutoRecordDetector(DetectorSettings(end_delay_s=60))
    run(detector, [(0, 1.0), (20, 1.0)])
    assert detector.tick(79) == []
    assert detector.tick(80) == [Ended(20, EndReason.METER_GONE)]


def test_readings_after_a_long_silence_end_the_old_recording_and_start_a_new_one() -> None:
    detector = AutoRecordDetector(DetectorSettings(end_delay_s=60))
    events = run(detector, [(0, 1.0), (20, 1.0), (500, 1.0)])
    assert events == [Started(0), Ended(20, EndReason.METER_GONE), Started(500)]


def test_a_restart_resumes_the_open_recording_when_readings_return_within_15_minutes() -> None:
    detector = AutoRecordDetector(open_since=100.0, last_seen_ts=1000.0)
    assert detector.recording
    assert detector.tick(1000 + 899) == []
    assert detector.sample(1000 + 899, 1.2) == [Resumed(1899)]
    assert detector.started_ts == 100.0
    assert detector.sample(1900, 1.2) == []


def test_a_restart_after_more_than_15_minutes_closes_the_recording_as_interrupted() -> None:
    detector = AutoRecordDetector(open_since=100.0, last_seen_ts=1000.0)
    events = detector.sample(1000 + 901, 1.2)
    assert events == [Ended(1000, EndReason.INTERRUPTED), Started(1901)]


def test_the_clock_alone_closes_an_unresumed_recording_after_15_minutes() -> None:
    detector = AutoRecordDetector(open_since=100.0, last_seen_ts=1000.0)
    assert detector.tick(1900) == []
    assert detector.tick(1900.5) == [Ended(1000, EndReason.INTERRUPTED)]
    assert not detector.recording


def test_a_recording_stopped_by_hand_waits_for_the_current_to_fall_before_rearming() -> None:
    detector = AutoRecordDetector(DetectorSettings(end_delay_s=5))
    run(detector, [(0, 1.0)])
    detector.stopped_outside()
    assert run(detector, [(1, 1.0), (2, 1.0)]) == []
    assert run(detector, [(3, 0.0), (4, 1.0)]) == [Started(4)]


@pytest.mark.parametrize(
    ("threshold", "delay"), [(0.0, 60.0), (-1.0, 60.0), (11.0, 60.0), (0.1, 0.0), (0.1, -5.0)]
)
def test_settings_out_of_range_are_refused_with_the_config_key(
    threshold: float, delay: float
) -> None:
    with pytest.raises(ValueError, match="auto_record_"):
        DetectorSettings(threshold_a=threshold, end_delay_s=delay)
