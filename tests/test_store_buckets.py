from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc66c_server import quantities as q
from tc66c_server.reading import Sample
from tc66c_server.store.buckets import LADDER_S, bucket_width_s, buckets

from .storehelpers import T0, insert, memory_db, sample

DAY = 86_400


@pytest.mark.parametrize(
    ("span_s", "max_points", "width_s"),
    [
        (60, 100, 1),  # 61 one-second buckets fit
        (300, 300, 2),  # 301 would not: 151 two-second ones
        (300, 1000, 1),
        (3600, 1000, 5),
        (3600, 100, 60),
        (DAY, 1000, 120),
        (DAY, 300, 300),
        (DAY, 24, 7200),  # 25 one-hour buckets would be one too many
        (7 * DAY, 1000, 900),
        (30 * DAY, 100, 43200),
        (366 * DAY, 400, DAY),
        (366 * DAY, 100, 4 * DAY),  # past the ladder: whole days, doubling
        (366 * DAY, 1, 1024 * DAY),  # one bucket: until an epoch multiple holds both ends
    ],
)
def test_width_is_the_smallest_ladder_step_that_fits(
    span_s: int, max_points: int, width_s: int
) -> None:
    start = 1_700_006_400  # a multiple of every ladder width below one day
    assert bucket_width_s(start, start + span_s, max_points) == width_s


@settings(max_examples=300)
@given(
    start=st.floats(1.5e9, 1.8e9),
    span=st.floats(0, 366 * DAY),
    max_points=st.integers(1, 5000),
)
def test_width_never_gives_more_buckets_than_asked(
    start: float, span: float, max_points: int
) -> None:
    width = bucket_width_s(start, start + span, max_points)
    assert (start + span) // width - start // width + 1 <= max_points
    smaller = [w for w in LADDER_S if w < width]
    if smaller:  # and the next smaller width would not have fitted
        w = smaller[-1]
        assert (start + span) // w - start // w + 1 > max_points


def test_zero_max_points_is_refused() -> None:
    with pytest.raises(ValueError, match="max_points"):
        bucket_width_s(T0, T0 + 60, 0)


def test_a_one_sample_spike_survives_as_the_bucket_max() -> None:
    conn = memory_db()
    samples = [sample(T0 + k, current=0.5) for k in range(3600)]
    samples[1234] = sample(T0 + 1234, current=2.75)
    insert(conn, samples)
    for max_points in (1000, 60, 10):  # raw buckets and minute-rollup buckets
        series = buckets(conn, T0, T0 + 3599, max_points)
        column = series.columns.index("current_max")
        assert max(row[column] for row in series.rows) == 2.75
        assert sorted(row[column] for row in series.rows).count(2.75) == 1


def test_buckets_start_on_multiples_of_the_width_whatever_the_window() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + k * 0.5) for k in range(7200)])
    for offset in (0.0, 0.3, 7.77, 61.5):
        series = buckets(conn, T0 + offset, T0 + offset + 1800, 100)
        assert series.width_s == 30
        assert all(row[0] % 30 == 0 for row in series.rows)
        assert series.rows[0][0] <= T0 + offset < series.rows[0][0] + 30


def test_sliding_the_window_does_not_change_the_buckets_it_keeps() -> None:
    conn = memory_db()
    rng = random.Random(5)
    insert(conn, [sample(T0 + k, voltage=rng.randrange(50000, 51000) / 1e4) for k in range(3600)])
    first = {row[0]: row for row in buckets(conn, T0, T0 + 1800, 100).rows}
    later = {row[0]: row for row in buckets(conn, T0 + 47, T0 + 1847, 100).rows}
    shared = first.keys() & later.keys()
    assert len(shared) == 60
    assert all(first[ts] == later[ts] for ts in shared)


def test_empty_buckets_are_left_out() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + k) for k in range(60)] + [sample(T0 + 600 + k) for k in range(60)])
    series = buckets(conn, T0, T0 + 660, 1000)
    assert series.width_s == 1
    assert len(series.rows) == 120
    assert all(row[1] == 1 for row in series.rows)


def test_empty_window_has_no_buckets_but_says_its_columns() -> None:
    conn = memory_db()
    series = buckets(conn, T0, T0 + 3600, 100, ["temperature"])
    assert series.rows == []
    assert series.columns == (
        "ts",
        "count",
        *("voltage", "voltage_min", "voltage_max"),
        *("current", "current_min", "current_max"),
        *("power", "power_min", "power_max"),
        *("temperature", "temperature_min", "temperature_max"),
    )


def _brute(
    samples: list[Sample], first: float, width: int, keys: list[str]
) -> list[tuple[float, ...]]:
    groups: dict[int, list[Sample]] = {}
    for s in samples:
        groups.setdefault(int(s.ts // width), []).append(s)
    rows = []
    for index in sorted(groups):
        if index * width + width <= first:
            continue
        members = groups[index]
        row: list[float] = [float(index * width), len(members)]
        for key in keys:
            quantity = q.BY_KEY[key]
            raw = [quantity.to_raw(getattr(s.reading, key)) for s in members]
            row.append(round(sum(raw) / len(raw) / quantity.scale, quantity.decimals + 1))
            row.append(quantity.from_raw(min(raw)))
            row.append(quantity.from_raw(max(raw)))
        rows.append(tuple(row))
    return rows


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    max_points=st.sampled_from([3, 10, 50, 200, 5000]),
    extra=st.sampled_from([[], ["temperature", "group0_mwh"]]),
)
def test_buckets_equal_grouping_every_sample(seed: int, max_points: int, extra: list[str]) -> None:
    rng = random.Random(seed)
    ts_us = round(T0 * 1e6) + rng.randrange(300_000_000)
    samples = []
    for k in range(rng.randrange(1, 900)):
        samples.append(
            sample(
                ts_us / 1e6,
                voltage=rng.randrange(45000, 210000) / 1e4,
                current=rng.randrange(0, 300000) / 1e5,
                power=rng.randrange(0, 600000) / 1e4,
                temperature=rng.randrange(-5, 60),
                group0_mwh=k,
            )
        )
        ts_us += rng.choice([rng.randrange(1, 3_000_000), rng.randrange(1, 400_000_000)])
    conn = memory_db()
    insert(conn, samples)
    start, end = samples[0].ts + rng.random() * 100, samples[-1].ts
    series = buckets(conn, start, end, max_points, extra)
    assert len(series.rows) <= max_points
    width = int(series.width_s)
    keys = ["voltage", "current", "power", *extra]
    window = [s for s in samples if s.ts < (end // width + 1) * width]
    expected = _brute(window, start, width, keys)
    assert len(series.rows) == len(expected)
    for got, want in zip(series.rows, expected, strict=True):
        assert got[:2] == want[:2]
        for k, key in enumerate(keys):
            avg, low, high = got[2 + 3 * k : 5 + 3 * k]
            assert (low, high) == want[3 + 3 * k : 5 + 3 * k]
            # SQLite's round() may settle a near-tie the other way than Python's.
            step = 10.0 ** -(q.BY_KEY[key].decimals + 1)
            assert abs(avg - want[2 + 3 * k]) <= step * 1.01
