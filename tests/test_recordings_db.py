"""The recordings file: rows, order, edits, kept spans, annotations and their pruning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tc66c_server.recordings.annotations import Annotation, Kind
from tc66c_server.recordings.db import (
    _STEPS,
    OPEN_SPAN_AHEAD_S,
    SCHEMA_VERSION,
    RecordingDb,
    RecordingSchemaError,
)

T0 = 1_732_000_020.0


def test_recordings_survive_reopening_the_file_and_list_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "recordings.sqlite3"
    db = RecordingDb(path)
    first = db.create(name="a", meter="m1", start_ts=T0, state={"n": 1})
    second = db.create(name="b", meter="m2", start_ts=T0 + 10, state={"n": 2}, auto=True)
    db.close()
    db = RecordingDb(path)
    assert [r.id for r in db.listing()] == [second, first]
    assert [r.id for r in db.listing("m1")] == [first]
    row = db.get(second)
    assert row is not None and row.auto and row.state == {"n": 2} and row.end_ts is None
    assert [r.id for r in db.open_recordings()] == [first, second]
    db.close()


def test_saving_an_end_closes_the_recording(tmp_path: Path) -> None:
    db = RecordingDb(None)
    rid = db.create(name="a", meter="m1", start_ts=T0, state={}, stop_rules={"duration_s": 60})
    db.save_state(rid, {"n": 5}, end_ts=T0 + 60, end_reason="rule_duration")
    row = db.get(rid)
    assert row is not None
    assert (row.end_ts, row.end_reason, row.state, row.stop_rules) == (
        T0 + 60, "rule_duration", {"n": 5}, {"duration_s": 60},
    )  # fmt: skip
    assert db.open_recordings() == []


def test_rename_note_and_delete_say_whether_the_recording_exists() -> None:
    db = RecordingDb(None)
    rid = db.create(name="a", meter="m1", start_ts=T0, state={})
    assert db.edit(rid, name="cable X", note="1 m") is True
    row = db.get(rid)
    assert row is not None and (row.name, row.note) == ("cable X", "1 m")
    assert db.edit(999, name="x") is False
    assert db.delete(rid) is True and db.delete(rid) is False and db.get(rid) is None


def test_kept_spans_cover_finished_recordings_and_running_ones_a_day_ahead() -> None:
    db = RecordingDb(None)
    done = db.create(name="a", meter="m1", start_ts=T0, state={})
    db.save_state(done, {}, end_ts=T0 + 100, end_reason="manual")
    db.create(name="b", meter="m2", start_ts=T0 + 50, state={})
    assert sorted(db.kept_spans(T0 + 200)) == [
        ("m1", T0, T0 + 100),
        ("m2", T0 + 50, T0 + 200 + OPEN_SPAN_AHEAD_S),
    ]


def test_annotations_are_read_by_window_and_meter_oldest_first() -> None:
    db = RecordingDb(None)
    ids = db.annotate(
        [
            Annotation(T0 + 5, "m1", Kind.PD_LEVEL, "PD 5 V → 9 V"),
            Annotation(T0 + 1, "m2", Kind.UNPLUGGED, "meter unplugged"),
            Annotation(T0 + 9, "m1", Kind.NOTE, "phone at 80 %", auto=False),
        ]
    )
    assert len(ids) == 3
    assert [a.text for _, a in db.annotations(T0, T0 + 10)] == [
        "meter unplugged", "PD 5 V → 9 V", "phone at 80 %",
    ]  # fmt: skip
    assert [a.kind for _, a in db.annotations(T0, T0 + 6, "m1")] == [Kind.PD_LEVEL]
    assert db.delete_annotation(ids[0]) and not db.delete_annotation(ids[0])


def test_old_automatic_annotations_go_unless_in_a_recording_or_written_by_hand() -> None:
    db = RecordingDb(None)
    rid = db.create(name="a", meter="m1", start_ts=T0 + 10, state={})
    db.save_state(rid, {}, end_ts=T0 + 20, end_reason="manual")
    db.annotate(
        [
            Annotation(T0 + 1, "m1", Kind.BACK, "meter back"),  # old: goes
            Annotation(T0 + 15, "m1", Kind.PD_LEVEL, "PD 5 V → 9 V"),  # in the recording
            Annotation(T0 + 15, "m2", Kind.PD_LEVEL, "PD 5 V → 9 V"),  # other meter: goes
            Annotation(T0 + 2, "m1", Kind.NOTE, "by hand", auto=False),
            Annotation(T0 + 500, "m1", Kind.BACK, "meter back"),  # recent
        ]
    )
    assert db.prune_annotations(before_ts=T0 + 100, now=T0 + 600) == 2
    left = [(a.ts - T0, a.meter) for _, a in db.annotations(0, T0 + 1000)]
    assert left == [(2, "m1"), (15, "m1"), (500, "m1")]


def test_a_file_from_a_newer_server_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "recordings.sqlite3"
    RecordingDb(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RecordingSchemaError, match="newer"):
        RecordingDb(path)


def test_a_file_of_the_first_schema_gains_pairs_and_keeps_its_recordings(tmp_path: Path) -> None:
    path = tmp_path / "recordings.sqlite3"
    with sqlite3.connect(path) as conn:
        migrate_to_first_step(conn)
        conn.execute(
            "INSERT INTO recordings (name, meter, start_ts, end_ts, state) "
            "VALUES ('old', 'm1', ?, ?, '{}')",
            (T0, T0 + 60),
        )
    db = RecordingDb(path)
    (row,) = db.listing()
    assert (row.name, row.pair, row.partner, row.meters) == ("old", None, None, ("m1",))
    rid = db.create(
        name="pair", meter="in", start_ts=T0 + 100, end_ts=T0 + 200, state={}, pair="in-out",
        partner="out",
    )  # fmt: skip
    got = db.get(rid)
    assert got is not None and got.meters == ("in", "out")
    assert sorted(db.kept_spans(T0)) == [
        ("in", T0 + 100, T0 + 200), ("m1", T0, T0 + 60), ("out", T0 + 100, T0 + 200),
    ]  # fmt: skip
    assert [r.id for r in db.listing("out")] == [rid]
    db.close()


def migrate_to_first_step(conn: sqlite3.Connection) -> None:
    """The schema as the first version of the server wrote it."""
    conn.executescript(f"BEGIN; {_STEPS[0][1]} PRAGMA user_version = 1; COMMIT;")
