"""How a sample's integers are stored: as differences from the previous sample of its minute.

Within a minute each stored value is the raw device integer minus the one of the sample
before it; the first sample of the minute is relative to the minute's ``base_*`` values.
Successive readings differ little (the counters, temperature and data lines mostly not at
all), and SQLite stores small integers in 0-2 bytes instead of 3-4, which is what keeps a
sample near 32 bytes on disk. A value is rebuilt as base + running sum within its minute:
in SQL by ``decoded_samples``, in Python by ``decode_run``; ``encode_run`` is the inverse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import add, sub

from .. import quantities as q
from .schema import US_PER_MINUTE, US_PER_S

#: Stored values of one sample: device id, then the quantities in ``quantities.ALL`` order.
Values = tuple[int, ...]

_MINUTE_OF = f"m.minute * {US_PER_MINUTE}"
#: Joins each sample to its minute; ``CROSS JOIN`` pins the loop order (minutes outside, a
#: rowid range of samples inside), so rows arrive in time order and no sort is needed.
FRAMED = (
    f"minutes AS m CROSS JOIN samples AS s "
    f"ON s.ts_us BETWEEN {_MINUTE_OF} AND {_MINUTE_OF} + {US_PER_MINUTE - 1}"
)
#: Window filter for ``decoded_samples``: minutes :m0..:m1, samples up to :b. Callers keep
#: ``ts_us >= :a`` outside, because the running sums must start at the minute's first row.
IN_WINDOW = "m.minute BETWEEN :m0 AND :m1 AND s.ts_us <= :b"


def decoded_samples(keys: Iterable[str], where: str = IN_WINDOW, *, as_floats: bool = False) -> str:
    """A subquery yielding ``minute``, ``ts_us`` and the raw integer of each column in
    ``keys`` (``device`` or quantity keys) for the samples of the minutes ``where`` selects.

    With ``as_floats`` the quantities come as floats at the device's resolution, and a
    ``ts`` column gives the time in Unix seconds (converting here is faster than outside).
    """
    columns = []
    for key in keys:
        raw = f"m.base_{key} + SUM(s.{key}) OVER running"
        columns.append(f", {scaled(key, f'({raw})') if as_floats else raw} AS {key}")
    if as_floats:
        columns.append(f", {seconds('s.ts_us')} AS ts")
    return f"""(
        SELECT m.minute AS minute, s.ts_us AS ts_us{"".join(columns)}
        FROM {FRAMED}
        WHERE {where}
        WINDOW running AS (PARTITION BY m.minute ORDER BY s.ts_us ROWS UNBOUNDED PRECEDING)
    )"""


def scaled(key: str, raw: str | None = None) -> str:
    """SQL for the raw integer ``raw`` (default: column ``key``) as the quantity's float at
    the device's resolution, the same double as ``Quantity.from_raw``."""
    return f"{raw or key} / {float(q.BY_KEY[key].scale)!r}"


def seconds(ts_us: str) -> str:
    """SQL for integer microseconds as Unix seconds, the same double as ``codec.us_to_ts``."""
    return f"{ts_us} / {float(US_PER_S)!r}"


def window_params(start_us: int, end_us: int) -> dict[str, int]:
    """The named parameters ``IN_WINDOW`` and the ``ts_us >= :a`` filter expect."""
    return {
        "a": start_us,
        "b": end_us,
        "m0": start_us // US_PER_MINUTE,
        "m1": end_us // US_PER_MINUTE,
    }


def encode_run(previous: Values, run: Iterable[tuple[int, Values]]) -> list[tuple[int, ...]]:
    """``(ts_us, *differences)`` rows for samples in time order that follow ``previous``."""
    rows = []
    for ts_us, values in run:
        rows.append((ts_us, *map(sub, values, previous)))
        previous = values
    return rows


def decode_run(base: Values, rows: Iterable[Sequence[int]]) -> list[tuple[int, Values]]:
    """The inverse of ``encode_run``: ``(ts_us, values)`` from stored rows in time order."""
    decoded = []
    current = base
    for row in rows:
        current = tuple(map(add, current, row[1:]))
        decoded.append((row[0], current))
    return decoded
