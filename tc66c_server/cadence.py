"""The poller's clock: poll ``k`` is due at ``origin + k * interval``, overruns skip slots.

Pure arithmetic over monotonic times passed in, so every case (overrun, interval change
mid-poll, time left for a retry) is tested without sleeping.
"""

from __future__ import annotations


class Cadence:
    """Due times of fixed-interval polls that never drift and never burst to catch up."""

    def __init__(self, interval_s: float, now: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self._interval_s = interval_s
        self._origin = now
        self._slot = 0  # index of the next poll

    @property
    def interval_s(self) -> float:
        return self._interval_s

    @property
    def due(self) -> float:
        """When the next poll is due."""
        return self._origin + self._slot * self._interval_s

    def restart(self, now: float) -> None:
        """Start over: the next poll is due ``now`` (after a (re)connect)."""
        self._origin, self._slot = now, 0

    def set_interval(self, interval_s: float, now: float) -> None:
        """Change the interval between polls: the next is due one new interval after the last.

        The origin moves to the last poll's due time (or to ``now`` if that is already
        past), so slots counted under the old interval are never re-counted under the new
        one and a lowered interval makes no burst of "missed" slots.
        """
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        if interval_s == self._interval_s:
            return
        if self._slot > 0:
            last = self._origin + (self._slot - 1) * self._interval_s
            self._origin, self._slot = (last, 1) if last + interval_s >= now else (now, 0)
        self._interval_s = interval_s

    def time_left(self, now: float) -> float:
        """Seconds from ``now`` until the poll after the one under way is due."""
        return self.due + self._interval_s - now

    def completed(self, now: float) -> int:
        """Mark the due poll done at ``now``; returns the slots it overran (skipped, not run)."""
        late = int((now - self._origin) / self._interval_s) - self._slot
        missed = max(late, 0)
        self._slot += missed + 1
        return missed
