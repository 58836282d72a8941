"""The store's single writer: a thread fed by a queue, committing samples in batches.

Every write goes through this thread, so SQLite never sees two writers and callers never
wait for a lock: ``put`` only enqueues. Samples are committed together once the batch is
``batch_max`` long or ``batch_s`` old; other work (bulk inserts, pruning, flush markers)
runs in queue order as a ``Job`` whose result or error goes back to the caller.

A batch the storage refuses for now (disk full, read-only, I/O error, busy: see
``backlog.py``) is kept in a bounded backlog and retried with back-off, then written in
order before anything newer; a batch refused for another reason (a bug, a damaged table)
is logged and counted as lost, and the thread carries on. Bulk inserts (``insert``) are
never held back: their error goes to the caller.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import partial

from ..reading import Sample
from .backlog import Backlog, fault_code
from .codec import RawSample, encode
from .conflicts import merge_samples
from .schema import DEFAULT_METER, transaction
from .writes import insert_samples

log = logging.getLogger(__name__)

Action = Callable[[sqlite3.Connection], int]
#: A sample waiting for the next batch, with the meter it belongs to.
Queued = tuple[str, Sample]
#: An encoded sample with its meter, as the backlog holds it.
Held = tuple[str, RawSample]
#: Held samples are written back in transactions of this many.
DRAIN_CHUNK = 5_000
#: SQLite keeps integers in 64 bits; a later time could not be stored.
_MAX_TS_US = 2**63 - 1


class Job:
    """Work for the writer thread; ``wait`` returns its result or raises its error."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.done = threading.Event()
        self.result = 0
        self.error: Exception | None = None

    def wait(self, timeout: float | None = None) -> int:
        """The action's result once it has run; ``TimeoutError`` if it has not in time."""
        if not self.done.wait(timeout):
            raise TimeoutError("the store writer did not finish in time")
        if self.error is not None:
            raise self.error
        return self.result


class _Stop(Job):
    def __init__(self) -> None:
        super().__init__(lambda conn: 0)


