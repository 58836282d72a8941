"""Windowed energy of a pair: trapezoids, gaps and the time both meters cover."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tc66c_server.pairs import pair_energy
from tc66c_server.pairs.energy import coverage, intersect
from tc66c_server.reading import Sample
from tc66c_server.store import SampleStore

from .storehelpers import T0, reading


def rows(times: list[float], powers: list[float] | float) -> list[tuple[float, ...]]:
    """Store-shaped rows ``(ts, voltage, current, power)`` at 5 V."""
    if isinstance(powers, float | int):
        powers = [float(powers)] * len(times)
    return [(T0 + t, 5.0, p / 5.0, p) for t, p in zip(times, powers, strict=True)]


def seconds(n: int, start: float = 0.0) -> list[float]:
    return [start + k for k in range(n)]


def test_constant_powers_give_their_ratio_and_the_lost_watts() -> None:
    energy = pair_energy(rows(seconds(10), 10.0), rows(seconds(10), 9.0), gap_s=2.0)
    assert energy.duration_s == pytest.approx(9.0)
    assert energy.energy_in_wh == pytest.approx(90 / 3600)
    assert energy.energy_out_wh == pytest.approx(81 / 3600)
    assert energy.efficiency == pytest.approx(0.9)
    assert energy.loss_w == pytest.approx(1.0)


def test_a_power_step_is_integrated_by_trapezoids() -> None:
    energy = pair_energy(rows([0, 1, 2], [0.0, 10.0, 10.0]), rows([0, 1, 2], 4.0), gap_s=2.0)
    assert energy.energy_in_wh == pytest.approx((5 + 10) / 3600)  # half a second at 10 W, + 1 s
    assert energy.efficiency == pytest.approx(8 / 15)


def test_a_gap_in_one_meter_removes_that_time_from_both() -> None:
    # The input meter misses 3..6 (a 5 s step > gap_s): neither energy counts it.
    inp = rows([0, 1, 2, 7, 8, 9], 10.0)
    out = rows(seconds(10), 9.0)
    energy = pair_energy(inp, out, gap_s=2.0)
    assert energy.duration_s == pytest.approx(4.0)
    assert energy.energy_in_wh == pytest.approx(40 / 3600)
    assert energy.energy_out_wh == pytest.approx(36 / 3600)
    assert energy.efficiency == pytest.approx(0.9)
    assert energy.loss_w == pytest.approx(1.0)


def test_a_step_of_exactly_gap_s_is_bridged_as_in_the_store() -> None:
    energy = pair_energy(rows([0, 2], 10.0), rows([0, 2], 9.0), gap_s=2.0)
    assert energy.energy_in_wh == pytest.approx(20 / 3600)
    assert pair_energy(rows([0, 2], 10.0), rows([0, 2], 9.0), gap_s=1.999).energy_in_wh == 0


def test_edges_are_clipped_to_the_common_time_with_interpolated_power() -> None:
    # Input power = t W over 0..10 s; the output meter only answers from 2.5 to 7.5 s.
    inp = rows(seconds(11), [float(t) for t in range(11)])
    out = rows([2.5, 3.5, 4.5, 5.5, 6.5, 7.5], 1.0)
    energy = pair_energy(inp, out, gap_s=2.0)
    assert energy.duration_s == pytest.approx(5.0)
    assert energy.energy_in_wh == pytest.approx((7.5**2 - 2.5**2) / 2 / 3600)
    assert energy.energy_out_wh == pytest.approx(5 / 3600)


def test_meters_that_never_answer_together_give_no_efficiency() -> None:
    energy = pair_energy(rows(seconds(5), 10.0), rows(seconds(5, start=100), 9.0), gap_s=2.0)
    assert (energy.energy_in_wh, energy.energy_out_wh, energy.duration_s) == (0, 0, 0)
    assert energy.efficiency is None
    assert energy.loss_w is None
    assert pair_energy([], [], gap_s=2.0).efficiency is None


def test_no_input_power_gives_no_efficiency_but_a_loss() -> None:
    energy = pair_energy(rows(seconds(5), 0.0), rows(seconds(5), 0.0), gap_s=2.0)
    assert energy.efficiency is None
    assert energy.loss_w == 0


def test_intervals_intersect_pairwise() -> None:
    a = [(0.0, 2.0), (3.0, 6.0), (8.0, 9.0)]
    b = [(1.0, 4.0), (5.0, 8.5)]
    assert intersect(a, b) == [(1.0, 2.0), (3.0, 4.0), (5.0, 6.0), (8.0, 8.5)]


def test_coverage_joins_short_steps_and_skips_long_ones() -> None:
    spans = coverage(rows([0, 1, 2, 6, 7, 20], 1.0), gap_s=2.0)
    assert spans == [(T0, T0 + 2), (T0 + 6, T0 + 7)]
    with pytest.raises(ValueError, match="gap_s"):
        coverage([], gap_s=-1)


def test_with_the_same_coverage_each_energy_is_the_stores_energy(tmp_path: Path) -> None:
    rng = random.Random(4)
    samples, t = [], T0 + 0.3
    for _ in range(400):
        t += rng.choice((0.1, 0.2, 0.9, 1.0, 1.1, 3.5))  # gaps above and below gap_s
        samples.append(Sample(t, reading(power=round(rng.uniform(0, 60), 4))))
    with SampleStore(tmp_path / "samples.sqlite3") as store:
        store.add_many(samples)
        start, end = T0 + 10, samples[-1].ts - 5
        window = store.range(start, end)
        expected = store.stats(start, end, gap_s=2.0).energy_wh
    energy = pair_energy(window, window, gap_s=2.0)
    assert round(energy.energy_in_wh, 6) == expected
    assert energy.efficiency == pytest.approx(1.0)
