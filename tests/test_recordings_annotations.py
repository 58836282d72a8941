"""Automatic annotations: PD level changes, unplug/back, reboots, counter resets, recordings."""

from __future__ import annotations

import pytest

from tc66c_server.recordings.annotations import (
    Annotation,
    AnnotationWatcher,
    Kind,
    link_change,
    note,
    reading_changes,
    recording_event,
)
from tc66c_server.recordings.pd import PlateauTracker, pd_level

from .recordinghelpers import T0, bench_samples, reading


def test_the_bench_scene_gives_one_annotation_per_pd_step_at_the_new_plateaus_start() -> None:
    watcher = AnnotationWatcher("m1")
    found: list[Annotation] = []
    for s, _ in bench_samples(0, 179.9, 0.1):
        found += watcher.reading(s.ts, s.reading)
    assert [a.text for a in found] == [
        "PD 5 V → 9 V",
        "PD 9 V → 12 V",
        "PD 12 V → 20 V",
        "PD 20 V → 5 V",
    ]
    assert all(a.kind is Kind.PD_LEVEL and a.auto and a.meter == "m1" for a in found)
    # The scene's source reaches 9 V at 24.6 s, 12 V at 60.6 s, 20 V at 85.6 s, 5 V at 130.8 s.
    starts = [a.ts - T0 for a in found]
    assert starts == pytest.approx([24.6, 60.6, 85.6, 130.8], abs=0.5)


def test_an_unplug_and_replug_are_marked_once_each() -> None:
    watcher = AnnotationWatcher("m2")
    assert watcher.link(T0, True) == []  # the first state is no change
    assert watcher.link(T0 + 1, True) == []
    (gone,) = watcher.link(T0 + 2, False)
    assert watcher.link(T0 + 3, False) == []
    (back,) = watcher.link(T0 + 9, True)
    assert (gone.kind, gone.text, gone.ts) == (Kind.UNPLUGGED, "meter unplugged", T0 + 2)
    assert (back.kind, back.text, back.ts) == (Kind.BACK, "meter back", T0 + 9)
    assert link_change("m2", T0, None, False) is None


def test_a_changed_runs_counter_means_the_meter_rebooted() -> None:
    (reboot,) = reading_changes("m1", T0, reading(runs=40), reading(runs=41))
    assert reboot.kind is Kind.REBOOTED
    assert reboot.text == "meter rebooted (runs 40 → 41)"
    assert reading_changes("m1", T0, None, reading(runs=41)) == []
    assert reading_changes("m1", T0, reading(), reading()) == []


def test_a_group_counter_going_down_is_a_reset() -> None:
    before = reading(group0_mah=120, group0_mwh=600, group1_mwh=30)
    after = reading(group0_mah=0, group0_mwh=0, group1_mwh=31)
    found = reading_changes("m1", T0, before, after)
    assert [a.kind for a in found] == [Kind.COUNTER_RESET, Kind.COUNTER_RESET]
    assert [a.text for a in found] == [
        "group0 mah counter reset (120 → 0 mAh)",
        "group0 mwh counter reset (600 → 0 mWh)",
    ]


def test_recording_start_and_stop_are_annotated_with_the_end_reason() -> None:
    start = recording_event("m1", T0, "phone", started=True)
    stop = recording_event("m1", T0 + 60, "phone", started=False, reason="meter_gone")
    assert (start.kind, start.text) == (Kind.RECORDING_STARTED, "recording “phone” started")
    assert (stop.kind, stop.text) == (
        Kind.RECORDING_STOPPED,
        "recording “phone” stopped (meter_gone)",
    )
    assert stop.as_json() == {
        "ts": T0 + 60,
        "meter": "m1",
        "kind": "recording_stopped",
        "text": "recording “phone” stopped (meter_gone)",
        "auto": True,
    }


def test_a_note_by_hand_is_not_auto_and_must_have_a_sensible_length() -> None:
    mark = note("m1", T0, "  phone at 80 %  ")
    assert (mark.kind, mark.text, mark.auto) == (Kind.NOTE, "phone at 80 %", False)
    with pytest.raises(ValueError, match="must not be empty"):
        note("m1", T0, "   ")
    with pytest.raises(ValueError, match="at most 500"):
        note("m1", T0, "x" * 501)


@pytest.mark.parametrize(
    ("volts", "level"),
    [(5.12, 5), (4.6, 5), (5.49, 5), (7.0, None), (9.05, 9), (11.95, 12), (15.2, 15),
     (20.1, 20), (0.0, None), (24.0, None)],
)  # fmt: skip
def test_pd_levels_have_ten_percent_bands(volts: float, level: int | None) -> None:
    assert pd_level(volts) == level


def test_a_level_counts_only_once_held_for_a_second() -> None:
    tracker = PlateauTracker()
    assert tracker.feed(0.0, 5.1) is None
    assert tracker.feed(0.5, 9.0) is None  # a slew passing through
    assert tracker.feed(0.9, 9.0) is None
    assert tracker.feed(1.5, 9.0) == 9
    assert tracker.feed(2.5, 9.0) is None  # already settled
    assert tracker.level == 9
