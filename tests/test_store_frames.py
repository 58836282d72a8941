from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from tc66c_server.store.frames import decode_run, decoded_samples, encode_run, window_params
from tc66c_server.store.schema import US_PER_MINUTE, VALUE_COLUMNS

from .storehelpers import memory_db

values = st.tuples(*[st.integers(-(2**33), 2**33) for _ in VALUE_COLUMNS])


@given(
    base=values,
    run=st.lists(st.tuples(st.integers(0, US_PER_MINUTE - 1), values), unique_by=lambda r: r[0]),
)
def test_differences_decode_to_the_values_encoded(
    base: tuple[int, ...], run: list[tuple[int, tuple[int, ...]]]
) -> None:
    run.sort()
    assert decode_run(base, encode_run(base, run)) == run


def test_first_sample_of_a_minute_stored_against_itself_costs_nothing() -> None:
    first = (1, 51609, 1990, 1026, 2593, 27, 281, 280, 0, 5, 0, 0)
    rows = encode_run(first, [(0, first), (1, (1, 51610, *first[2:]))])
    assert rows == [(0, *[0] * 12), (1, 0, 1, *[0] * 10)]


def test_sql_decoding_matches_python_decoding() -> None:
    rng = random.Random(3)
    conn = memory_db()
    expected = []
    for minute in (28_866_667, 28_866_668, 28_866_670):
        base = tuple(rng.randrange(-(2**31), 2**31) for _ in VALUE_COLUMNS)
        times = sorted(rng.sample(range(minute * US_PER_MINUTE, (minute + 1) * US_PER_MINUTE), 50))
        run = [(ts, tuple(rng.randrange(0, 2**32) for _ in VALUE_COLUMNS)) for ts in times]
        columns = ", ".join(f"base_{c}" for c in VALUE_COLUMNS)
        conn.execute(
            f"INSERT INTO minutes (minute, {columns}) VALUES ({', '.join('?' * 13)})",
            (minute, *base),
        )
        conn.executemany(
            f"INSERT INTO samples VALUES ({', '.join('?' * 13)})", encode_run(base, run)
        )
        expected += run
    start, end = expected[10][0], expected[-5][0]
    rows = conn.execute(
        f"SELECT ts_us, {', '.join(VALUE_COLUMNS)} FROM {decoded_samples(VALUE_COLUMNS)} "
        "WHERE ts_us >= :a",
        window_params(start, end),
    ).fetchall()
    assert [(row[0], tuple(row[1:])) for row in rows] == expected[10:-4]
