"""Version 1 files (written by the frozen copy of the old store) upgraded to version 2."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from tc66c_server import quantities as q
from tc66c_server.reading import Sample
from tc66c_server.store import DEFAULT_METER, SampleStore, SchemaError, schema, upgrade

from .fixtures import store_v1
from .storehelpers import T0, sample

KEYS = tuple(quantity.key for quantity in q.ALL)


def _history(count: int = 3000) -> list[Sample]:
    """Samples whose every field moves, across minutes, with pauses and a meter reboot."""
    rng = random.Random(count)
    out = []
    ts_us = round(T0 * 1e6)
    for k in range(count):
        out.append(
            sample(
                ts_us / 1e6,
                voltage=rng.randrange(40_000, 210_000) / 10_000,
                current=rng.randrange(0, 300_000) / 100_000,
                power=rng.randrange(0, 600_000) / 10_000,
                resistance=rng.randrange(0, 100_000) / 10,
                temperature=rng.randrange(-20, 80),
                d_plus=rng.randrange(0, 330) / 100,
                d_minus=rng.randrange(0, 330) / 100,
                group0_mah=k // 3,
                group0_mwh=k * 4,
                group1_mah=rng.randrange(0, 2**32),
                group1_mwh=7,
                runs=40 + k // 1000,
            )
        )
        ts_us += rng.choice([rng.randrange(1, 2_000_000), rng.randrange(1, 200_000_000)])
    return out


def _row(s: Sample) -> tuple[float, ...]:
    return (s.ts, *(float(getattr(s.reading, key)) for key in KEYS))


def _v1_file(path: Path, samples: list[Sample]) -> None:
    """A version 1 file holding ``samples``, written in shuffled batches (so the old
    store's out-of-order and replacement paths wrote some of its minutes)."""
    shuffled = samples[:]
    random.Random(7).shuffle(shuffled)
    conn = store_v1.create(path)
    try:
        for k in range(0, len(shuffled), 700):
            store_v1.insert_samples(conn, [store_v1.encode(s) for s in shuffled[k : k + 700]])
    finally:
        conn.close()


def test_v1_file_is_upgraded_with_every_sample_and_value_kept(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    samples = _history()
    _v1_file(path, samples)
    with SampleStore(path) as store:
        assert store.summary() == (len(samples), samples[0].ts, samples[-1].ts)
        assert store.range(samples[0].ts, samples[-1].ts, KEYS) == [_row(s) for s in samples]
        assert store.latest() == samples[-1]
        assert [(m.meter, m.count) for m in store.meters()] == [(DEFAULT_METER, len(samples))]
        # It goes on as a version 2 store: new samples, stats over old and new ones.
        store.add(sample(samples[-1].ts + 1, power=2.5))
        store.flush()
        assert store.summary()[0] == len(samples) + 1
        assert store.stats(0, samples[-1].ts + 2, gap_s=5).sample_count == len(samples) + 1
    conn = sqlite3.connect(path)
    assert schema.user_version(conn) == schema.SCHEMA_VERSION
    conn.close()


def test_the_v1_file_is_kept_as_a_backup_and_no_partial_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    samples = _history(500)
    _v1_file(path, samples)
    original = path.read_bytes()
    SampleStore(path).close()
    backup = path.with_name(path.name + upgrade.BACKUP_SUFFIX)
    assert backup.read_bytes() == original
    assert not path.with_name(path.name + upgrade.PARTIAL_SUFFIX).exists()
    # Opening again finds version 2: nothing is upgraded twice.
    assert upgrade.upgrade_file(path) is None
    with SampleStore(path) as store:
        assert store.summary()[0] == len(samples)


def test_a_partial_file_left_by_a_crash_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    _v1_file(path, _history(300))
    path.with_name(path.name + upgrade.PARTIAL_SUFFIX).write_bytes(b"half-written garbage")
    assert upgrade.upgrade_file(path) == 300
    with SampleStore(path) as store:
        assert store.summary()[0] == 300


def test_a_failed_upgrade_leaves_the_v1_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    _v1_file(path, _history(300))
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM minutes WHERE minute = (SELECT MAX(minute) FROM minutes)")
    conn.commit()
    conn.close()
    original = path.read_bytes()
    with pytest.raises(SchemaError, match="has no minute"):
        SampleStore(path)
    assert path.read_bytes() == original
    assert not path.with_name(path.name + upgrade.PARTIAL_SUFFIX).exists()
    assert not path.with_name(path.name + upgrade.BACKUP_SUFFIX).exists()


def test_an_empty_v1_file_becomes_an_empty_v2_store(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    store_v1.create(path).close()
    with SampleStore(path) as store:
        assert store.summary() == (0, None, None)
        assert store.meters() == []


def test_migrate_refuses_a_v1_connection_it_cannot_upgrade_in_place() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA user_version = 1")
    with pytest.raises(SchemaError, match="must be upgraded"):
        schema.migrate(conn)
