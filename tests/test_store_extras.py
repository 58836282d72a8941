"""A UM meter's other fields in the store: kept with its samples, pruned and deleted with
them, read back per sample and per chart bucket; a version 2 file without their table
gains it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from tc66c_server.reading import UM_KEYS, Sample, UmFields
from tc66c_server.store import SampleStore, UnknownFieldError, schema
from tc66c_server.store import um_columns as uc
from tc66c_server.store.codec import encode
from tc66c_server.store.queries import latest, sample_range
from tc66c_server.store.writes import delete_meter, insert_samples, prune

from .storehelpers import T0, insert, memory_db, sample


def um_fields(second: int, mode: int = 1) -> UmFields:
    """UM fields that move with ``second``: counters, temperature, recording time."""
    groups = tuple((10 * g + second, 20 * g + 2 * second) for g in range(10))
    return UmFields(
        model_id=0x0963,
        groups=groups,
        selected_group=second % 10,
        temperature_f=77 + second % 3,
        charging_mode=mode,
        threshold_mah=5 + second,
        threshold_mwh=6 + second,
        threshold_current=0.13,
        recording_s=60 + second,
        recording_active=second % 2 == 1,
        screen_timeout_min=1,
        screen_brightness=4,
        screen_index=2,
    )


def um_sample(ts: float, second: int, mode: int = 1) -> Sample:
    um = um_fields(second, mode)
    base = sample(
        ts,
        product="UM25C",
        group0_mah=um.groups[0][0],
        group0_mwh=um.groups[0][1],
        group1_mah=um.groups[1][0],
        group1_mwh=um.groups[1][1],
    )
    return replace(base, reading=replace(base.reading, um=um))


def um_of(s: Sample) -> UmFields:
    assert s.reading.um is not None
    return s.reading.um


def test_um_fields_encode_to_integers_and_back_exactly() -> None:
    um = um_fields(7, mode=12)
    values = uc.to_raw(um)
    assert len(values) == 1 + len(UM_KEYS)
    assert uc.from_raw(values, um.groups[0], um.groups[1]) == um
    rows = [(T0 * 1e6 // 1 + i * 1_000_003, values) for i in range(5)]
    rows = [(int(ts), v) for ts, v in rows]
    assert uc.rows(uc.encode(rows, 0), 0) == rows


def test_a_steady_minute_of_um_fields_takes_a_few_bytes_per_sample() -> None:
    base_us = 28_866_667 * 60_000_000
    rows = [(base_us + i * 1_000_000, uc.to_raw(um_fields(i // 20))) for i in range(60)]
    assert len(uc.encode(rows, base_us)) < 3 * 60


def test_um_fields_come_back_per_sample_with_the_stored_ones() -> None:
    conn = memory_db()
    insert(conn, [um_sample(T0 + i, i) for i in range(90)])
    keys = ["group9_mah", "charging_mode", "threshold_current", "recording_active", "resistance"]
    rows = sample_range(conn, T0, T0 + 89, keys)
    assert len(rows) == 90
    for i, row in enumerate(rows):
        um = um_fields(i)
        assert row[0] == T0 + i
        assert row[4:] == (um.groups[9][0], "QC2.0", 0.13, i % 2 == 1, 259.3)
    stored = latest(conn)
    assert stored is not None and stored.reading == um_sample(T0 + 89, 89).reading


def test_a_tc66c_sample_has_none_for_um_fields_and_no_extras_row() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + i) for i in range(5)])
    assert sample_range(conn, T0, T0 + 10, ["group5_mwh"])[0][4] is None
    assert conn.execute("SELECT COUNT(*) FROM extras").fetchone()[0] == 0
    with pytest.raises(UnknownFieldError, match="group10_mah"):
        sample_range(conn, T0, T0 + 10, ["group10_mah"])


def test_a_minute_mixing_tc66c_and_um_samples_keeps_each_as_it_was() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + i) for i in range(3)])
    insert(conn, [um_sample(T0 + 3 + i, i) for i in range(3)])
    values = [row[4] for row in sample_range(conn, T0, T0 + 10, ["screen_brightness"])]
    assert values == [None, None, None, 4, 4, 4]


def test_um_fields_are_written_in_the_samples_transaction() -> None:
    conn = memory_db()
    conn.execute("BEGIN IMMEDIATE")
    insert_samples(conn, [encode(um_sample(T0 + i, i)) for i in range(3)])
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT COUNT(*) FROM extras").fetchone()[0] == 0
    conn.execute("DROP TABLE extras")  # a failing UM write undoes the samples too
    with pytest.raises(sqlite3.OperationalError, match="extras"):
        insert(conn, [um_sample(T0 + i, i) for i in range(3)])
    assert sample_range(conn, T0, T0 + 10) == []


def test_a_replacing_tc66c_sample_takes_the_um_fields_away() -> None:
    conn = memory_db()
    insert(conn, [um_sample(T0 + i, i) for i in range(4)])
    insert(conn, [sample(T0 + 1)])
    values = [row[4] for row in sample_range(conn, T0, T0 + 10, ["threshold_mah"])]
    assert values == [5, None, 7, 8]


def test_late_um_samples_merge_into_their_minute() -> None:
    conn = memory_db()
    insert(conn, [um_sample(T0 + i, i) for i in range(0, 10, 2)])
    insert(conn, [um_sample(T0 + i, i) for i in range(1, 10, 2)])
    values = [row[4] for row in sample_range(conn, T0, T0 + 10, ["recording_s"])]
    assert values == [60 + i for i in range(10)]


def test_prune_removes_um_fields_with_their_samples_and_cuts_a_minute() -> None:
    conn = memory_db()
    insert(conn, [um_sample(T0 + i, i) for i in range(180)])
    removed = prune(conn, round((T0 + 90) * 1e6))
    assert removed == 90
    rows = sample_range(conn, T0, T0 + 200, ["group2_mah"])
    assert [row[4] for row in rows] == [20 + i for i in range(90, 180)]
    assert conn.execute("SELECT COUNT(*) FROM extras").fetchone()[0] == 2
    assert prune(conn, round((T0 + 200) * 1e6)) == 90
    assert conn.execute("SELECT COUNT(*) FROM extras").fetchone()[0] == 0


def test_prune_keeps_the_um_fields_of_a_kept_span() -> None:
    conn = memory_db()
    insert(conn, [um_sample(T0 + i, i) for i in range(180)])
    insert(conn, [um_sample(T0 + i, i) for i in range(180)], meter="um2")
    keep = [("m1", round((T0 + 30) * 1e6), round((T0 + 130) * 1e6))]
    prune(conn, round((T0 + 170) * 1e6), keep=keep)
    kept = [row[4] for row in sample_range(conn, T0, T0 + 200, ["threshold_mwh"])]
    assert kept == [6 + i for i in (*range(30, 131), *range(170, 180))]
    other = sample_range(conn, T0, T0 + 200, ["threshold_mwh"], meter="um2")
    assert [row[4] for row in other] == [6 + i for i in range(170, 180)]


def test_delete_meter_removes_its_um_fields_only() -> None:
    conn = memory_db()
    insert(conn, [um_sample(T0 + i, i) for i in range(120)], meter="a")
    insert(conn, [um_sample(T0 + i, i) for i in range(120)], meter="b")
    assert delete_meter(conn, "a") == 120
    assert conn.execute("SELECT COUNT(*) FROM extras").fetchone()[0] == 2
    assert sample_range(conn, T0, T0 + 10, ["screen_index"], meter="b")[0][4] == 2


def test_buckets_give_the_mean_of_numbers_and_the_last_state() -> None:
    with SampleStore() as store:
        store.add_many([um_sample(T0 + i, i, mode=1 if i < 150 else 2) for i in range(240)])
        fields = ["group3_mah", "charging_mode", "selected_group", "resistance"]
        series = store.buckets(T0, T0 + 239, 4, fields)  # a bucket per minute, from rollups
        assert series.columns[-5:] == ("resistance_min", "resistance_max", *fields[:3])
        assert series.width_s == 60
        assert [row[-3:] for row in series.rows] == [
            (30 + 29.5, "QC2.0", 9),
            (30 + 89.5, "QC2.0", 9),
            (30 + 149.5, "QC3.0", 9),  # mode 2 from the 150th sample
            (30 + 209.5, "QC3.0", 9),
        ]
        fine = store.buckets(T0, T0 + 59, 12, ["threshold_current", "recording_active"])
        assert fine.width_s == 5
        # Samples 0..4, then 5..9: only odd ones are recording.
        assert [row[-2:] for row in fine.rows[:2]] == [(0.13, False), (0.13, True)]
        tc = store.buckets(T0, T0 + 59, 12, ["threshold_current"], meter="nobody")
        assert tc.rows == []


def test_buckets_of_a_tc66c_meter_have_none_for_um_fields() -> None:
    with SampleStore() as store:
        store.add_many([sample(T0 + i) for i in range(120)], meter="tc")
        series = store.buckets(T0, T0 + 119, 4, ["group9_mwh"], meter="tc")
        assert series.rows and all(row[-1] is None for row in series.rows)


def test_a_version_2_file_without_the_extras_table_opens_and_gains_it(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    with SampleStore(path) as store:
        store.add_many([sample(T0 + i) for i in range(10)])
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE extras")  # what a file written before the step looks like
    conn.close()
    with SampleStore(path) as store:
        assert store.count(T0, T0 + 10) == 10
        store.add_many([um_sample(T0 + 10 + i, i) for i in range(5)])
        rows = store.range(T0, T0 + 20, ["group4_mah"])
        assert [row[4] for row in rows] == [None] * 10 + [40 + i for i in range(5)]
    conn = schema.connect(str(path), wal=False)
    assert schema.user_version(conn) == schema.SCHEMA_VERSION == 2
    assert schema.add_missing_tables(conn) == []
    conn.close()
