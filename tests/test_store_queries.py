from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc66c_server import quantities as q
from tc66c_server.reading import Sample
from tc66c_server.store import UnknownFieldError
from tc66c_server.store.codec import encode
from tc66c_server.store.queries import (
    latest,
    quantity_keys,
    sample_count,
    sample_range,
    summary,
)
from tc66c_server.store.writes import prune

from .storehelpers import T0, insert, memory_db, sample


def _varied(count: int, start: float = T0, step: float = 0.5) -> list[Sample]:
    """Samples whose every field moves, some of them across minute boundaries."""
    rng = random.Random(count)
    out = []
    start_us, step_us = round(start * 1e6), round(step * 1e6)
    for k in range(count):
        out.append(
            sample(
                (start_us + k * step_us + rng.randrange(step_us // 2)) / 1e6,
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
                runs=40 + k // 50,
            )
        )
    return out


def _as_row(s: Sample, keys: tuple[str, ...]) -> tuple[float, ...]:
    return (s.ts, *(float(getattr(s.reading, key)) for key in keys))


def test_empty_store_has_no_latest_and_an_empty_summary() -> None:
    conn = memory_db()
    assert latest(conn) is None
    assert summary(conn) == (0, None, None)
    assert sample_range(conn, 0, T0 + 10**6) == []


def test_latest_is_the_newest_sample_exactly() -> None:
    conn = memory_db()
    samples = _varied(300)
    insert(conn, samples)
    assert latest(conn) == samples[-1]


def test_range_returns_every_field_exactly_in_time_order() -> None:
    conn = memory_db()
    samples = _varied(300)
    insert(conn, samples)
    keys = tuple(quantity.key for quantity in q.ALL)
    rows = sample_range(conn, samples[0].ts, samples[-1].ts, keys)
    assert rows == [_as_row(s, keys) for s in samples]


def test_range_includes_both_edges_and_nothing_outside() -> None:
    conn = memory_db()
    samples = _varied(300)
    insert(conn, samples)
    inside = samples[37:250]
    rows = sample_range(conn, inside[0].ts, inside[-1].ts)
    assert [row[0] for row in rows] == [s.ts for s in inside]


def test_range_puts_core_fields_first_then_the_requested_ones_in_order() -> None:
    conn = memory_db()
    s = sample(T0, temperature=31, d_minus=0.6)
    insert(conn, [s])
    assert sample_range(conn, T0, T0, ["d_minus", "power", "temperature", "d_minus"]) == [
        (T0, 5.1609, 0.0199, 0.1026, 0.6, 31.0)
    ]


def test_unknown_field_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownFieldError, match="unknown field\\(s\\) watts: use some of voltage"):
        quantity_keys(["watts"])


def test_window_ending_before_it_starts_is_empty() -> None:
    conn = memory_db()
    insert(conn, _varied(10))
    assert sample_range(conn, T0 + 5, T0 + 1) == []


def test_summary_counts_and_spans_the_samples() -> None:
    conn = memory_db()
    samples = _varied(500)
    insert(conn, samples)
    assert summary(conn) == (500, samples[0].ts, samples[-1].ts)


def test_sample_at_the_same_microsecond_replaces_the_earlier_one() -> None:
    conn = memory_db()
    insert(conn, [sample(T0, voltage=5.0), sample(T0 + 1, voltage=5.1)])
    insert(conn, [sample(T0, voltage=9.0)])
    assert [row[1] for row in sample_range(conn, T0, T0 + 1)] == [9.0, 5.1]
    assert summary(conn)[0] == 2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), batches=st.integers(1, 8))
def test_samples_inserted_in_any_order_and_batches_read_back_exactly(
    seed: int, batches: int
) -> None:
    samples = _varied(240, step=0.7)
    shuffled = samples[:]
    rng = random.Random(seed)
    rng.shuffle(shuffled)
    conn = memory_db()
    for k in range(batches):
        insert(conn, shuffled[k::batches])
    keys = tuple(quantity.key for quantity in q.ALL)
    assert sample_range(conn, samples[0].ts, samples[-1].ts, keys) == [
        _as_row(s, keys) for s in samples
    ]
    assert latest(conn) == samples[-1]


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 240 * 700_000 + 2_000_000))
def test_prune_removes_older_samples_and_keeps_the_rest_exact(cut: int) -> None:
    samples = _varied(240, step=0.7)
    conn = memory_db()
    insert(conn, samples)
    before_us = encode(samples[0]).ts_us + cut
    kept = [s for s in samples if encode(s).ts_us >= before_us]
    assert prune(conn, before_us) == len(samples) - len(kept)
    keys = tuple(quantity.key for quantity in q.ALL)
    assert sample_range(conn, 0, T0 + 10**6, keys) == [_as_row(s, keys) for s in kept]
    if kept:
        assert summary(conn) == (len(kept), kept[0].ts, kept[-1].ts)
        assert latest(conn) == kept[-1]
    else:
        assert summary(conn) == (0, None, None)
    # Later samples still append correctly after a prune that cut a minute.
    more = _varied(30, start=samples[-1].ts + 0.3)
    insert(conn, more)
    assert sample_range(conn, 0, T0 + 10**6, keys) == [_as_row(s, keys) for s in kept + more]


def test_prune_with_nothing_old_removes_nothing() -> None:
    conn = memory_db()
    insert(conn, _varied(20))
    assert prune(conn, 0) == 0
    assert summary(conn)[0] == 20


_COUNTED = _varied(400, step=0.7)


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(-2_000_000, 400 * 700_000 + 2_000_000),
    length=st.integers(-1_000_000, 400 * 700_000),
)
def test_sample_count_equals_the_rows_of_the_window(start: int, length: int) -> None:
    conn = memory_db()
    insert(conn, _COUNTED)
    lo, hi = T0 + start / 1e6, T0 + (start + length) / 1e6
    assert sample_count(conn, lo, hi) == len(sample_range(conn, lo, hi))


def test_sample_count_includes_both_edges() -> None:
    conn = memory_db()
    insert(conn, _COUNTED)
    first, last = _COUNTED[0].ts, _COUNTED[-1].ts
    assert sample_count(conn, first, last) == len(_COUNTED)
    assert sample_count(conn, first, first) == 1
    assert sample_count(conn, last, first) == 0
