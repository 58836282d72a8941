"""``SampleStore``: the sample database behind one object, safe to use from any thread.

Writes are queued to the single writer thread (``writer.py``); reads run in the calling
thread on a connection of its own. On a file, SQLite's WAL mode lets those reads proceed
while the writer commits. In memory, a named ``memdb`` database is shared by the same
connections; there a read may wait for the commit in progress (a few milliseconds).

Every sample belongs to a meter, named by a text id; each method takes it as ``meter``,
defaulting to ``DEFAULT_METER`` ("m1"), the seed's single meter. A file written by an older
version is upgraded when the store opens it (``upgrade.py``).
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..reading import Sample
from . import meters, queries, schema, upgrade, writes
from .backlog import Backlog, StoreError, fault_code
from .buckets import BucketSeries, buckets
from .codec import RawSample, encode, ts_to_us
from .conflicts import Merged
from .meters import MeterSummary
from .schema import DEFAULT_METER
from .stats import Stats, stats
from .writer import Held, Job, Writer

BULK_CHUNK = 20_000
#: A span of one meter's samples kept from pruning: (meter, first ts, last ts), inclusive.
TimeSpan = tuple[str, float, float]


class StoreClosedError(RuntimeError):
    """The store was used after ``close()``."""


class SampleStore:
    """Samples on disk (``path``) or in memory (``None`` or ``":memory:"``).

    ``retention_s`` (None: keep everything) may be changed at any time; the writer prunes
    older samples every ``prune_every_s`` seconds, except those in the spans ``pinned``
    returns at that moment (the hook for recordings; by default none). ``backlog`` holds
    samples while the storage refuses writes (default: ``backlog.BACKLOG_MAX`` samples,
    retried every 1-5 s).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        retention_s: float | None = None,
        batch_s: float = 0.25,
        batch_max: int = 500,
        prune_every_s: float = 10.0,
        backlog: Backlog[Held] | None = None,
    ) -> None:
        if path is None or str(path) == ":memory:":
            self.path: Path | None = None
            self._target, self._uri = f"file:/tc66c-{uuid.uuid4().hex}?vfs=memdb", True
        else:
            self.path = Path(path)
            self._target, self._uri = str(self.path), False
            upgrade.upgrade_file(self.path)
        conn = schema.connect(self._target, uri=self._uri, wal=self.path is not None)
        try:
            schema.migrate(conn)
        except BaseException:
            conn.close()
            raise
        self.retention_s = retention_s
        self.pinned: Callable[[], Iterable[TimeSpan]] = lambda: ()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._writer = Writer(
            conn,
            periodic=lambda c: self._prune_expired(c, time.time()),
            periodic_s=prune_every_s,
            batch_s=batch_s,
            batch_max=batch_max,
            backlog=backlog,
        )

    # -- writing (queued to the writer thread) --------------------------------------------

    def add(self, sample: Sample, meter: str = DEFAULT_METER) -> None:
        """Queue a sample of ``meter`` for the next batch; returns at once."""
        self._check_open()
        self._writer.put(sample, meter)

    def add_many(self, samples: Iterable[Sample], meter: str = DEFAULT_METER) -> int:
        """Store many samples of ``meter`` in large transactions; return how many were written.

        Blocks until they are committed. ``ValueError`` for an invalid sample (not a Unix
        time, a value that is not a number); chunks before it are kept.
        """
        done = self._bulk(
            samples,
            lambda chunk: [encode(s) for s in chunk],
            lambda raws: self._writer.insert(raws, meter),
        )
        return sum(result for _, _, result in done)

    def merge(
        self, samples: Iterable[Sample], *, replace: bool = False, meter: str = DEFAULT_METER
    ) -> Merged:
        """Store many samples of ``meter`` like ``add_many``, never overwriting silently.

        A sample at a time already stored (or given earlier) is left out and counted as
        skipped, or with ``replace`` takes the stored one's place and is counted as replaced.
        """

        def unique(chunk: list[Sample]) -> list[RawSample]:
            by_time: dict[int, RawSample] = {}
            for raw in map(encode, chunk):
                if replace or raw.ts_us not in by_time:
                    by_time[raw.ts_us] = raw
            return list(by_time.values())

        done = self._bulk(
            samples,
            unique,
            lambda raws: self._writer.merge(raws, replace=replace, meter=meter),
        )
        # Per chunk: n given, u at distinct times, e of those already stored.
        taken = sum(n - u + e for n, u, e in done)  # times already taken, in store or earlier
        if replace:
            return Merged(stored=sum(u for _, u, _ in done), skipped=0, replaced=taken)
        return Merged(stored=sum(u - e for _, u, e in done), skipped=taken, replaced=0)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything queued so far is committed (or held, see ``store_error``)."""
        if not self._closed and self._writer.alive:
            self._writer.submit(lambda conn: 0).wait(timeout)

    def prune(self, before_ts: float, keep: Iterable[TimeSpan] = ()) -> int:
        """Delete every meter's samples older than ``before_ts`` except those inside a
        ``keep`` span of their meter; return how many were removed."""
        self._check_open()
        before_us = ts_to_us(before_ts)
        spans = _spans_us(keep)
        return self._writer.submit(lambda conn: writes.prune(conn, before_us, spans)).wait()

    def prune_expired(self, now: float) -> int:
        """Apply ``retention_s`` as of ``now`` (Unix s), sparing the ``pinned`` spans; return
        how many samples were removed.

        While the storage refuses writes (disk full...) nothing is removed now: the writer
        prunes by itself once the store is writable again.
        """
        self._check_open()
        try:
            return self._writer.submit(lambda conn: self._prune_expired(conn, now)).wait()
        except sqlite3.Error as exc:
            if fault_code(exc) is None:
                raise
            return 0

    def delete_meter(self, meter: str) -> int:
        """Forget a meter and all its samples; return how many samples were removed."""
        self._check_open()
        return self._writer.submit(lambda conn: writes.delete_meter(conn, meter)).wait()

    def close(self) -> None:
        """Commit what is queued, stop the writer and close every connection. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._writer.stop()
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    def __enter__(self) -> SampleStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- counters -------------------------------------------------------------------------

    @property
    def written(self) -> int:
        """Samples committed since the store was opened."""
        return self._writer.written

    @property
    def rejected(self) -> int:
        """Samples given to ``add`` that could not be stored (invalid time or value)."""
        return self._writer.rejected

    @property
    def write_errors(self) -> int:
        """Batches or operations that SQLite refused (logged; the writer carries on)."""
        return self._writer.errors

    @property
    def backlog(self) -> int:
        """Samples held in memory because the storage refuses writes for now."""
        return len(self._writer.backlog)

    @property
    def lost(self) -> int:
        """Samples given to ``add`` that were dropped: backlog full, or refused for good."""
        return self._writer.backlog.lost

    @property
    def store_error(self) -> StoreError | None:
        """Why samples are being held instead of written (None while the store is healthy)."""
        backlog = self._writer.backlog
        fault = backlog.fault
        if fault is None:
            return None
        return StoreError(fault.code, fault.message, fault.since, len(backlog), backlog.lost)

    # -- reading (in the caller's thread) -------------------------------------------------

    def meters(self) -> list[MeterSummary]:
        """Every meter the store knows (it stored samples and was not deleted): id,
        sample count, oldest and newest time."""
        return meters.listing(self._reader())

    def latest(self, meter: str = DEFAULT_METER) -> Sample | None:
        """The meter's newest committed sample, or None."""
        return queries.latest(self._reader(), meter)

    def summary(self, meter: str = DEFAULT_METER) -> tuple[int, float | None, float | None]:
        """(sample count, oldest ts, newest ts) of the meter; the times are None when empty."""
        return queries.summary(self._reader(), meter)

    def range(
        self,
        start_ts: float,
        end_ts: float,
        fields: Iterable[str] = (),
        meter: str = DEFAULT_METER,
    ) -> list[tuple[Any, ...]]:
        """``(ts, voltage, current, power, *fields)`` rows for start_ts <= ts <= end_ts
        (floats; a UM field's API value, or None for a sample without it)."""
        return queries.sample_range(self._reader(), start_ts, end_ts, fields, meter)

    def count(self, start_ts: float, end_ts: float, meter: str = DEFAULT_METER) -> int:
        """How many samples of the meter have start_ts <= ts <= end_ts (from the minute
        rollups)."""
        return queries.sample_count(self._reader(), start_ts, end_ts, meter)

    def minute_marks(
        self, first_minute: int, last_minute: int, meter: str = DEFAULT_METER
    ) -> list[tuple[int, tuple[int, ...]]]:
        """``(minute, mark)`` per stored minute; a mark changes whenever its samples do."""
        return queries.minute_marks(self._reader(), first_minute, last_minute, meter)

    def stats(
        self, start_ts: float, end_ts: float, gap_s: float, meter: str = DEFAULT_METER
    ) -> Stats:
        """Statistics over start_ts <= ts <= end_ts, not integrating across gaps > gap_s."""
        return stats(self._reader(), start_ts, end_ts, gap_s, meter)

    def buckets(
        self,
        start_ts: float,
        end_ts: float,
        max_points: int,
        fields: Iterable[str] = (),
        meter: str = DEFAULT_METER,
    ) -> BucketSeries:
        """At most ``max_points`` aligned buckets with count, mean, min and max (a UM
        field: its mean or last value)."""
        return buckets(self._reader(), start_ts, end_ts, max_points, fields, meter)

    # -- internals ------------------------------------------------------------------------

    def _bulk(
        self,
        samples: Iterable[Sample],
        prepare: Callable[[list[Sample]], list[RawSample]],
        submit: Callable[[list[RawSample]], Job],
    ) -> list[tuple[int, int, int]]:
        """Submit ``samples`` in chunks, preparing the next while the last is stored; return
        (samples given, samples submitted, job result) for each chunk stored."""
        self._check_open()
        done: list[tuple[int, int, int]] = []
        job: tuple[int, int, Job] | None = None
        iterator = iter(samples)
        try:
            while chunk := list(itertools.islice(iterator, BULK_CHUNK)):
                raws = prepare(chunk)
                if job is not None:
                    done.append((job[0], job[1], job[2].wait()))
                job = (len(chunk), len(raws), submit(raws))
        finally:
            if job is not None:  # also when a sample was refused: the chunks before it count
                done.append((job[0], job[1], job[2].wait()))
        return done

    def _prune_expired(self, conn: sqlite3.Connection, now: float) -> int:
        retention_s = self.retention_s
        if retention_s is None:
            return 0
        return writes.prune(conn, ts_to_us(now - retention_s), _spans_us(self.pinned()))

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the sample store is closed")

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection, opened on first use."""
        self._check_open()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = schema.connect(self._target, uri=self._uri, wal=False)
            conn.execute("PRAGMA query_only = ON")
            with self._lock:
                if self._closed:
                    conn.close()
                    raise StoreClosedError("the sample store is closed")
                self._readers.append(conn)
            self._local.conn = conn
        return conn


def _spans_us(spans: Iterable[TimeSpan]) -> list[writes.KeptSpan]:
    """Spans in Unix seconds as the integer microseconds ``writes.prune`` takes."""
    return [(meter, ts_to_us(start), ts_to_us(end)) for meter, start, end in spans]
