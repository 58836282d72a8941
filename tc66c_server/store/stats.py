"""Statistics over a window: extremes, averages, and energy and charge by the trapezoid rule.

The window is cut in three parts: the whole minutes in the middle come from the minute
rollups (plus, for each pair of neighbouring minutes, the step from one's last sample to
the next one's first), the partial minutes at the edges from raw samples. A minute whose
largest internal step exceeds the gap threshold is integrated from its raw samples instead,
so the result is exactly what a pass over every sample would give, for any threshold.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .. import quantities as q
from .codec import ts_to_us
from .frames import IN_WINDOW, decoded_samples, window_params
from .schema import US_PER_MINUTE, US_PER_S, transaction

# Twice-trapezoid sums are in raw units x microseconds; these turn them into Wh and mAh.
_E2_PER_WH = 2 * q.POWER.scale * US_PER_S * 3600
_Q2_PER_MAH = 2 * q.CURRENT.scale * US_PER_S * 3600 / 1000
_CORE = q.CORE
_CORE_KEYS = tuple(quantity.key for quantity in _CORE)


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


def _raw_sql(where: str, *, per_minute: bool) -> str:
    """Aggregates over raw samples, stepping from each to the next (only within each minute
    if ``per_minute``); rows with ``dt IS NULL`` start a run, ``is_last`` ones end it."""
    order = "PARTITION BY minute ORDER BY ts_us" if per_minute else "ORDER BY ts_us"
    return f"""
    SELECT COUNT(*), MIN(voltage), MAX(voltage), SUM(voltage), MIN(current), MAX(current),
        SUM(current), MIN(power), MAX(power), SUM(power),
        TOTAL(CASE WHEN dt <= :gap THEN (power + prev_p) * dt END),
        TOTAL(CASE WHEN dt <= :gap THEN (current + prev_i) * dt END),
        COALESCE(SUM(CASE WHEN dt <= :gap THEN dt END), 0),
        MIN(ts_us), MAX(CASE WHEN dt IS NULL THEN current END),
        MAX(CASE WHEN dt IS NULL THEN power END),
        MAX(ts_us), MAX(CASE WHEN is_last THEN current END), MAX(CASE WHEN is_last THEN power END)
    FROM (
        SELECT ts_us, voltage, current, power,
            ts_us - LAG(ts_us) OVER w AS dt,
            LAG(current) OVER w AS prev_i, LAG(power) OVER w AS prev_p,
            LEAD(ts_us) OVER w IS NULL AS is_last
        FROM {decoded_samples(_CORE_KEYS, where)} WHERE ts_us >= :a
        WINDOW w AS ({order})
    )
    """


_RAW = _raw_sql(IN_WINDOW, per_minute=False)
# Minutes whose rollup integral is unusable for this threshold, integrated minute by minute;
# only their sums of steps are used, and only when there are any such minutes.
_GAPPY = _raw_sql(IN_WINDOW + " AND m.gap_max_us > :gap", per_minute=True)
# Whole minutes: everything from the rollups, plus the step into each minute from the one
# before when both are inside the window and the step is short enough.
_MINUTES = """
SELECT SUM(n), MIN(voltage_min), MAX(voltage_max), SUM(voltage_sum),
    MIN(current_min), MAX(current_max), SUM(current_sum),
    MIN(power_min), MAX(power_max), SUM(power_sum),
    TOTAL(CASE WHEN gap_max_us <= :gap THEN energy_raw2 END)
        + TOTAL(CASE WHEN linked THEN (link_power + first_power) * link_us END),
    TOTAL(CASE WHEN gap_max_us <= :gap THEN charge_raw2 END)
        + TOTAL(CASE WHEN linked THEN (link_current + first_current) * link_us END),
    COALESCE(SUM(CASE WHEN gap_max_us <= :gap THEN last_us - first_us END), 0)
        + COALESCE(SUM(CASE WHEN linked THEN link_us END), 0),
    SUM(gap_max_us > :gap)
FROM (
    SELECT *, link_us <= :gap AND first_us - link_us >= :a AS linked
    FROM minutes WHERE minute BETWEEN :m0 AND :m1
)
"""
_FIRST = (
    "SELECT first_us, first_current, first_power FROM minutes "
    "WHERE minute >= ? ORDER BY minute LIMIT 1"
)
_LAST = (
    "SELECT last_us, last_current, last_power FROM minutes "
    "WHERE minute <= ? ORDER BY minute DESC LIMIT 1"
)


def stats(conn: sqlite3.Connection, start_ts: float, end_ts: float, gap_s: float) -> Stats:
    """Statistics of the samples with start_ts <= ts <= end_ts (see ``Stats``)."""
    if gap_s < 0:
        raise ValueError(f"gap_s must be >= 0, not {gap_s}")
    a, b, gap = ts_to_us(start_ts), ts_to_us(end_ts), ts_to_us(gap_s)
    parts: list[_Part] = []
    with transaction(conn, write=False):
        if b >= a:
            first_whole = -(-a // US_PER_MINUTE)  # the first minute starting at or after a
            last_whole = (b + 1) // US_PER_MINUTE - 1  # the last minute ending at or before b
            if last_whole < first_whole:
                parts.append(_raw(conn, a, b, gap))
            else:
                parts.append(_raw(conn, a, first_whole * US_PER_MINUTE - 1, gap))
                parts.append(_minutes(conn, first_whole, last_whole, gap))
                parts.append(_raw(conn, (last_whole + 1) * US_PER_MINUTE, b, gap))
    total = _Part()
    for part in parts:
        total = _join(total, part, gap)
    return _result(total, start_ts, end_ts, gap_s)


def _raw(conn: sqlite3.Connection, a: int, b: int, gap: int) -> _Part:
    if b < a:
        return _Part()
    return _part(conn.execute(_RAW, window_params(a, b) | {"gap": gap}).fetchone())


def _minutes(conn: sqlite3.Connection, m0: int, m1: int, gap: int) -> _Part:
    a, b = m0 * US_PER_MINUTE, (m1 + 1) * US_PER_MINUTE - 1
    params = window_params(a, b) | {"gap": gap}
    row = conn.execute(_MINUTES, params).fetchone()
    n = row[0] or 0
    if n == 0:
        return _Part()
    if row[13]:  # some minutes need their steps re-integrated from raw samples
        gappy = conn.execute(_GAPPY, params).fetchone()
        row = (*row[:10], row[10] + gappy[10], row[11] + gappy[11], row[12] + gappy[12])
    first = conn.execute(_FIRST, (m0,)).fetchone()
    last = conn.execute(_LAST, (m1,)).fetchone()
    return _part((*row[:13], *first, *last))


def _part(row: tuple[int, ...]) -> _Part:
    """A part from the 19 aggregate columns shared by the raw and minute queries."""
    n = row[0] or 0
    if n == 0:
        return _Part()
    return _Part(
        n=n,
        mins=[row[1], row[4], row[7]],
        maxs=[row[2], row[5], row[8]],
        sums=[row[3], row[6], row[9]],
        e2=row[10],
        q2=row[11],
        covered_us=row[12],
        first=(row[13], row[14], row[15]),
        last=(row[16], row[17], row[18]),
    )


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
