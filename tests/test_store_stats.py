from __future__ import annotations

import math
import random
from dataclasses import dataclass
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc66c_server import quantities as q
from tc66c_server.reading import Sample
from tc66c_server.store.codec import encode
from tc66c_server.store.stats import QuantityStats, Stats, stats
from tc66c_server.store.writes import prune

from .storehelpers import T0, insert, memory_db, raw_sample, sample


@dataclass(frozen=True, order=True)
class _Raw:
    ts_us: int
    v: int
    i: int
    p: int


def _brute(samples: list[Sample], start_ts: float, end_ts: float, gap_s: float) -> Stats:
    """Stats by the definition: one pass over every sample in the window."""
    a, b, gap = round(start_ts * 1e6), round(end_ts * 1e6), round(gap_s * 1e6)
    rows = sorted(_Raw(r.ts_us, *r.values[:3]) for r in map(encode, samples) if a <= r.ts_us <= b)
    e2 = q2 = covered = 0
    for prev, cur in pairwise(rows):
        dt = cur.ts_us - prev.ts_us
        if dt <= gap:
            e2 += (prev.p + cur.p) * dt
            q2 += (prev.i + cur.i) * dt
            covered += dt
    per: list[QuantityStats | None] = [None, None, None]
    if rows:
        per = [
            QuantityStats(
                quantity.from_raw(min(values)),
                quantity.from_raw(max(values)),
                round(sum(values) / len(values) / quantity.scale, quantity.decimals + 1),
            )
            for quantity, values in zip(
                q.CORE, ([r.v for r in rows], [r.i for r in rows], [r.p for r in rows]), strict=True
            )
        ]
    return Stats(
        start_ts=start_ts,
        end_ts=end_ts,
        gap_s=gap_s,
        sample_count=len(rows),
        voltage=per[0],
        current=per[1],
        power=per[2],
        energy_wh=round(e2 / (2 * 10**4 * 10**6 * 3600), 6),
        charge_mah=round(q2 / (2 * 10**5 * 10**6 * 3.6), 6),
        duration_s=covered / 1e6,
    )


def _assert_same(got: Stats, want: Stats) -> None:
    assert got.sample_count == want.sample_count
    assert (got.voltage, got.current, got.power) == (want.voltage, want.current, want.power)
    assert got.duration_s == want.duration_s
    # Sums of the rollups are added as floats: equal to the last rounded digit at worst.
    assert math.isclose(got.energy_wh, want.energy_wh, rel_tol=1e-12, abs_tol=1.01e-6)
    assert math.isclose(got.charge_mah, want.charge_mah, rel_tol=1e-12, abs_tol=1.01e-6)


@st.composite
def _sessions(draw: st.DrawFn) -> list[Sample]:
    """Samples with short steps, pauses and long gaps, crossing minute boundaries."""
    count = draw(st.integers(0, 400))
    seed = draw(st.integers(0, 2**32))
    rng = random.Random(seed)
    ts_us = round(T0 * 1e6) + rng.randrange(120_000_000)
    out = []
    for _ in range(count):
        out.append(
            raw_sample(
                ts_us,
                rng.randrange(0, 250_000),
                rng.randrange(0, 600_000),
                rng.randrange(0, 1_500_000),
            )
        )
        kind = rng.random()
        if kind < 0.85:
            ts_us += rng.randrange(1, 2_000_000)  # a poll interval, jittered
        elif kind < 0.97:
            ts_us += rng.randrange(2_000_000, 90_000_000)  # a pause across minutes
        else:
            ts_us += rng.randrange(90_000_000, 900_000_000)  # the meter was unplugged
    return out


@settings(max_examples=150, deadline=None)
@given(
    samples=_sessions(),
    edges=st.tuples(st.floats(-0.1, 1.1), st.floats(-0.1, 1.1)),
    gap_s=st.sampled_from([0.0, 0.5, 1.0, 1.5, 5.0, 59.0, 60.0, 200.0, 10_000.0]),
    batches=st.integers(1, 4),
)
def test_stats_equal_a_pass_over_every_sample(
    samples: list[Sample], edges: tuple[float, float], gap_s: float, batches: int
) -> None:
    conn = memory_db()
    for k in range(batches):  # interleaved batches: out of order inserts included
        insert(conn, samples[k::batches])
    first = samples[0].ts if samples else T0
    span = (samples[-1].ts - first) if samples else 600.0
    # Window edges anywhere, mostly mid-minute, at microsecond precision.
    start_ts = round(first + span * min(edges), 6)
    end_ts = round(first + span * max(edges), 6)
    _assert_same(stats(conn, start_ts, end_ts, gap_s), _brute(samples, start_ts, end_ts, gap_s))


@settings(max_examples=40, deadline=None)
@given(samples=_sessions(), cut=st.floats(0, 1), gap_s=st.sampled_from([1.0, 5.0, 100.0]))
def test_stats_stay_exact_after_a_prune(samples: list[Sample], cut: float, gap_s: float) -> None:
    conn = memory_db()
    insert(conn, samples)
    if samples:
        before_ts = round(samples[0].ts + (samples[-1].ts - samples[0].ts) * cut, 6)
        prune(conn, round(before_ts * 1e6))
        samples = [s for s in samples if s.ts >= before_ts]
    _assert_same(stats(conn, 0, T0 + 10**7, gap_s), _brute(samples, 0, T0 + 10**7, gap_s))


def test_one_watt_for_an_hour_is_one_watt_hour() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + k, voltage=5.0, current=0.2, power=1.0) for k in range(3601)])
    result = stats(conn, T0, T0 + 3600, gap_s=5)
    assert result.sample_count == 3601
    assert result.energy_wh == 1.0
    assert result.charge_mah == 200.0
    assert result.duration_s == 3600.0
    assert result.power == QuantityStats(1.0, 1.0, 1.0)


def test_a_gap_longer_than_the_threshold_contributes_nothing() -> None:
    conn = memory_db()
    before = [sample(T0 + k, power=2.0, current=0.4) for k in range(61)]  # 60 s covered
    after = [sample(T0 + 600 + k, power=2.0, current=0.4) for k in range(61)]  # 9 min later
    insert(conn, before + after)
    result = stats(conn, T0, T0 + 660, gap_s=10)
    assert result.duration_s == 120.0
    assert result.energy_wh == round(2.0 * 120 / 3600, 6)
    bridged = stats(conn, T0, T0 + 660, gap_s=600)
    assert bridged.duration_s == 660.0


def test_empty_window_has_a_count_of_zero_and_no_extremes() -> None:
    conn = memory_db()
    insert(conn, [sample(T0 + k) for k in range(10)])
    result = stats(conn, T0 + 100, T0 + 200, gap_s=5)
    assert result == Stats(T0 + 100, T0 + 200, 5, 0, None, None, None, 0.0, 0.0, 0.0)


def test_averages_have_one_decimal_more_than_the_device() -> None:
    conn = memory_db()
    insert(conn, [sample(T0, voltage=5.0001), sample(T0 + 1, voltage=5.0002)])
    assert stats(conn, T0, T0 + 1, gap_s=5).voltage == QuantityStats(5.0001, 5.0002, 5.00015)


def test_negative_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="gap_s"):
        stats(memory_db(), T0, T0 + 1, gap_s=-1)
