"""One meter's recordings fed sample by sample: the auto recording of a charge, stop rules,
manual recordings and what a restart leaves open."""

from __future__ import annotations

import pytest

from tc66c_server.recordings.detector import AutoRecordDetector, DetectorSettings
from tc66c_server.recordings.live import (
    Change,
    Closed,
    Continued,
    MeterRecorder,
    Opened,
    OpenRecording,
    RecordingBusy,
)
from tc66c_server.recordings.reasons import EndReason
from tc66c_server.recordings.stop_rules import StopRules
from tc66c_server.recordings.summary import RecordingInfo, SummaryAccumulator, summary

from .recordinghelpers import PHONE_OFF_S, PHONE_ON_S, T0, bench_samples, exact_energy_wh, reading


class Bench:
    """Stands in for the bench: numbers auto recordings and collects what happened."""

    def __init__(self, end_delay_s: float = 5.0, auto: bool = True) -> None:
        self.next_id = 1
        self.auto_rules = StopRules()
        detector = AutoRecordDetector(DetectorSettings(end_delay_s=end_delay_s)) if auto else None
        self.recorder = MeterRecorder(detector, self.open_auto if auto else None)
        self.changes: list[Change] = []

    def open_auto(self, ts: float) -> OpenRecording:
        return self.new(ts, auto=True, rules=self.auto_rules)

    def new(self, ts: float, auto: bool = False, rules: StopRules | None = None) -> OpenRecording:
        info = RecordingInfo(self.next_id, f"rec {self.next_id}", "m1", auto=auto)
        self.next_id += 1
        return OpenRecording(info, SummaryAccumulator(ts, gap_s=2.0), rules or StopRules())

    def closed(self) -> list[OpenRecording]:
        return [c.recording for c in self.changes if isinstance(c, Closed)]


def test_idle_charge_idle_scene_gives_one_recording_at_the_scenes_times_and_energy() -> None:
    bench = Bench(end_delay_s=5.0)
    # 10 Hz over one cycle of the emulator's scene and the idle after it (next phone: 200 s).
    for s, _ in bench_samples(0, 199.9, 0.1):
        bench.changes += bench.recorder.sample(s.ts, s.reading)
    assert [type(c) for c in bench.changes] == [Opened, Closed]
    (rec,) = bench.closed()
    acc = rec.acc
    assert acc.end_ts is not None
    assert acc.start_ts - T0 == pytest.approx(PHONE_ON_S, abs=2.0)
    assert acc.end_ts - T0 == pytest.approx(PHONE_OFF_S, abs=2.0)
    assert acc.end_reason == EndReason.CURRENT_BELOW_THRESHOLD
    # The samples of the confirmation delay are not in the summary.
    assert acc.last_ts == acc.end_ts
    body = summary(acc, rec.info)
    assert body["auto"] is True
    assert body["energy_wh"] == pytest.approx(
        exact_energy_wh(acc.start_ts - T0, acc.end_ts - T0), rel=0.01
    )
    assert body["pd_levels"] == [5, 9, 12, 20]
    assert body["meter_counters"]["group0"]["agrees"] is True


def test_a_manual_recording_takes_every_sample_until_stopped() -> None:
    bench = Bench(auto=False)
    bench.recorder.open(bench.new(T0))
    for t in range(10):
        bench.recorder.sample(T0 + t, reading(current=0.0, power=0.0))
    closed = bench.recorder.stop(T0 + 12)
    assert closed is not None
    assert closed.recording.acc.n == 10 and closed.recording.acc.end_ts == T0 + 12
    assert closed.recording.acc.end_reason == "manual"
    assert bench.recorder.stop(T0 + 13) is None


def test_a_second_recording_on_the_same_meter_is_refused() -> None:
    bench = Bench(auto=False)
    bench.recorder.open(bench.new(T0))
    with pytest.raises(RecordingBusy, match="recording 1 is still open"):
        bench.recorder.open(bench.new(T0 + 1))


def test_stop_rule_voltage_below_ends_a_capacity_test() -> None:
    bench = Bench(auto=False)
    bench.recorder.open(bench.new(T0, rules=StopRules(voltage_below_v=3.0)))
    for t, volts in enumerate([4.1, 3.9, 3.4, 2.9, 2.8]):
        bench.changes += bench.recorder.sample(T0 + t, reading(voltage=volts, current=1.0))
    (rec,) = bench.closed()
    assert rec.acc.end_ts == T0 + 3 and rec.acc.end_reason == "rule_voltage"
    assert rec.acc.n == 4
    assert bench.recorder.current is None


def test_stop_rule_duration_ends_at_start_plus_duration_without_later_samples() -> None:
    bench = Bench(auto=False)
    bench.recorder.open(bench.new(T0, rules=StopRules(duration_s=5)))
    for t in range(8):
        bench.changes += bench.recorder.sample(T0 + t, reading())
    (rec,) = bench.closed()
    assert rec.acc.end_ts == T0 + 5 and rec.acc.end_reason == "rule_duration"
    assert rec.acc.n == 6  # 0..5


def test_a_stop_rule_ending_an_auto_recording_does_not_restart_it_while_charging() -> None:
    bench = Bench(end_delay_s=5.0)
    bench.auto_rules = StopRules(energy_wh=0.001)
    recorder = bench.recorder
    for t in range(20):
        bench.changes += recorder.sample(T0 + t, reading(current=1.0))
    assert [type(c) for c in bench.changes] == [Opened, Closed]
    assert bench.closed()[0].acc.end_reason == "rule_energy"


def test_a_manual_recording_left_open_resumes_when_readings_return_within_15_minutes() -> None:
    acc = SummaryAccumulator(T0, gap_s=2.0)
    acc.add(T0, reading())
    rec = OpenRecording(RecordingInfo(4, "left open", "m1"), acc, resuming=True)
    recorder = MeterRecorder(current=rec)
    assert recorder.tick(T0 + 600) == []
    changes = recorder.sample(T0 + 600, reading())
    assert changes == [Continued(rec, T0 + 600)]
    assert rec.acc.n == 2 and recorder.current is rec


def test_a_manual_recording_left_open_too_long_is_closed_as_interrupted() -> None:
    acc = SummaryAccumulator(T0, gap_s=2.0)
    acc.add(T0 + 10, reading())
    rec = OpenRecording(RecordingInfo(4, "left open", "m1"), acc, resuming=True)
    recorder = MeterRecorder(current=rec)
    changes = recorder.sample(T0 + 10 + 901, reading())
    assert changes == [Closed(rec)]
    assert rec.acc.end_ts == T0 + 10 and rec.acc.end_reason == "interrupted"
    assert rec.acc.n == 1


def test_an_auto_recording_left_open_resumes_through_the_detector() -> None:
    acc = SummaryAccumulator(T0, gap_s=2.0)
    acc.add(T0 + 10, reading(current=1.0))
    rec = OpenRecording(RecordingInfo(4, "auto", "m1", auto=True), acc, resuming=True)
    detector = AutoRecordDetector(open_since=T0, last_seen_ts=T0 + 10)
    recorder = MeterRecorder(detector, lambda ts: pytest.fail("no new recording"), current=rec)
    changes = recorder.sample(T0 + 300, reading(current=1.0))
    assert changes == [Continued(rec, T0 + 300)]
    assert rec.acc.n == 2 and not rec.resuming
