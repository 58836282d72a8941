"""Rollups at every level stay exact over days of sparse samples, inserts and prunes."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tc66c_server.reading import Sample
from tc66c_server.store import chunk, schema
from tc66c_server.store.buckets import buckets
from tc66c_server.store.codec import encode
from tc66c_server.store.rollup import COLUMNS, MINUTE_COLUMNS, summarize
from tc66c_server.store.stats import stats
from tc66c_server.store.writes import prune

from .storehelpers import T0, insert, memory_db, raw_sample
from .test_store_buckets import _brute as brute_buckets
from .test_store_stats import _assert_same
from .test_store_stats import _brute as brute_stats

DAY_US = 86_400_000_000


def _days_of_samples(seed: int, count: int) -> list[Sample]:
    """Bursts of 1 Hz samples and pauses from seconds to half a day, over a few days."""
    rng = random.Random(seed)
    ts_us = round(T0 * 1e6) + rng.randrange(DAY_US)
    out = []
    for _ in range(count):
        out.append(
            raw_sample(
                ts_us, rng.randrange(0, 250_000), rng.randrange(0, 600_000), rng.randrange(0, 10**6)
            )
        )
        kind = rng.random()
        if kind < 0.8:
            ts_us += rng.randrange(500_000, 1_500_000)
        elif kind < 0.95:
            ts_us += rng.randrange(2_000_000, 4_000_000_000)  # up to about an hour
        else:
            ts_us += rng.randrange(4_000_000_000, DAY_US // 2)
    return out


def _assert_levels_match_the_samples(conn: object, samples: list[Sample]) -> None:
    """Every level holds, for each unit with samples, exactly their summary, and nothing else."""
    rows = sorted(
        (raw.ts_us, (1, *raw.values)) for raw in map(encode, samples)
    )  # device id 1: the only device
    for level in schema.LEVELS:
        width = level.width_us
        expected: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        for row in rows:
            expected.setdefault(row[0] // width, []).append(row)
        columns = MINUTE_COLUMNS if level == schema.MINUTES else COLUMNS
        stored = {
            slot & 0xFFFFFFFF: tuple(rest)
            for slot, *rest in conn.execute(  # type: ignore[attr-defined]
                f"SELECT slot, {', '.join(columns)} FROM {level.table}"
            )
        }
        steps = level != schema.MINUTES  # the minute rows keep no long steps
        assert stored == {
            unit: summarize(run).as_row(steps=steps) for unit, run in expected.items()
        }
    chunks = {
        slot & 0xFFFFFFFF: chunk.rows(data, (slot & 0xFFFFFFFF) * schema.US_PER_MINUTE)
        for slot, data in conn.execute(  # type: ignore[attr-defined]
            "SELECT slot, data FROM chunks UNION ALL SELECT slot, data FROM open_chunks"
        )
    }
    by_minute: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
    for row in rows:
        by_minute.setdefault(row[0] // schema.US_PER_MINUTE, []).append(row)
    assert chunks == by_minute


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), batches=st.integers(1, 5), cuts=st.lists(st.floats(0, 1)))
def test_every_level_equals_its_samples_after_inserts_in_any_order_and_prunes(
    seed: int, batches: int, cuts: list[float]
) -> None:
    samples = _days_of_samples(seed, 300)
    shuffled = samples[:]
    random.Random(seed).shuffle(shuffled)
    conn = memory_db()
    for k in range(batches):
        insert(conn, shuffled[k::batches])
    _assert_levels_match_the_samples(conn, samples)
    start_us = encode(samples[0]).ts_us
    span_us = encode(samples[-1]).ts_us - start_us
    for cut in cuts[:3]:  # prunes keeping a span somewhere after the cut
        before_us = start_us + round(span_us * cut)
        keep_from = before_us - round(span_us * cut / 2)
        keep_to = keep_from + span_us // 10
        prune(conn, before_us, [("m1", keep_from, keep_to)])
        samples = [
            s
            for s in samples
            if encode(s).ts_us >= before_us or keep_from <= encode(s).ts_us <= keep_to
        ]
        _assert_levels_match_the_samples(conn, samples)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    edges=st.tuples(st.floats(-0.05, 1.05), st.floats(-0.05, 1.05)),
    gap_s=st.sampled_from([0.0, 1.0, 2.0, 5.0, 61.0, 400.0, 3600.0, 7200.0, 90_000.0]),
)
def test_stats_over_days_equal_a_pass_over_every_sample(
    seed: int, edges: tuple[float, float], gap_s: float
) -> None:
    samples = _days_of_samples(seed, 400)
    conn = memory_db()
    insert(conn, samples)
    first, span = samples[0].ts, samples[-1].ts - samples[0].ts
    start_ts = round(first + span * min(edges), 6)
    end_ts = round(first + span * max(edges), 6)
    _assert_same(
        stats(conn, start_ts, end_ts, gap_s), brute_stats(samples, start_ts, end_ts, gap_s)
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), max_points=st.sampled_from([2, 5, 20, 100, 700, 3000]))
def test_buckets_over_days_equal_grouping_every_sample(seed: int, max_points: int) -> None:
    samples = _days_of_samples(seed, 400)
    conn = memory_db()
    insert(conn, samples)
    start, end = samples[0].ts + 1234.5, samples[-1].ts
    series = buckets(conn, start, end, max_points, ["temperature"])
    width = int(series.width_s)
    keys = ["voltage", "current", "power", "temperature"]
    window = [s for s in samples if s.ts < (end // width + 1) * width]
    expected = brute_buckets(window, start, width, keys)
    assert [row[:2] for row in series.rows] == [row[:2] for row in expected]
    for got, want in zip(series.rows, expected, strict=True):
        for k in range(len(keys)):
            assert got[3 + 3 * k : 5 + 3 * k] == want[3 + 3 * k : 5 + 3 * k]
            assert (
                abs(got[2 + 3 * k] - want[2 + 3 * k])
                <= 10.0 ** -({"voltage": 5, "current": 6, "power": 5, "temperature": 1}[keys[k]])
                * 1.01
            )
