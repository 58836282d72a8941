"""Statistics over a window: extremes, averages, and energy and charge by the trapezoid rule.

The window is cut into pieces, coarsest in the middle: the whole days inside it come from
the day rollups, the whole hours before and after them from the hour rollups, and so on
down to the minutes; the partial minutes at the edges come from raw samples. Rows carry
their first and last samples, so the step between neighbouring rows (their *link*, read
with ``LAG``) joins them exactly. A row whose internal steps are longer than the gap
threshold cannot use its stored integrals as they are (they bridge those steps): when only
its few longest steps (four) are, it subtracts their stored terms; otherwise its integrals are
rebuilt from the level below, for all such rows of a level at once, down to the raw
samples of the minutes that hold such steps. The result is exactly what a pass over
every sample would give, for any threshold.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from itertools import pairwise

from .. import quantities as q
from . import meters
from .codec import ts_to_us
from .queries import raw_window
from .rollup import LONG_STEPS
from .schema import (
    DEFAULT_METER,
    LEVELS,
    MINUTES,
    SLOT_BITS,
    US_PER_S,
    Level,
    slot_range,
    transaction,
)

# Twice-trapezoid sums are in raw units x microseconds; these turn them into Wh and mAh.
_E2_PER_WH = 2 * q.POWER.scale * US_PER_S * 3600
_Q2_PER_MAH = 2 * q.CURRENT.scale * US_PER_S * 3600 / 1000
_CORE = q.CORE
_CORE_KEYS = tuple(quantity.key for quantity in _CORE)
_UNIT_MASK = (1 << SLOT_BITS) - 1
#: A piece of the window: (level index, first unit, last unit), or (-1, first µs, last µs)
#: for raw samples.
_Piece = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class QuantityStats:
    """Extremes at the device's resolution and the mean to one more decimal."""

    min: float
    max: float
    avg: float


@dataclass(frozen=True, slots=True)
class Stats:
    """What happened between ``start_ts`` and ``end_ts`` (both included).

    ``energy_wh`` and ``charge_mah`` (both to 6 decimals) integrate power and current by
    the trapezoid rule over consecutive samples no more than ``gap_s`` apart: a longer gap
    adds nothing. ``duration_s`` is the time those steps cover.
    """

    start_ts: float
    end_ts: float
    gap_s: float
    sample_count: int
    voltage: QuantityStats | None
    current: QuantityStats | None
    power: QuantityStats | None
    energy_wh: float
    charge_mah: float
    duration_s: float


@dataclass(slots=True)
class _Part:
    """The summary of a run of samples: enough to join it exactly to the next run."""

    n: int = 0
    mins: list[int] = field(default_factory=list)  # per core quantity, raw
    maxs: list[int] = field(default_factory=list)
    sums: list[int] = field(default_factory=list)
    e2: float = 0.0
    q2: float = 0.0
    covered_us: int = 0
    first: tuple[int, int, int] = (0, 0, 0)  # ts_us, current, power (raw)
    last: tuple[int, int, int] = (0, 0, 0)


def stats(
    conn: sqlite3.Connection,
    start_ts: float,
    end_ts: float,
    gap_s: float,
    meter: str = DEFAULT_METER,
) -> Stats:
    """Statistics of the meter's samples with start_ts <= ts <= end_ts (see ``Stats``)."""
    if gap_s < 0:
        raise ValueError(f"gap_s must be >= 0, not {gap_s}")
    a, b, gap = ts_to_us(start_ts), ts_to_us(end_ts), ts_to_us(gap_s)
    total = _Part()
    with transaction(conn, write=False):
        key = meters.key_of(conn, meter)
        if key is not None:
            for depth, first, last in _pieces(a, b, len(LEVELS) - 1):
                if depth < 0:
                    part = _raw(conn, key, meter, first, last, gap)
                else:
                    part = _rows(conn, key, meter, depth, first, last, gap)
                total = _join(total, part, gap)
    return _result(total, start_ts, end_ts, gap_s)


