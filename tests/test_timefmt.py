"""API timestamps: ISO 8601 local time with microseconds and the UTC offset."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tc66c_server.timefmt import iso, iso_many, parse_iso


@pytest.fixture(params=["UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
def zone(request: pytest.FixtureRequest) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_iso_has_microseconds_and_offset(zone: str) -> None:
    text = iso(1768829112.123456)
    assert len(text) == len("2026-01-19T14:25:12.123456+01:00")
    assert text[19] == "." and text[26] in "+-"
    assert abs(parse_iso(text) - 1768829112.123456) < 1e-6


def test_whole_seconds_still_show_six_digits(zone: str) -> None:
    assert iso_many([1768829112.0])[0][19:26] == ".000000"


@given(st.lists(st.floats(0, 4e9, allow_nan=False), max_size=50))
def test_iso_many_equals_iso_for_every_stamp(stamps: list[float]) -> None:
    ordered = sorted(stamps)
    assert iso_many(ordered) == [iso(ts) for ts in ordered]


def test_iso_many_across_a_dst_change_uses_each_stamps_offset(zone: str) -> None:
    start = 1774745000.5  # 2026-03-29, hours around the European spring change
    stamps = [start + k * 600.25 for k in range(24)]
    assert iso_many(stamps) == [iso(ts) for ts in stamps]
