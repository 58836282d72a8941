"""How long each exchange with a meter takes: a cumulative histogram, as Prometheus keeps one.

The poller times every ``getva`` exchange (answered, timed out or garbled) and keeps the
counts per bucket. The object is immutable: the poller thread replaces it with one
assignment, so readers in other threads (the API) never see a half-updated histogram.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

#: Upper bounds (seconds) of the buckets: a meter answers in 80-100 ms, a timeout is 0.5 s.
BUCKETS_S: tuple[float, ...] = (0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3, 0.5, 1.0)


@dataclass(frozen=True, slots=True)
class PollDurations:
    """Exchanges per bucket (not cumulative; the last one is above every bound), sum, count."""

    counts: tuple[int, ...] = (0,) * (len(BUCKETS_S) + 1)
    sum_s: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.counts)

    def observe(self, duration_s: float) -> PollDurations:
        """A copy with one more exchange of ``duration_s`` counted."""
        index = bisect.bisect_left(BUCKETS_S, duration_s)
        counts = list(self.counts)
        counts[index] += 1
        return PollDurations(tuple(counts), self.sum_s + duration_s)

    def plus(self, other: PollDurations) -> PollDurations:
        """Both histograms added (a restarted poller's counts on top of its past)."""
        counts = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return PollDurations(counts, self.sum_s + other.sum_s)

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, exchanges at or below it)`` per bucket, ending with ``+inf``."""
        out: list[tuple[float, int]] = []
        running = 0
        for bound, count in zip((*BUCKETS_S, float("inf")), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out
