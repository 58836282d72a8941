from __future__ import annotations

import pytest

from tc66c_server.periods import Period, PeriodError, parse_period


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1),
        ("30s", 30),
        ("90s", 90),
        ("5m", 300),
        ("1h", 3600),
        ("2d", 172_800),
        ("1h30m", 5400),
        ("2d12h", 216_000),
        ("1d2h3m4s", 93_784),
        ("1m30s", 90),
        ("48h", 172_800),
        ("366d", 31_622_400),
        ("365d23h59m60s", 31_622_400),
    ],
)
def test_valid_period_gives_its_length_in_seconds(text: str, seconds: int) -> None:
    assert parse_period(text) == Period(text, float(seconds))


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "0s",  # zero
        "0m",
        "1h0m",  # a zero part
        "-5m",  # negative
        "+5m",
        "5",  # no unit
        "m",  # no number
        "5x",  # unknown unit
        "5M",  # units are lower case
        "1.5h",  # whole numbers only
        "05m",  # no leading zero
        " 5m",  # no whitespace
        "5m ",
        "1h 30m",
        "5m\n",
        "1h1h",  # repeated unit
        "30m1h",  # wrong order
        "1s1m",
        "366d1s",  # more than 366 days
        "367d",
        "8785h",
        "9" * 40 + "s",  # absurdly long
        "٣s",  # digits from another script
        "1w",
    ],
)
def test_invalid_period_is_refused_with_a_message_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    message = str(caught.value)
    assert message.startswith("invalid period '")
    assert "30s, 5m, 1h, 2d or 1h30m" in message
    assert "366d" in message


def test_period_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"invalid period '5x': use a positive duration"):
        parse_period("5x")


def test_message_shortens_a_very_long_input() -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period("x" * 10_000)
    assert len(str(caught.value)) < 200
