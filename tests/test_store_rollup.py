from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tc66c_server import quantities as q
from tc66c_server.store.rollup import (
    COLUMNS,
    MINUTE_COLUMNS,
    STEP_COLUMNS,
    Rollup,
    extend,
    summarize,
)
from tc66c_server.store.schema import LEVELS, MINUTES

from .storehelpers import memory_db

_samples = st.lists(
    st.tuples(st.integers(0, 59_999_999), st.tuples(*[st.integers(0, 2**32 - 1)] * 12)),
    min_size=1,
    max_size=80,
    unique_by=lambda sample: sample[0],
).map(sorted)


@given(_samples)
def test_summary_is_min_max_sum_and_the_trapezoid_sums(
    run: list[tuple[int, tuple[int, ...]]],
) -> None:
    rollup = summarize(run)
    voltage, current, power = (1 + q.ALL.index(x) for x in q.CORE)
    assert rollup.n == len(run)
    assert rollup.mins[voltage - 1] == min(values[voltage] for _, values in run)
    assert rollup.maxs[power - 1] == max(values[power] for _, values in run)
    assert rollup.sums[current - 1] == sum(values[current] for _, values in run)
    assert rollup.energy_raw2 == sum(
        (a[1][power] + b[1][power]) * (b[0] - a[0]) for a, b in pairwise(run)
    )
    assert rollup.gap_max_us == max((b[0] - a[0] for a, b in pairwise(run)), default=0)
    assert rollup.first == (run[0][0], run[0][1][current], run[0][1][power])
    assert rollup.last == (run[-1][0], run[-1][1][current], run[-1][1][power])


@given(_samples, st.integers(1, 79))
def test_extending_a_rollup_equals_summarizing_everything(
    run: list[tuple[int, tuple[int, ...]]], cut: int
) -> None:
    if cut >= len(run):
        cut = len(run) // 2 or 1
    if len(run) < 2:
        return
    assert extend(summarize(run[:cut]), summarize(run[cut:])) == summarize(run)


@given(_samples)
def test_row_round_trip(run: list[tuple[int, tuple[int, ...]]]) -> None:
    rollup = summarize(run)
    assert len(rollup.as_row()) == len(COLUMNS)
    assert Rollup.from_row(rollup.as_row()) == rollup


def test_every_rollup_column_exists_in_its_level_table() -> None:
    conn = memory_db()
    for level in LEVELS:
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({level.table})")}
        assert set(MINUTE_COLUMNS if level == MINUTES else COLUMNS) <= columns


@given(_samples, st.integers(0, 60_000_000))
def test_long_steps_give_the_integrals_at_any_threshold_they_cover(
    run: list[tuple[int, tuple[int, ...]]], gap: int
) -> None:
    rollup = summarize(run)
    assert rollup.long_steps is not None and rollup.rest_us is not None
    assert rollup.long_steps[0][0] == rollup.gap_max_us
    if rollup.rest_us > gap:
        return  # more steps than those kept exceed the threshold: the samples are needed
    kept = [(a, b) for a, b in pairwise(run) if b[0] - a[0] <= gap]
    power = 1 + q.ALL.index(q.POWER)
    expected = sum((a[1][power] + b[1][power]) * (b[0] - a[0]) for a, b in kept)
    excluded = sum(e2 for dt, e2, _ in rollup.long_steps if dt > gap)
    assert rollup.energy_raw2 - excluded == expected


def test_a_minute_row_keeps_no_long_steps() -> None:
    rollup = summarize([(0, (1,) * 12), (5, (2,) * 12)])
    row = rollup.as_row(steps=False)
    assert len(row) == len(MINUTE_COLUMNS) == len(COLUMNS) - len(STEP_COLUMNS)
    assert Rollup.from_row(row).long_steps is None
    with pytest.raises(ValueError, match="not known"):
        Rollup.from_row(row).as_row()
