from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tc66c_server.store import SampleStore, StoreClosedError, chunk, queries, schema

from .storehelpers import T0, sample


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SampleStore]:
    """A store in memory and one on disk: both must behave the same."""
    path = None if request.param == "memory" else tmp_path / "samples.sqlite3"
    opened = SampleStore(path)
    try:
        yield opened
    finally:
        opened.close()


def test_add_returns_at_once_and_flush_commits_everything(store: SampleStore) -> None:
    started = time.perf_counter()
    for k in range(1000):
        store.add(sample(T0 + k * 0.1, voltage=5 + k / 10_000))
    assert time.perf_counter() - started < 0.5  # enqueueing only, no SQLite work
    store.flush()
    count, oldest, newest = store.summary()
    assert (count, oldest, newest) == (1000, T0, T0 + 99.9)
    assert store.written == 1000
    assert store.latest() == sample(T0 + 99.9, voltage=5.0999)


def test_samples_are_committed_in_batches_without_a_flush() -> None:
    with SampleStore(None, batch_s=0.05) as store:
        store.add(sample(T0))
        deadline = time.monotonic() + 5
        while store.summary()[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.summary()[0] == 1


def test_data_is_still_there_after_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    with SampleStore(path) as store:
        for k in range(100):
            store.add(sample(T0 + k, current=k / 100))
    # close() flushed; a new store on the same file sees everything.
    with SampleStore(path) as again:
        assert again.summary() == (100, T0, T0 + 99)
        assert again.latest() == sample(T0 + 99, current=0.99)
        assert again.range(T0 + 10, T0 + 10) == [(T0 + 10, 5.1609, 0.1, 0.1026)]


def test_two_memory_stores_do_not_share_data() -> None:
    with SampleStore(None) as one, SampleStore(":memory:") as two:
        one.add(sample(T0))
        one.flush()
        assert one.summary()[0] == 1
        assert two.summary()[0] == 0


def test_add_many_stores_100k_samples_in_a_few_seconds(store: SampleStore) -> None:
    samples = [sample(T0 + k, current=(k % 3000) / 1000) for k in range(100_000)]
    started = time.perf_counter()
    assert store.add_many(samples) == 100_000
    elapsed = time.perf_counter() - started
    assert store.summary() == (100_000, T0, T0 + 99_999)
    assert store.range(T0 + 54_321, T0 + 54_321)[0][2] == 0.321
    assert elapsed < 30  # generous: a few seconds expected; catches accidental O(n^2)


def test_add_many_takes_a_generator_and_refuses_an_invalid_sample(store: SampleStore) -> None:
    assert store.add_many(sample(T0 + k) for k in range(10)) == 10
    with pytest.raises(ValueError, match="not a number"):
        store.add_many([sample(T0 + 20), sample(T0 + 21, voltage=float("nan"))])
    assert store.summary()[0] == 10


def test_invalid_sample_from_add_is_counted_and_the_rest_is_stored(store: SampleStore) -> None:
    store.add(sample(T0))
    store.add(sample(T0 + 1, power=float("inf")))
    store.add(sample(T0 + 2))
    store.flush()
    assert store.summary()[0] == 2
    assert store.rejected == 1


def test_sqlite_error_in_the_writer_is_counted_and_the_writer_carries_on(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    with SampleStore(path) as store:
        other = sqlite3.connect(path)
        other.execute("ALTER TABLE minutes RENAME TO hidden")
        other.commit()
        store.add(sample(T0))
        store.flush()
        assert store.write_errors == 1
        other.execute("ALTER TABLE hidden RENAME TO minutes")
        other.commit()
        other.close()
        store.add(sample(T0 + 1))
        store.flush()
        assert store.write_errors == 1
        assert store.summary()[0] == 1


def test_reader_thread_never_fails_while_the_writer_commits(store: SampleStore) -> None:
    errors: list[BaseException] = []
    counts: list[list[int]] = [[], []]
    stop = threading.Event()

    def read(seen: list[int]) -> None:
        try:
            while not stop.is_set():
                seen.append(store.summary()[0])
                store.stats(T0, T0 + 10_000, gap_s=5)
                store.range(T0, T0 + 10_000)
        except BaseException as exc:  # report to the test thread
            errors.append(exc)

    readers = [threading.Thread(target=read, args=(seen,)) for seen in counts]
    for reader in readers:
        reader.start()
    for k in range(3000):
        store.add(sample(T0 + k))
        if k % 500 == 0:
            store.flush()
    store.add_many(sample(T0 + 3000 + k) for k in range(20_000))
    store.flush()
    stop.set()
    for reader in readers:
        reader.join(10)
    assert errors == []
    for seen in counts:  # each reader saw the data grow, never shrink
        assert seen and seen == sorted(seen)
    assert store.summary()[0] == 23_000


def test_prune_expired_applies_the_retention_as_of_now(store: SampleStore) -> None:
    store.add_many(sample(T0 + k) for k in range(600))
    assert store.prune_expired(T0 + 599) == 0  # no retention: keep everything
    store.retention_s = 300
    assert store.prune_expired(T0 + 599) == 299
    assert store.summary() == (301, T0 + 299, T0 + 599)
    store.retention_s = 60.5
    assert store.prune_expired(T0 + 620) == 301 - 40  # kept: T0 + 560 ... T0 + 599
    assert store.summary() == (40, T0 + 560, T0 + 599)


def test_writer_prunes_by_itself_every_interval() -> None:
    with SampleStore(None, retention_s=60, prune_every_s=0.05) as store:
        now = time.time()
        store.add_many(sample(now - 600 + k) for k in range(600))
        deadline = time.monotonic() + 5
        while store.summary()[0] > 61 and time.monotonic() < deadline:
            time.sleep(0.02)
        count, oldest, _ = store.summary()
        assert 55 <= count <= 61
        assert oldest is not None and oldest >= now - 61


def test_prune_returns_the_number_removed(store: SampleStore) -> None:
    store.add_many(sample(T0 + k) for k in range(100))
    assert store.prune(T0 + 30.5) == 31
    assert store.prune(T0 + 30.5) == 0
    assert store.summary() == (69, T0 + 31, T0 + 99)


def test_closed_store_refuses_work_and_closing_twice_is_harmless(store: SampleStore) -> None:
    store.add(sample(T0))
    store.close()
    store.close()
    with pytest.raises(StoreClosedError):
        store.add(sample(T0 + 1))
    with pytest.raises(StoreClosedError):
        store.summary()
    store.flush()  # nothing to wait for


def test_closing_commits_what_was_queued(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    store = SampleStore(path, batch_s=60)  # would not commit on its own for a minute
    for k in range(10):
        store.add(sample(T0 + k))
    store.close()
    with SampleStore(path) as again:
        assert again.summary()[0] == 10


def test_stats_and_buckets_go_through_the_store(store: SampleStore) -> None:
    store.add_many(sample(T0 + k, power=1.0) for k in range(3601))
    assert store.stats(T0, T0 + 3600, gap_s=5).energy_wh == 1.0
    series = store.buckets(T0, T0 + 3600, 100, ["temperature"])
    assert series.width_s == 60
    assert series.columns[-3:] == ("temperature", "temperature_min", "temperature_max")
    assert sum(row[1] for row in series.rows) == 3601


def test_each_commit_of_the_current_minute_is_seen_at_once_by_another_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "samples.sqlite3"
    with SampleStore(path, batch_s=0.02) as store:
        reader = schema.connect(str(path))
        try:
            for k in range(5):  # five commits into the same minute, a segment each
                store.add(sample(T0 + k, current=k / 100))
                deadline = time.monotonic() + 5
                while queries.latest(reader) != sample(T0 + k, current=k / 100):
                    assert time.monotonic() < deadline
                    time.sleep(0.005)
            assert [row[2] for row in queries.sample_range(reader, T0, T0 + 59)] == [
                0.0,
                0.01,
                0.02,
                0.03,
                0.04,
            ]
            # The next minute packs the finished one into a single segment.
            store.add(sample(T0 + 60))
            store.flush()
            blob = reader.execute("SELECT data FROM chunks ORDER BY slot LIMIT 1").fetchone()[0]
            assert chunk.segments(blob) == 1
            assert store.summary() == (6, T0, T0 + 60)
        finally:
            reader.close()
