"""The bench's recordings: rows, events and annotations from the meters' samples, and what
a restart finds (resumed within 15 minutes, else interrupted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tc66c_server.reading import Sample
from tc66c_server.recordings.bench import AutoRecord, NotRunning, Recordings, UnknownRecording
from tc66c_server.recordings.db import RecordingDb
from tc66c_server.recordings.live import RecordingBusy

from .recordinghelpers import T0, bench_samples, reading


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], str | None]] = []

    def __call__(self, name: str, payload: dict[str, Any], meter: str | None) -> None:
        self.seen.append((name, payload, meter))

    def recording_types(self) -> list[str]:
        return [p["type"] for n, p, _ in self.seen if n == "recording" and p["type"] != "summary"]


def make(db: RecordingDb, auto: AutoRecord | None = None) -> tuple[Recordings, Events]:
    events = Events()
    recordings = Recordings(db, events, gap_s=lambda _: 2.0, auto=auto or AutoRecord())
    return recordings, events


def feed(recordings: Recordings, meter: str, times: range, **values: Any) -> None:
    for t in times:
        recordings.sample(meter, Sample(T0 + t, reading(**values)))


def test_a_manual_recording_is_stored_published_and_annotated() -> None:
    recordings, events = make(RecordingDb(None))
    started = recordings.start_recording("m1", "cable X", now=T0, note="1 m")
    assert started["running"] is True and started["note"] == "1 m" and started["end"] is None
    feed(recordings, "m1", range(0, 11), voltage=5.0, current=2.0, power=10.0)
    stopped = recordings.stop_recording(started["id"], T0 + 10)
    assert stopped["end_reason"] == "manual" and stopped["running"] is False
    assert stopped["energy_wh"] == pytest.approx(100 / 3600, abs=1e-6)
    assert stopped["sample_count"] == 11
    assert events.recording_types() == ["started", "stopped"]
    texts = [a.text for _, a in recordings.db.annotations(T0 - 1, T0 + 20, "m1")]
    assert texts == ["recording “cable X” started", "recording “cable X” stopped (manual)"]
    assert recordings.listing(T0 + 20)[0] == recordings.recording(started["id"], T0 + 20)
    with pytest.raises(NotRunning):
        recordings.stop_recording(started["id"], T0 + 30)


def test_one_recording_at_a_time_per_meter() -> None:
    recordings, _ = make(RecordingDb(None))
    first = recordings.start_recording("m1", "a", now=T0)
    with pytest.raises(RecordingBusy):
        recordings.start_recording("m1", "b", now=T0 + 1)
    assert recordings.start_recording("m2", "c", now=T0 + 1)["meter"] == "m2"
    recordings.delete(first["id"])
    assert recordings.start_recording("m1", "d", now=T0 + 2)["name"] == "d"
    with pytest.raises(UnknownRecording):
        recordings.recording(first["id"], T0)


def test_auto_record_makes_one_recording_of_the_bench_scenes_charge() -> None:
    recordings, events = make(RecordingDb(None), AutoRecord(True, 0.10, 5.0))
    for s, _ in bench_samples(0, 199.9, 0.1):
        recordings.sample("m1", s)
    (only,) = recordings.listing(T0 + 200)
    assert only["auto"] is True and only["end_reason"] == "current_below_threshold"
    assert only["pd_levels"] == [5, 9, 12, 20]
    assert events.recording_types() == ["started", "stopped"]
    kinds = [a.kind for _, a in recordings.db.annotations(T0, T0 + 200, "m1")]
    assert kinds.count("pd_level") == 4


def test_turning_auto_record_off_ends_the_open_auto_recording() -> None:
    recordings, _ = make(RecordingDb(None), AutoRecord(True, 0.10, 5.0))
    feed(recordings, "m1", range(0, 5), current=1.0)
    assert recordings.listing(T0)[0]["running"] is True
    recordings.configure(AutoRecord(False))
    assert recordings.listing(T0)[0]["end_reason"] == "manual"


def test_auto_record_settings_of_one_meter_leave_the_others_recordings_alone() -> None:
    recordings, _ = make(RecordingDb(None), AutoRecord(True, 0.10, 5.0))
    feed(recordings, "m1", range(0, 5), current=1.0)
    feed(recordings, "m2", range(0, 5), current=1.0)
    on, off = AutoRecord(True, 0.10, 5.0), AutoRecord(False)
    recordings.configure(on, {"m1": AutoRecord(True, 0.5, 10.0), "m2": off})
    running = {r["meter"]: r["running"] for r in recordings.listing(T0 + 5)}
    assert running == {"m1": True, "m2": False}
    # The new threshold applies to the recording under way: 0.3 A is now below it.
    feed(recordings, "m1", range(5, 20), current=0.3)
    (m1,) = recordings.listing(T0 + 20, "m1")
    assert m1["end_reason"] == "current_below_threshold" and m1["end"] is not None
    feed(recordings, "m2", range(5, 20), current=1.0)
    assert len(recordings.listing(T0 + 20, "m2")) == 1


def test_a_restart_resumes_an_open_recording_when_readings_return_in_15_minutes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "recordings.sqlite3"
    before, _ = make(RecordingDb(path))
    rid = before.start_recording("m1", "long charge", now=T0)["id"]
    feed(before, "m1", range(0, 30), voltage=5.0, current=2.0, power=10.0)
    before.stop()  # the server stops: the state is saved, the recording stays open
    before.db.close()
    after, events = make(RecordingDb(path))
    after.resume(lambda _: False)
    feed(after, "m1", range(600, 611), voltage=5.0, current=2.0, power=10.0)
    body = after.recording(rid, T0 + 611)
    assert body["running"] is True and body["sample_count"] == 41
    assert body["energy_wh"] == pytest.approx((29 + 10) * 10 / 3600, abs=1e-6)  # no gap
    assert events.recording_types() == ["resumed"]


def test_a_restart_closes_an_open_recording_as_interrupted_after_15_minutes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "recordings.sqlite3"
    before, _ = make(RecordingDb(path), AutoRecord(True, 0.10, 60.0))
    feed(before, "m1", range(0, 30), current=1.0)
    before.stop()
    before.db.close()
    after, events = make(RecordingDb(path), AutoRecord(True, 0.10, 60.0))
    after.resume(lambda _: False)
    after.tick(T0 + 29 + 15 * 60 + 1)
    (old,) = after.listing(T0 + 2000)
    assert old["end_reason"] == "interrupted" and old["end"] is not None
    assert old["duration_s"] == 29.0
    assert events.recording_types() == ["stopped"]


def test_an_import_makes_a_finished_recording_marked_imported() -> None:
    recordings, _ = make(RecordingDb(None))
    samples = [Sample(T0 + t, reading(current=1.0)) for t in range(0, 60, 10)]
    body = recordings.add_imported("m1", "offline", samples, gap_s=15.0, has_counters=False)
    assert body["imported"] is True and body["end_reason"] == "imported"
    assert body["duration_s"] == 50 and body["meter_counters"] is None
    with pytest.raises(ValueError, match="nothing to import"):
        recordings.add_imported("m1", "empty", [], gap_s=15.0, has_counters=False)


def test_unplug_reboot_and_notes_become_annotations() -> None:
    recordings, events = make(RecordingDb(None))
    recordings.link("m1", True, T0)
    recordings.link("m1", False, T0 + 1)
    recordings.link("m1", True, T0 + 5)
    recordings.sample("m1", Sample(T0 + 6, reading(runs=40)))
    recordings.sample("m1", Sample(T0 + 7, reading(runs=41)))
    recordings.add_note("m1", T0 + 8, "phone at 80 %")
    found = recordings.db.annotations(T0, T0 + 10, "m1")
    assert [a.kind for _, a in found] == ["unplugged", "back", "rebooted", "note"]
    assert [n for n, _, _ in events.seen].count("annotation") == 4


def test_samples_stored_after_the_last_saved_state_join_the_summary_at_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "recordings.sqlite3"
    before, _ = make(RecordingDb(path))
    rid = before.start_recording("m1", "crashed", now=T0)["id"]
    feed(before, "m1", range(0, 5), voltage=5.0, current=2.0, power=10.0)
    before.stop()
    before.db.close()
    stored = [Sample(T0 + t, reading(5.0, 2.0, 10.0)) for t in range(5, 20)]  # never saved
    events = Events()
    after = Recordings(
        RecordingDb(path), events, gap_s=lambda _: 2.0,
        catch_up=lambda meter, demo, after_ts: [s for s in stored if s.ts > after_ts],
    )  # fmt: skip
    after.resume(lambda _: False)
    body = after.recording(rid, T0 + 20)
    assert body["sample_count"] == 20 and body["running"] is True
    assert events.recording_types() == []  # resumed only by a live reading