def _pieces(a: int, b: int, depth: int) -> list[_Piece]:
    """``a..b`` (µs) cut into the whole units of ``LEVELS[depth]`` in the middle and finer
    pieces on either side, in time order."""
    if b < a:
        return []
    if depth < 0:
        return [(-1, a, b)]
    width = LEVELS[depth].width_us
    first, last = -(-a // width), (b + 1) // width - 1
    if first > last:
        return _pieces(a, b, depth - 1)
    return [
        *_pieces(a, first * width - 1, depth - 1),
        (depth, first, last),
        *_pieces((last + 1) * width, b, depth - 1),
    ]


def _raw(conn: sqlite3.Connection, key: int, meter: str, a: int, b: int, gap: int) -> _Part:
    """The part of the raw samples in a..b."""
    times: list[int] = []
    columns: list[list[int]] = [[], [], []]
    for chunk_times, chunk_columns in raw_window(conn, a, b, _CORE_KEYS, meter):
        times += chunk_times
        for column, more in zip(columns, chunk_columns, strict=True):
            column += more
    if not times:
        return _Part()
    voltage, current, power = columns
    e2, q2, covered = _steps(times, current, power, gap)
    return _Part(
        n=len(times),
        mins=[min(voltage), min(current), min(power)],
        maxs=[max(voltage), max(current), max(power)],
        sums=[sum(voltage), sum(current), sum(power)],
        e2=e2,
        q2=q2,
        covered_us=covered,
        first=(times[0], current[0], power[0]),
        last=(times[-1], current[-1], power[-1]),
    )


def _steps(
    times: list[int], current: list[int], power: list[int], gap: int
) -> tuple[int, int, int]:
    """Twice the trapezoid integrals of power and current, and the time covered, over the
    steps between consecutive samples no longer than ``gap``."""
    e2 = q2 = covered = 0
    for (t0, t1), (i0, i1), (p0, p1) in zip(
        pairwise(times), pairwise(current), pairwise(power), strict=True
    ):
        dt = t1 - t0
        if dt <= gap:
            e2 += (p0 + p1) * dt
            q2 += (i0 + i1) * dt
            covered += dt
    return e2, q2, covered


#: Min, max and sum of the core quantities over the selected rows of a level.
_AGGREGATES = ", ".join(f"MIN({key}_min), MAX({key}_max), SUM({key}_sum)" for key in _CORE_KEYS)


def _usable_sql(level: Level) -> str:
    """SQL true when a row's integrals can be used at the threshold: no step inside it is
    longer, or (above the minutes) only its ``LONG_STEPS`` longest are, then subtracted."""
    if level == MINUTES:
        return "(gap_max_us <= :gap)"
    return f"(gap_max_us <= :gap OR COALESCE(step{LONG_STEPS + 1}_us <= :gap, 0))"


def _usable(level: Level, total: str, term: str) -> str:
    """SQL for a row's ``total`` integral without its steps longer than :gap (NULL when
    the row cannot be used); ``term`` names what a long step takes from it: its part
    (``e2``, ``q2``) or its length (``us``)."""
    if level == MINUTES:
        return f"CASE WHEN gap_max_us <= :gap THEN {total} END"
    lengths = ["gap_max_us", *(f"step{k}_us" for k in range(2, LONG_STEPS + 2))]
    parts = [lengths[k] if term == "us" else f"step{k + 1}_{term}" for k in range(LONG_STEPS)]
    cases = [
        f"WHEN {length} <= :gap THEN {' - '.join((total, *parts[:k]))}"
        for k, length in enumerate(lengths)
    ]
    return f"CASE {' '.join(cases)} END"


def _integrals(level: Level) -> str:
    """SQL for twice the energy and charge integrals and the time covered, over the
    selected rows of ``level`` that can be used, plus the step into each row from the
    previous selected one when it is short enough (``linked``)."""
    return f"""
        TOTAL({_usable(level, "energy_raw2", "e2")})
            + TOTAL(CASE WHEN linked THEN (link_power + first_power) * link_us END),
        TOTAL({_usable(level, "charge_raw2", "q2")})
            + TOTAL(CASE WHEN linked THEN (link_current + first_current) * link_us END),
        COALESCE(SUM({_usable(level, "last_us - first_us", "us")}), 0)
            + COALESCE(SUM(CASE WHEN linked THEN link_us END), 0)
    """


def _linked(table: str) -> str:
    """The rows of ``table`` between :low and :high slots with the step into each from the
    one before it (``link_us``, NULL for the first) and that one's current and power."""
    return f"""
        SELECT *, first_us - LAG(last_us) OVER w AS link_us,
            LAG(last_current) OVER w AS link_current, LAG(last_power) OVER w AS link_power
        FROM {table} WHERE slot BETWEEN :low AND :high
        WINDOW w AS (ORDER BY slot)
    """


def _rows(
    conn: sqlite3.Connection, key: int, meter: str, depth: int, first: int, last: int, gap: int
) -> _Part:
    """The part of the meter's rows of ``LEVELS[depth]`` for units first..last."""
    level = LEVELS[depth]
    low, high = slot_range(key, first, last)
    row = conn.execute(
        f"""
        SELECT SUM(n), {_AGGREGATES}, {_integrals(level)}, SUM(NOT {_usable_sql(level)})
        FROM (SELECT *, link_us <= :gap AS linked FROM ({_linked(level.table)}))
        """,
        {"gap": gap, "low": low, "high": high},
    ).fetchone()
    if not row[0]:
        return _Part()
    e2, q2, covered = row[10], row[11], row[12]
    more: tuple[float, float, int] = (0.0, 0.0, 0)
    if row[13]:  # rows whose stored integrals bridge a longer step than the threshold
        gappy = [
            unit & _UNIT_MASK
            for (unit,) in conn.execute(
                f"SELECT slot FROM {level.table} "
                f"WHERE slot BETWEEN :low AND :high AND NOT {_usable_sql(level)}",
                {"gap": gap, "low": low, "high": high},
            )
        ]
        more = _inside(conn, key, meter, depth, gappy, gap)
    first_row = conn.execute(
        f"SELECT first_us, first_current, first_power FROM {level.table} "
        "WHERE slot BETWEEN ? AND ? ORDER BY slot LIMIT 1",
        (low, high),
    ).fetchone()
    last_row = conn.execute(
        f"SELECT last_us, last_current, last_power FROM {level.table} "
        "WHERE slot BETWEEN ? AND ? ORDER BY slot DESC LIMIT 1",
        (low, high),
    ).fetchone()
    return _Part(
        n=row[0],
        mins=[row[1], row[4], row[7]],
        maxs=[row[2], row[5], row[8]],
        sums=[row[3], row[6], row[9]],
        e2=e2 + more[0],
        q2=q2 + more[1],
        covered_us=covered + more[2],
        first=(first_row[0], first_row[1], first_row[2]),
        last=(last_row[0], last_row[1], last_row[2]),
    )


def _inside(
    conn: sqlite3.Connection, key: int, meter: str, depth: int, units: list[int], gap: int
) -> tuple[float, float, int]:
    """The integrals over the steps inside each of these units of ``LEVELS[depth]`` that are
    no longer than ``gap``, rebuilt from the levels below them."""
    e2 = q2 = 0.0
    covered = 0
    base = key << SLOT_BITS
    while units and depth > 0:
        parent, child = LEVELS[depth], LEVELS[depth - 1]
        params = {
            "gap": gap,
            "units": json.dumps(units),
            "base": base,
            "ratio": parent.width_s // child.width_s,
        }
        # Each gappy unit's children: a range of slots, scanned with the units outside.
        children = f"""
            json_each(:units) AS g CROSS JOIN {child.table} AS c
            ON c.slot BETWEEN :base + g.value * :ratio AND :base + (g.value + 1) * :ratio - 1
        """
        row = conn.execute(
            f"""
            SELECT {_integrals(child)} FROM (
                SELECT *, link_us <= :gap AS linked FROM (
                    SELECT c.*,
                        c.first_us - LAG(c.last_us) OVER w AS link_us,
                        LAG(c.last_current) OVER w AS link_current,
                        LAG(c.last_power) OVER w AS link_power
                    FROM {children}
                    WINDOW w AS (PARTITION BY g.value ORDER BY c.slot)
                )
            )
            """,
            params,
        ).fetchone()
        e2, q2, covered = e2 + row[0], q2 + row[1], covered + row[2]
        units = [
            slot & _UNIT_MASK
            for (slot,) in conn.execute(
                f"SELECT c.slot FROM {children} WHERE NOT {_usable_sql(child)}", params
            )
        ]
        depth -= 1
    for minute in units:  # minutes with a long step inside: from their raw samples
        width = LEVELS[0].width_us
        for times, (current, power) in raw_window(
            conn, minute * width, (minute + 1) * width - 1, ("current", "power"), meter
        ):
            steps = _steps(times, current, power, gap)
            e2, q2, covered = e2 + steps[0], q2 + steps[1], covered + steps[2]
    return e2, q2, covered


def _join(left: _Part, right: _Part, gap: int) -> _Part:
    """Two runs in time order as one, bridging the step between them if short enough."""
    if right.n == 0:
        return left
    if left.n == 0:
        return right
    step = right.first[0] - left.last[0]
    bridged = step <= gap
    return _Part(
        n=left.n + right.n,
        mins=[min(x, y) for x, y in zip(left.mins, right.mins, strict=True)],
        maxs=[max(x, y) for x, y in zip(left.maxs, right.maxs, strict=True)],
        sums=[x + y for x, y in zip(left.sums, right.sums, strict=True)],
        e2=left.e2 + right.e2 + ((left.last[2] + right.first[2]) * step if bridged else 0),
        q2=left.q2 + right.q2 + ((left.last[1] + right.first[1]) * step if bridged else 0),
        covered_us=left.covered_us + right.covered_us + (step if bridged else 0),
        first=left.first,
        last=right.last,
    )


def _result(total: _Part, start_ts: float, end_ts: float, gap_s: float) -> Stats:
    per_quantity: list[QuantityStats | None] = [None] * len(_CORE)
    if total.n:
        per_quantity = [
            QuantityStats(
                min=quantity.from_raw(low),
                max=quantity.from_raw(high),
                avg=round(raw_sum / total.n / quantity.scale, quantity.decimals + 1),
            )
            for quantity, low, high, raw_sum in zip(
                _CORE, total.mins, total.maxs, total.sums, strict=True
            )
        ]
    voltage, current, power = per_quantity
    return Stats(
        start_ts=start_ts,
        end_ts=end_ts,
        gap_s=gap_s,
        sample_count=total.n,
        voltage=voltage,
        current=current,
        power=power,
        energy_wh=round(total.e2 / _E2_PER_WH, 6),
        charge_mah=round(total.q2 / _Q2_PER_MAH, 6),
        duration_s=total.covered_us / US_PER_S,
    )
