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
from .schema import FRAMED, US_PER_MINUTE, US_PER_S, decoded, transaction

# Twice-trapezoid sums are in raw units x microseconds; these turn them into Wh and mAh.
_E2_PER_WH = 2 * q.POWER.scale * US_PER_S * 3600
_Q2_PER_MAH = 2 * q.CURRENT.scale * US_PER_S * 3600 / 1000
_CORE = q.CORE


@dataclass(frozen=True, slots=True)
class QuantityStats:
    """Extremes at the device's resolution and the mean to one more decimal."""

    min: float
    max: float
    avg: float


@dataclass(frozen=True, slots=True)
class Stats:
    """What happened between ``start_ts`` and ``end_ts`` (both included).

    ``energy_wh`` and ``charge_mah`` integrate power and current over consecutive samples
    no more than ``gap_s`` apart; ``duration_s`` is the time those steps cover.
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


def _raw_sql(*, partitioned: bool, where: str = "") -> str:
    """Aggregates over the raw samples of a range, stepping from each sample to the next
    (only within each minute if ``partitioned``)."""
    order = "PARTITION BY m.minute ORDER BY s.ts_us" if partitioned else "ORDER BY s.ts_us"
    v, i, p = (decoded(quantity.key) for quantity in _CORE)
    return f"""
    SELECT COUNT(*), MIN(v), MAX(v), SUM(v), MIN(i), MAX(i), SUM(i), MIN(p), MAX(p), SUM(p),
        TOTAL(CASE WHEN dt <= :gap THEN (p + prev_p) * dt END),
        TOTAL(CASE WHEN dt <= :gap THEN (i + prev_i) * dt END),
        COALESCE(SUM(CASE WHEN dt <= :gap THEN dt END), 0),
        MIN(ts_us), MAX(first_i), MAX(first_p), MAX(ts_us), MAX(last_i), MAX(last_p)
    FROM (
        SELECT s.ts_us AS ts_us, {v} AS v, {i} AS i, {p} AS p,
            s.ts_us - LAG(s.ts_us) OVER w AS dt,
            LAG({i}) OVER w AS prev_i, LAG({p}) OVER w AS prev_p,
            FIRST_VALUE({i}) OVER w AS first_i, FIRST_VALUE({p}) OVER w AS first_p,
            LAST_VALUE({i}) OVER whole AS last_i, LAST_VALUE({p}) OVER whole AS last_p
        FROM {FRAMED}
        WHERE m.minute BETWEEN :m0 AND :m1 AND s.ts_us BETWEEN :a AND :b {where}
        WINDOW w AS ({order}),
            whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    )
    """


_RAW = _raw_sql(partitioned=False)
# Minutes whose rollup integral is unusable for this threshold, integrated minute by minute.
_GAPPY = _raw_sql(partitioned=True, where="AND m.gap_max_us > :gap")
_MINUTES = """
SELECT SUM(n), MIN(voltage_min), MAX(voltage_max), SUM(voltage_sum),
    MIN(current_min), MAX(current_max), SUM(current_sum),
    MIN(power_min), MAX(power_max), SUM(power_sum),
    TOTAL(CASE WHEN gap_max_us <= :gap THEN energy_raw2 END)
        + TOTAL(CASE WHEN step <= :gap THEN (prev_p + first_power) * step END),
    TOTAL(CASE WHEN gap_max_us <= :gap THEN charge_raw2 END)
        + TOTAL(CASE WHEN step <= :gap THEN (prev_i + first_current) * step END),
    COALESCE(SUM(CASE WHEN gap_max_us <= :gap THEN last_us - first_us END), 0)
        + COALESCE(SUM(CASE WHEN step <= :gap THEN step END), 0),
    MIN(first_us), MAX(head_i), MAX(head_p), MAX(last_us), MAX(tail_i), MAX(tail_p),
    SUM(gap_max_us > :gap)
FROM (
    SELECT *, first_us - LAG(last_us) OVER w AS step,
        LAG(last_current) OVER w AS prev_i, LAG(last_power) OVER w AS prev_p,
        FIRST_VALUE(first_current) OVER w AS head_i, FIRST_VALUE(first_power) OVER w AS head_p,
        LAST_VALUE(last_current) OVER whole AS tail_i, LAST_VALUE(last_power) OVER whole AS tail_p
    FROM minutes WHERE minute BETWEEN :m0 AND :m1
    WINDOW w AS (ORDER BY minute),
        whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
"""


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
    params = {"a": a, "b": b, "m0": a // US_PER_MINUTE, "m1": b // US_PER_MINUTE, "gap": gap}
    return _part(conn.execute(_RAW, params).fetchone())


def _minutes(conn: sqlite3.Connection, m0: int, m1: int, gap: int) -> _Part:
    params = {"m0": m0, "m1": m1, "gap": gap}
    row = conn.execute(_MINUTES, params).fetchone()
    part = _part(row[:-1])
    if row[-1]:  # some minutes need their steps re-integrated from raw samples
        params |= {"a": m0 * US_PER_MINUTE, "b": (m1 + 1) * US_PER_MINUTE - 1}
        gappy = conn.execute(_GAPPY, params).fetchone()
        part.e2 += gappy[10]
        part.q2 += gappy[11]
        part.covered_us += gappy[12]
    return part


def _part(row: tuple[int, ...]) -> _Part:
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
