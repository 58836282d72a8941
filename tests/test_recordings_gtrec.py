"""The meter's offline recording (gtrec): placed in time from the interval and end time."""

from __future__ import annotations

import pytest

from tc66c_server import protocol
from tc66c_server.emulator.device import VirtualMeter
from tc66c_server.emulator.signal import BenchSession
from tc66c_server.recordings.gtrec import GtrecError, check_interval, imported_samples
from tc66c_server.recordings.summary import RecordingInfo, SummaryAccumulator, summary

from .recordinghelpers import T0


def download(interval_s: float, elapsed_s: float, seed: int = 3) -> tuple[bytes, BenchSession]:
    """The bytes a virtual meter streams for ``gtrec`` after ``elapsed_s`` of its session."""
    now = [0.0]
    session = BenchSession(seed)
    meter = VirtualMeter(session, lambda: now[0], record_interval_s=interval_s)
    now[0] = elapsed_s
    reply = meter.handle("gtrec")
    assert reply is not None
    return reply.data, session


def test_records_are_placed_one_interval_apart_ending_at_the_given_time() -> None:
    data, session = download(interval_s=2, elapsed_s=60)
    got = imported_samples(protocol.decode_recording(data), 2, T0 + 60, now=T0 + 100)
    assert len(got.samples) == 31 and got.trailing_bytes == 0
    assert [s.ts for s in got.samples] == [T0 + 2 * k for k in range(31)]
    assert (got.start_ts, got.end_ts, got.interval_s, got.gap_s) == (T0, T0 + 60, 2, 3.0)
    for k, s in enumerate(got.samples):
        served = session.reading_at(2 * k)
        assert (s.reading.voltage, s.reading.current) == (served.voltage, served.current)
        assert s.reading.power == pytest.approx(served.voltage * served.current, abs=1e-4)


def test_an_imported_recording_has_no_counters_but_its_energy_integrates() -> None:
    data, session = download(interval_s=1, elapsed_s=179)
    got = imported_samples(protocol.decode_recording(data), 1, T0 + 179, now=T0 + 179)
    acc = SummaryAccumulator(got.start_ts, got.gap_s, has_counters=False)
    for s in got.samples:
        acc.add(s.ts, s.reading)
    body = summary(acc, RecordingInfo(1, "offline", "m1"))
    assert body["meter_counters"] is None and body["sample_count"] == 180
    meter_mwh = session.reading_at(179).group0_mwh - session.reading_at(0).group0_mwh
    assert body["energy_wh"] * 1000 == pytest.approx(meter_mwh, rel=0.03)
    assert body["pd_levels"] == [5, 9, 12, 20]
    assert body["run_time_s"] > 0


def test_a_transfer_cut_mid_record_keeps_the_whole_records() -> None:
    data, _ = download(interval_s=5, elapsed_s=50)
    got = imported_samples(protocol.decode_recording(data[:-3]), 5, T0, now=T0)
    assert len(got.samples) == 10 and got.trailing_bytes == 5


def test_an_empty_recording_gives_no_samples() -> None:
    got = imported_samples(protocol.decode_recording(b""), 10, T0, now=T0)
    assert got.samples == () and got.start_ts == T0


@pytest.mark.parametrize("interval", [1, 60, 30.0])
def test_intervals_of_1_to_60_whole_seconds_are_accepted(interval: float) -> None:
    assert check_interval(interval) == int(interval)


@pytest.mark.parametrize(
    ("interval", "message"),
    [(0, "1 to 60"), (61, "1 to 60"), (1.5, "whole number"), ("5", "number of seconds"),
     (True, "number of seconds"), (float("inf"), "whole number"), (None, "number of seconds")],
)  # fmt: skip
def test_other_intervals_are_refused_with_why(interval: object, message: str) -> None:
    with pytest.raises(GtrecError, match=message):
        check_interval(interval)


def test_an_end_time_in_the_future_or_before_1970_is_refused() -> None:
    recording = protocol.decode_recording(download(interval_s=60, elapsed_s=600)[0])
    with pytest.raises(GtrecError, match="in the future"):
        imported_samples(recording, 60, T0 + 10, now=T0)
    with pytest.raises(GtrecError, match="before 1970"):
        imported_samples(recording, 60, 100.0, now=T0)
    with pytest.raises(GtrecError, match="must be a time"):
        imported_samples(recording, 60, float("nan"), now=T0)