class Writer:
    """Owns the write connection and the thread that uses it (see the module doc)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        periodic: Action,
        periodic_s: float = 10.0,
        batch_s: float = 0.25,
        batch_max: int = 500,
        backlog: Backlog[Held] | None = None,
    ) -> None:
        self._conn = conn
        self._periodic = periodic
        self._periodic_s = periodic_s
        self._batch_s = batch_s
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[Queued | Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tc66c-store-writer", daemon=True)
        #: Samples committed, samples refused as invalid, writes or jobs that failed.
        self.written = 0
        self.rejected = 0
        self.errors = 0
        #: Samples waiting for the store while it refuses writes (see ``backlog.py``).
        self.backlog: Backlog[Held] = backlog if backlog is not None else Backlog()
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the thread still takes work."""
        return self._thread.is_alive()

    def put(self, sample: Sample, meter: str = DEFAULT_METER) -> None:
        """Queue one sample of ``meter`` for the next batch; never blocks."""
        self._queue.put((meter, sample))

    def submit(self, action: Action) -> Job:
        """Queue an action to run after everything queued before it is committed."""
        job = Job(action)
        self._queue.put(job)
        return job

    def insert(self, samples: list[RawSample], meter: str = DEFAULT_METER) -> Job:
        """Queue already encoded samples of ``meter`` to be stored in one transaction
        (bulk import)."""
        return self.submit(partial(self._insert, samples=samples, meter=meter))

    def merge(self, samples: list[RawSample], *, replace: bool, meter: str = DEFAULT_METER) -> Job:
        """Like ``insert`` (times unique within ``samples``), but a sample at a time already
        stored replaces the stored one (``replace``) or is left out; the job's result is
        how many such times there were."""
        return self.submit(lambda conn: self._merge(conn, samples, replace, meter))

    def stop(self, timeout: float | None = None) -> None:
        """Commit what is queued, then end the thread and close its connection."""
        if self._thread.is_alive():
            self._queue.put(_Stop())
            self._thread.join(timeout)

    def _run(self) -> None:
        pending: list[Queued] = []
        deadline = 0.0
        next_periodic = time.monotonic() + self._periodic_s
        try:
            while True:
                wake = min(deadline, next_periodic) if pending else next_periodic
                if self.backlog.fault is not None:
                    wake = min(wake, self.backlog.retry_at)
                try:
                    item: Queued | Job | None = self._queue.get(
                        timeout=max(0.0, wake - time.monotonic())
                    )
                except queue.Empty:
                    item = None
                if isinstance(item, tuple):
                    if not pending:
                        deadline = time.monotonic() + self._batch_s
                    pending.append(item)
                elif item is not None:
                    self._commit(pending)
                    if isinstance(item, _Stop):
                        self._give_up_backlog()
                        item.done.set()
                        return
                    self._run_job(item)
                if pending and (len(pending) >= self._batch_max or time.monotonic() >= deadline):
                    self._commit(pending)
                if self.backlog.fault is not None and self.backlog.due():
                    self._drain()
                if time.monotonic() >= next_periodic:
                    if self.backlog.fault is None:  # pruning waits for a writable store
                        self._run_job(Job(self._periodic))
                    next_periodic = time.monotonic() + self._periodic_s
        finally:
            self._conn.close()

    def _commit(self, pending: list[Queued]) -> None:
        """Hand the pending samples to the backlog, write it unless a retry is not yet due,
        and empty the list."""
        if not pending:
            return
        raws: list[Held] = []
        for meter, sample in pending:
            try:
                raw = encode(sample)
                if raw.ts_us > _MAX_TS_US:
                    raise ValueError(f"sample time {sample.ts!r} is too far in the future")
                raws.append((meter, raw))
            except Exception as exc:  # ValueError, or a Sample built from the wrong types
                self.rejected += 1
                log.warning("sample not stored: %s", exc)
        pending.clear()
        dropped = self.backlog.hold(raws)
        if dropped:
            log.warning(
                "sample store backlog full (%d samples): %d oldest samples lost",
                self.backlog.max_samples,
                dropped,
            )
        if self.backlog.due():
            self._drain()

    def _drain(self) -> None:
        """Write the held samples in order; on a fault, keep the rest and plan a retry."""
        backlog = self.backlog
        while chunk := backlog.peek(DRAIN_CHUNK):
            try:
                self.written += _insert_held(self._conn, chunk)
            except Exception as exc:
                self.errors += 1
                code = fault_code(exc)
                if code is not None:
                    if backlog.failed(code, str(exc)):
                        log.error(
                            "sample store cannot be written (%s): holding up to %d samples "
                            "in memory and retrying",
                            exc,
                            backlog.max_samples,
                        )
                    return
                # Refused for a reason waiting will not cure: these samples are lost.
                backlog.discard(len(chunk))
                if isinstance(exc, sqlite3.Error):
                    log.error("sample store write failed, %d samples lost: %s", len(chunk), exc)
                else:
                    log.exception("sample store write failed unexpectedly")
                continue
            backlog.release(len(chunk))
        ended = backlog.recovered()
        if ended is not None:
            log.warning("sample store writable again after %s: held samples written", ended.code)

    def _give_up_backlog(self) -> None:
        """At stop: one last try to write what is held, then count the rest as lost."""
        if len(self.backlog):
            self._drain()
        if len(self.backlog):
            log.error("sample store: %d held samples could not be written", len(self.backlog))
            self.backlog.discard(len(self.backlog))

    def _insert(self, conn: sqlite3.Connection, samples: list[RawSample], meter: str) -> int:
        count = insert_samples(conn, samples, meter)
        self.written += count
        return count

    def _merge(
        self, conn: sqlite3.Connection, samples: list[RawSample], replace: bool, meter: str
    ) -> int:
        existing = merge_samples(conn, samples, replace=replace, meter=meter)
        self.written += len(samples) if replace else len(samples) - existing
        return existing

    def _run_job(self, job: Job) -> None:
        try:
            job.result = job.action(self._conn)
        except sqlite3.Error as exc:
            self.errors += 1
            log.error("sample store write failed: %s", exc)
            job.error = exc
        except Exception as exc:  # a bug must not stop every later write
            self.errors += 1
            log.exception("sample store write failed unexpectedly")
            job.error = exc
        finally:
            job.done.set()


def _insert_held(conn: sqlite3.Connection, held: list[Held]) -> int:
    """Store held samples, each as its meter's, in one transaction; return how many."""
    by_meter: dict[str, list[RawSample]] = {}
    for meter, raw in held:
        by_meter.setdefault(meter, []).append(raw)
    with transaction(conn, write=True):
        return sum(insert_samples(conn, raws, meter) for meter, raws in by_meter.items())
