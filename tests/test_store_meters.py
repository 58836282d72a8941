"""Several meters in one store: each reads back only its own samples; pruning and deleting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tc66c_server.store import DEFAULT_METER, MeterSummary, SampleStore
from tc66c_server.store.codec import encode
from tc66c_server.store.queries import sample_range, stored_times, summary
from tc66c_server.store.writes import prune

from .storehelpers import T0, insert, memory_db, sample


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SampleStore]:
    path = None if request.param == "memory" else tmp_path / "samples.sqlite3"
    opened = SampleStore(path)
    try:
        yield opened
    finally:
        opened.close()


def test_each_meter_reads_back_only_its_own_samples(store: SampleStore) -> None:
    store.add_many([sample(T0 + k, voltage=5.0) for k in range(120)])
    store.add_many([sample(T0 + k + 0.5, voltage=9.0) for k in range(60)], meter="in")
    store.add(sample(T0 + 200, voltage=12.0), meter="out")
    store.flush()
    assert store.summary() == (120, T0, T0 + 119)
    assert store.summary(meter="in") == (60, T0 + 0.5, T0 + 59.5)
    assert {row[1] for row in store.range(T0, T0 + 300)} == {5.0}
    assert {row[1] for row in store.range(T0, T0 + 300, meter="in")} == {9.0}
    assert store.latest(meter="out") == sample(T0 + 200, voltage=12.0)
    assert store.stats(T0, T0 + 300, 5, meter="in").sample_count == 60
    assert sum(row[1] for row in store.buckets(T0, T0 + 300, 10, meter="in").rows) == 60
    assert [m for m, _ in store.minute_marks(0, 2**31, meter="out")] == [int((T0 + 200) // 60)]


def test_meters_lists_each_one_with_its_count_and_span(store: SampleStore) -> None:
    assert store.meters() == []
    store.add_many([sample(T0 + k) for k in range(10)])
    store.add_many([sample(T0 + 100 + k) for k in range(5)], meter="in")
    assert store.meters() == [
        MeterSummary(DEFAULT_METER, 10, T0, T0 + 9),
        MeterSummary("in", 5, T0 + 100, T0 + 104),
    ]


def test_an_unknown_meter_has_nothing(store: SampleStore) -> None:
    store.add_many([sample(T0 + k) for k in range(10)])
    assert store.latest(meter="nope") is None
    assert store.summary(meter="nope") == (0, None, None)
    assert store.range(T0, T0 + 10, meter="nope") == []
    assert store.stats(T0, T0 + 10, 5, meter="nope").sample_count == 0
    assert store.buckets(T0, T0 + 10, 5, meter="nope").rows == []
    assert store.minute_marks(0, 2**31, meter="nope") == []


def test_deleting_a_meter_removes_it_and_only_it(store: SampleStore) -> None:
    store.add_many([sample(T0 + k) for k in range(100)])
    store.add_many([sample(T0 + k) for k in range(30)], meter="in")
    assert store.delete_meter("in") == 30
    assert store.delete_meter("in") == 0
    assert [m.meter for m in store.meters()] == [DEFAULT_METER]
    assert store.summary() == (100, T0, T0 + 99)
    store.add(sample(T0 + 1000), meter="in")  # the id can be used again, from scratch
    store.flush()
    assert store.summary(meter="in") == (1, T0 + 1000, T0 + 1000)


def test_retention_prunes_every_meter(store: SampleStore) -> None:
    store.add_many([sample(T0 + k) for k in range(600)])
    store.add_many([sample(T0 + k) for k in range(600)], meter="in")
    store.retention_s = 100
    assert store.prune_expired(T0 + 599) == 2 * 499
    assert store.summary() == store.summary(meter="in") == (101, T0 + 499, T0 + 599)


def test_kept_spans_survive_pruning_and_the_rest_goes(store: SampleStore) -> None:
    store.add_many([sample(T0 + k) for k in range(7200)])
    store.add_many([sample(T0 + k) for k in range(7200)], meter="in")
    kept = [(DEFAULT_METER, T0 + 100.5, T0 + 250), (DEFAULT_METER, T0 + 3000, T0 + 3719.2)]
    removed = store.prune(T0 + 7000, keep=kept)
    assert removed == 7000 - 150 - 720 + 7000
    times = [row[0] for row in store.range(0, T0 + 10**6)]
    expected = [*range(101, 251), *range(3000, 3720), *range(7000, 7200)]
    assert times == [T0 + k for k in expected]
    assert store.summary(meter="in") == (200, T0 + 7000, T0 + 7199)
    stats = store.stats(0, T0 + 10**6, gap_s=5)
    assert stats.sample_count == len(expected)
    assert stats.duration_s == 149 + 719 + 199  # the pruned stretches are gaps
    # Pruning again removes nothing more and keeps the pinned samples exactly.
    assert store.prune(T0 + 7000, keep=kept) == 0


def test_pinned_spans_are_kept_by_the_periodic_retention(store: SampleStore) -> None:
    store.add_many([sample(T0 + k) for k in range(600)])
    store.pinned = lambda: [(DEFAULT_METER, T0 + 10, T0 + 19)]
    store.retention_s = 60
    assert store.prune_expired(T0 + 599) == 600 - 61 - 10  # kept: T0 + 539 ... T0 + 599
    assert store.summary() == (71, T0 + 10, T0 + 599)


def test_prune_keeps_spans_per_meter_only() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + k) for k in range(300)])
    insert(conn, [sample(T0 + k) for k in range(300)], meter="in")
    before_us = round((T0 + 300) * 1e6)
    spans = [("in", round((T0 + 30) * 1e6), round((T0 + 39) * 1e6))]
    assert prune(conn, before_us, spans) == 300 + 290
    assert summary(conn) == (0, None, None)
    assert [row[0] for row in sample_range(conn, 0, T0 + 999, meter="in")] == [
        T0 + k for k in range(30, 40)
    ]


def test_stored_times_finds_exactly_the_times_taken() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + k) for k in range(0, 300, 2)])
    asked = [encode(sample(T0 + k)).ts_us for k in (0, 1, 2, 150, 151, 298, 299, 5000)]
    assert stored_times(conn, asked) == {asked[0], asked[2], asked[3], asked[5]}
    assert stored_times(conn, asked, meter="in") == set()
    assert stored_times(conn, []) == set()
