"""What every pair figure is computed from: both meters' rows of a window and the pair's
timing. Shared by ``/api/pairs``, ``/metrics`` and a pair's recording, so they agree."""

from __future__ import annotations

from collections.abc import Iterable

from ..pairs import Row
from ..store import SampleStore

#: Polling interval assumed for a meter that has left the bench since.
DEFAULT_INTERVAL_S = 1.0


def pair_rows(store: SampleStore, meter_id: str, start_ts: float, end_ts: float) -> list[Row]:
    """A meter's ``(ts, voltage, current, power)`` rows with start_ts <= ts <= end_ts."""
    return [(r[0], r[1], r[2], r[3]) for r in store.range(start_ts, end_ts, meter=meter_id)]


def pair_timing(intervals: Iterable[float]) -> tuple[float, float]:
    """The pair's gap threshold and alignment width from its meters' polling intervals:
    the slower meter's (:data:`DEFAULT_INTERVAL_S` when neither is on the bench)."""
    interval = max(intervals, default=DEFAULT_INTERVAL_S)
    return max(3 * interval, 2.0), interval
