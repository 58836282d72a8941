from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tc66c_server.store import chunk
from tc66c_server.store.schema import US_PER_MINUTE, VALUE_COLUMNS

BASE_US = 28_866_667 * US_PER_MINUTE
WIDTH = len(VALUE_COLUMNS)

# Values the store accepts (|raw| < 2**32) and time steps from a microsecond to a minute.
_values = st.tuples(*[st.integers(-(2**32) + 1, 2**32 - 1)] * WIDTH)
_small = st.tuples(*[st.integers(0, 3)] * WIDTH)


@st.composite
def _chunks(draw: st.DrawFn, values: st.SearchStrategy[tuple[int, ...]] = _values) -> list:
    offsets = draw(
        st.lists(st.integers(0, US_PER_MINUTE - 1), min_size=1, max_size=120, unique=True)
    )
    return [(BASE_US + offset, draw(values)) for offset in sorted(offsets)]


@given(_chunks())
def test_any_minute_of_samples_decodes_to_what_was_encoded(rows: list) -> None:
    assert chunk.rows(chunk.encode(rows, BASE_US), BASE_US) == rows


@given(_chunks(_small), st.sets(st.integers(0, WIDTH - 1)))
def test_decoding_some_columns_gives_exactly_those(rows: list, wanted: set[int]) -> None:
    decoded = chunk.decode(chunk.encode(rows, BASE_US), BASE_US, wanted)
    assert decoded.times == [ts for ts, _ in rows]
    for index in wanted:
        assert decoded.column(index) == [values[index] for _, values in rows]


def test_a_column_not_asked_for_is_not_there() -> None:
    rows = [(BASE_US, tuple(range(WIDTH)))]
    decoded = chunk.decode(chunk.encode(rows, BASE_US), BASE_US, [3])
    with pytest.raises(KeyError):
        decoded.column(7)


def test_a_steady_meter_costs_a_few_bytes_per_sample() -> None:
    # 1 Hz, voltage wobbling by a step, power and resistance as the meter computes them.
    rows = []
    for k in range(60):
        voltage, current = 51_600 + k % 3, 199_000 + 7 * (k % 5)
        power = chunk.predicted_power(voltage, current)
        resistance = chunk.predicted_resistance(voltage, current)
        values = (1, voltage, current, power, resistance, 27, 281, 280, 12, 60, 0, 0)
        rows.append((BASE_US + k * 1_000_000, values))
    blob = chunk.encode(rows, BASE_US)
    assert len(blob) / len(rows) < 3
    assert chunk.rows(blob, BASE_US) == rows


def test_values_far_outside_the_usual_steps_survive_among_small_ones() -> None:
    rows = [(BASE_US + k, (0, *[0] * (WIDTH - 1))) for k in range(50)]
    rows[17] = (rows[17][0], (0, 2**32 - 1, -(2**32) + 1, 5, *[0] * (WIDTH - 4)))
    rows[18] = (rows[18][0], (0, -128, 127, -32768, 32767, *[0] * (WIDTH - 5)))
    assert chunk.rows(chunk.encode(rows, BASE_US), BASE_US) == rows


def test_resistance_prediction_is_capped_like_the_meter_and_safe_without_current() -> None:
    assert chunk.predicted_resistance(51_609, 1_990) == 2_593  # 5.1609 V / 0.0199 A
    assert chunk.predicted_resistance(51_609, 0) == 99_999
    assert chunk.predicted_resistance(51_609, -4) == 99_999
    assert chunk.predicted_resistance(51_609, 1) == 99_999
    assert chunk.predicted_power(51_609, 1_990) == 1_027


def test_an_unknown_format_or_an_empty_chunk_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        chunk.decode(b"\x07" + zlib.compress(b""), BASE_US)
    with pytest.raises(ValueError, match="at least one"):
        chunk.encode([], BASE_US)


@given(_chunks(), st.integers(1, 5), st.sets(st.integers(0, WIDTH - 1)))
def test_a_chunk_appended_to_in_segments_decodes_like_one(
    rows: list, segments: int, wanted: set[int]
) -> None:
    size = -(-len(rows) // segments)
    blob = chunk.encode(rows[:size], BASE_US)
    for start in range(size, len(rows), size):
        blob = chunk.append(blob, rows[start : start + size], BASE_US)
    assert chunk.segments(blob) == -(-len(rows) // size)
    assert chunk.rows(blob, BASE_US) == rows
    decoded = chunk.decode(blob, BASE_US, wanted)
    for index in range(WIDTH):
        if index in wanted:
            assert decoded.column(index) == [values[index] for _, values in rows]
        elif index not in (1, 2):  # voltage and current may be decoded to predict power
            assert decoded.values[index] is None
