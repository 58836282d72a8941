"""Samples held in memory while the store cannot be written, and the fault that holds them.

A full disk, a store remounted read-only, an I/O error or a lock held too long are faults
that end on their own or by the user's hand: the writer keeps the samples it could not
commit here, retries with a growing delay, and writes them in order when the store takes
them again. The backlog is bounded (``BACKLOG_MAX``): beyond it the oldest samples are
dropped and counted as lost, so a fault that lasts for days costs memory it can afford.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


#: At most this many samples are held: one hour at the fastest polling (10 Hz), a few MB.
BACKLOG_MAX = 36_000
#: The first retry comes after RETRY_FIRST_S; each failure doubles the delay up to RETRY_MAX_S.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 5.0

# SQLite's primary result codes that mean "the storage refuses writes for now".
_FAULT_CODES: dict[int, str] = {
    sqlite3.SQLITE_FULL: "disk_full",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_IOERR: "io_error",
    sqlite3.SQLITE_CANTOPEN: "io_error",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
}


def fault_code(exc: BaseException) -> str | None:
    """The fault ``exc`` is (``disk_full``, ``read_only``, ``io_error``, ``busy``) when it is
    one that waiting can cure, else None (a bug or a damaged schema: retrying is useless)."""
    code = getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.Error) else None
    return None if code is None else _FAULT_CODES.get(code & 0xFF)


@dataclass(frozen=True, slots=True)
class StoreFault:
    """Why the store cannot be written, since when (Unix s)."""

    code: str
    message: str
    since: float


@dataclass(frozen=True, slots=True)
class StoreError:
    """What ``SampleStore.store_error`` reports: the fault, and what it has cost so far."""

    code: str
    message: str
    since: float
    backlog: int  # samples held, waiting for the store
    lost: int  # samples dropped since the store was opened


class Backlog(Generic[T]):
    """Encoded samples (with their meter, for the writer) waiting for the store, in order,
    and the current fault (if any).

    Used by the writer thread only; other threads read ``fault``, ``lost`` and ``len()``.
    """

    def __init__(
        self,
        max_samples: int = BACKLOG_MAX,
        *,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self.max_samples = max_samples
        self._retry_first_s = retry_first_s
        self._retry_max_s = retry_max_s
        self._samples: deque[T] = deque(maxlen=max_samples)
        self._delay_s = retry_first_s
        #: Samples dropped because the backlog was full, or refused for good by SQLite.
        self.lost = 0
        self.fault: StoreFault | None = None
        #: When to try again (``time.monotonic()``), meaningful while ``fault`` is set.
        self.retry_at = 0.0

    def __len__(self) -> int:
        return len(self._samples)

    def hold(self, samples: Sequence[T]) -> int:
        """Append samples, dropping the oldest beyond the bound; return how many were dropped."""
        before = len(self._samples)
        self._samples.extend(samples)
        dropped = before + len(samples) - len(self._samples)
        self.lost += dropped
        return dropped

    def peek(self, count: int) -> list[T]:
        """The oldest ``count`` samples, still held."""
        return list(itertools.islice(self._samples, count))

    def release(self, count: int) -> None:
        """Forget the oldest ``count`` samples (written, or lost: see ``discard``)."""
        for _ in range(min(count, len(self._samples))):
            self._samples.popleft()

    def discard(self, count: int) -> None:
        """Drop the oldest ``count`` samples for good and count them as lost."""
        count = min(count, len(self._samples))
        self.release(count)
        self.lost += count

    def due(self, now: float | None = None) -> bool:
        """Whether writing should be tried now: no fault, or its retry time has come."""
        return self.fault is None or (time.monotonic() if now is None else now) >= self.retry_at

    def failed(self, code: str, message: str) -> bool:
        """Record a failed write; return True when this is a new fault (worth a log line)."""
        new = self.fault is None or self.fault.code != code
        if self.fault is None:
            self.fault = StoreFault(code, message, time.time())
            self._delay_s = self._retry_first_s
        else:
            if new or self.fault.message != message:
                self.fault = StoreFault(code, message, self.fault.since)
            self._delay_s = min(self._delay_s * 2, self._retry_max_s)
        self.retry_at = time.monotonic() + self._delay_s
        return new

    def recovered(self) -> StoreFault | None:
        """Clear the fault (the store took writes again); return the one that ended."""
        ended, self.fault = self.fault, None
        return ended
