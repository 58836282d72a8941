"""The store's single writer: a thread fed by a queue, committing samples in batches.

Every write goes through this thread, so SQLite never sees two writers and callers never
wait for a lock: ``put`` only enqueues. Samples are committed together once the batch is
``batch_max`` long or ``batch_s`` old; other work (bulk inserts, pruning, flush markers)
runs in queue order as a ``Job`` whose result or error goes back to the caller. A failing
batch is logged and counted and the thread carries on.
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
from .codec import RawSample, encode
from .schema import DEFAULT_METER
from .writes import insert_samples

log = logging.getLogger(__name__)

Action = Callable[[sqlite3.Connection], int]
#: A sample waiting for the next batch, with the meter it belongs to.
Queued = tuple[str, Sample]


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
    ) -> None:
        self._conn = conn
        self._periodic = periodic
        self._periodic_s = periodic_s
        self._batch_s = batch_s
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[Queued | Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tc66c-store-writer", daemon=True)
        #: Samples committed, samples refused as invalid, batches or jobs that failed.
        self.written = 0
        self.rejected = 0
        self.errors = 0
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
        return self.submit(lambda conn: self._insert(conn, samples, meter))

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
                        item.done.set()
                        return
                    self._run_job(item)
                if pending and (len(pending) >= self._batch_max or time.monotonic() >= deadline):
                    self._commit(pending)
                if time.monotonic() >= next_periodic:
                    self._run_job(Job(self._periodic))
                    next_periodic = time.monotonic() + self._periodic_s
        finally:
            self._conn.close()

    def _commit(self, pending: list[Queued]) -> None:
        """Write the pending samples, one transaction per meter, and empty the list."""
        if not pending:
            return
        raws: dict[str, list[RawSample]] = {}
        for meter, sample in pending:
            try:
                raws.setdefault(meter, []).append(encode(sample))
            except Exception as exc:  # ValueError, or a Sample built from the wrong types
                self.rejected += 1
                log.warning("sample not stored: %s", exc)
        pending.clear()
        for meter, samples in raws.items():
            self._run_job(Job(partial(self._insert, samples=samples, meter=meter)))

    def _insert(self, conn: sqlite3.Connection, samples: list[RawSample], meter: str) -> int:
        count = insert_samples(conn, samples, meter)
        self.written += count
        return count

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
