"""Period strings such as ``30s``, ``5m``, ``1h30m`` or ``2d``, parsed into seconds."""

from __future__ import annotations

import re
from dataclasses import dataclass

UNIT_S: dict[str, int] = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
MAX_SECONDS = 366 * 86_400
#: Far more digits than any period up to MAX_SECONDS needs; stops giant numbers early.
_MAX_TEXT_LEN = 32
# Units in decreasing order, each at most once, each count a positive integer with no leading
# zero; [0-9] rather than \d so that other scripts' digits are refused.
_PERIOD = re.compile("".join(f"(?:([1-9][0-9]*){unit})?" for unit in UNIT_S))


class PeriodError(ValueError):
    """A period string that is not a positive duration in the accepted form."""


@dataclass(frozen=True, slots=True)
class Period:
    """A validated duration: the text as given and its length in seconds."""

    text: str
    seconds: float


def parse_period(text: str) -> Period:
    """Parse ``Nd``, ``Nh``, ``Nm``, ``Ns`` or a compound in that order, like ``1h30m``.

    Raises ``PeriodError`` for anything else: empty, zero, signs, spaces, other units,
    repeated or out-of-order units, or more than 366 days.
    """
    match = _PERIOD.fullmatch(text) if len(text) <= _MAX_TEXT_LEN else None
    if match is None or not any(match.groups()):
        raise PeriodError(_message(text))
    seconds = sum(
        int(count) * UNIT_S[unit]
        for count, unit in zip(match.groups(), UNIT_S, strict=True)
        if count is not None
    )
    if seconds > MAX_SECONDS:
        raise PeriodError(_message(text))
    return Period(text, float(seconds))


def _message(text: str) -> str:
    shown = text if len(text) <= _MAX_TEXT_LEN else text[:_MAX_TEXT_LEN] + "..."
    return (
        f"invalid period {shown!r}: use a positive duration like 30s, 5m, 1h, 2d or 1h30m "
        "(at most 366d)"
    )
