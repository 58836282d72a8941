"""The per-minute JSON cache behind /api/data: same bytes as rendering afresh, never stale."""

from __future__ import annotations

import orjson
import pytest

from tc66c_server.api.series_cache import SeriesCache, render_points
from tc66c_server.emulator import BenchSession
from tc66c_server.reading import Sample
from tc66c_server.store import SampleStore

T0 = 1_790_000_000.0  # a minute boundary
KEYS = ("voltage", "current", "power")


@pytest.fixture
def store() -> SampleStore:
    session = BenchSession(3)
    s = SampleStore(None)
    s.add_many(Sample(T0 + k + 0.25, session.reading_at(k)) for k in range(600))
    return s


def fresh(store: SampleStore, start: float, end: float, extras: tuple[str, ...] = ()) -> bytes:
    return render_points(store.range(start, end, extras), (*KEYS, *extras))


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 600), (10.5, 290.3), (60, 120), (59.9, 60.1), (-100, 30), (300, 1000), (700, 800)],
)
def test_cached_rendering_equals_fresh_rendering(
    store: SampleStore, start: float, end: float
) -> None:
    cache = SeriesCache()
    for _ in range(2):  # cold, then warm
        count, parts = cache.render(store, T0 + start, T0 + end, ())
        body = b",".join(parts)
        assert body == fresh(store, T0 + start, T0 + end)
        assert count == len(orjson.loads(b"[" + body + b"]"))


def test_a_repeated_window_is_served_from_the_cache(store: SampleStore) -> None:
    cache = SeriesCache()
    cache.render(store, T0 + 30, T0 + 600, ())
    assert (cache.hits, cache.misses) == (0, 9)  # minutes 1-9 whole, minute 0 cut
    cache.render(store, T0 + 30, T0 + 600, ())
    assert (cache.hits, cache.misses) == (9, 9)


def test_extra_fields_are_cached_separately(store: SampleStore) -> None:
    cache = SeriesCache()
    cache.render(store, T0, T0 + 600, ())
    body = b",".join(cache.render(store, T0, T0 + 600, ("temperature",))[1])
    assert body == fresh(store, T0, T0 + 600, ("temperature",))
    assert b'"temperature"' in body


def test_a_sample_added_to_a_cached_minute_shows_up(store: SampleStore) -> None:
    cache = SeriesCache()
    before, _ = cache.render(store, T0, T0 + 600, ())
    extra = store.range(T0, T0 + 1)[0]
    reading = store.latest()
    assert reading is not None
    store.add_many([Sample(T0 + 120.75, reading.reading)])
    after, parts = cache.render(store, T0, T0 + 600, ())
    body = b",".join(parts)
    assert after == before + 1
    assert body == fresh(store, T0, T0 + 600)
    assert extra


def test_pruned_samples_disappear(store: SampleStore) -> None:
    cache = SeriesCache()
    cache.render(store, T0, T0 + 600, ())
    store.prune(T0 + 90)  # cuts the second minute in half
    count, parts = cache.render(store, T0, T0 + 600, ())
    assert b",".join(parts) == fresh(store, T0, T0 + 600)
    assert count == 600 - 90


def test_budget_bounds_the_memory(store: SampleStore) -> None:
    cache = SeriesCache(budget_bytes=10_000)
    cache.render(store, T0, T0 + 600, ())
    assert 0 < cache.size_bytes <= 10_000
    assert b",".join(cache.render(store, T0, T0 + 600, ())[1]) == fresh(store, T0, T0 + 600)


def test_empty_window_renders_nothing(store: SampleStore) -> None:
    assert SeriesCache().render(store, T0 + 5000, T0 + 6000, ()) == (0, [])
    assert SeriesCache().render(store, T0 + 60, T0 + 30, ()) == (0, [])
