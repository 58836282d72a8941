"""What a virtual meter measures: any source of readings as a function of session time.

:class:`~.signal.BenchSession` is one; :class:`~.converter.FollowerSession` (a meter
downstream of a converter or a cable) is another. :class:`LoggedSource` wraps a source and
keeps every reading it produced, so tests can compare what a client computed with the
exact values the meter served.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from ..reading import Reading

#: Readings a log keeps by default (about 3 hours at 10 Hz); the oldest go first.
LOG_SIZE = 100_000


class ReadingSource(Protocol):
    """Readings as a function of session time."""

    def reading_at(self, t_s: float) -> Reading:
        """The reading the meter shows ``t_s`` seconds into its session."""
        ...


@dataclass(frozen=True, slots=True)
class Served:
    """One reading the meter produced, and the session time it was asked for."""

    t_s: float
    reading: Reading


class LoggedSource:
    """A source that remembers every reading it produced, in the order asked (thread-safe).

    A meter asks for one reading per ``getva`` (before any injected fault corrupts the
    reply); a ``gtrec`` download would add one per record, at the records' past times.
    """

    def __init__(self, source: ReadingSource, *, size: int = LOG_SIZE) -> None:
        self.source = source
        self._log: deque[Served] = deque(maxlen=size)
        self._lock = threading.Lock()

    def reading_at(self, t_s: float) -> Reading:
        """The wrapped source's reading, logged."""
        reading = self.source.reading_at(t_s)
        with self._lock:
            self._log.append(Served(t_s, reading))
        return reading

    def served(self) -> list[Served]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget everything logged so far."""
        with self._lock:
            self._log.clear()
