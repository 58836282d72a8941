"""Optional sinks that send what the bench measures elsewhere (MQTT today), behind one interface.

A sink is told about every sample, every link-state change and every event of every
meter. It is called on the acquisition threads, so each method must return at once
(queue the work, never wait on the network); a sink that raises is logged and skipped,
and acquisition goes on. :class:`Sinks` is the fan-out the runtime holds.

Events are named: ``meter_removed`` (the meter left the bench: a sink forgets it and
withdraws what it published about it), and the names later features publish through
``Runtime.publish_event`` (recordings started or finished, annotations).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..poller import LinkState
from ..reading import Sample

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger(__name__)

#: The event a sink receives when a meter is removed from the bench.
METER_REMOVED = "meter_removed"
#: A failing sink is logged with its traceback once, then at most once per this many seconds.
LOG_EVERY_S = 60.0


class Sink(Protocol):
    """Where samples, link states and events go besides the store and the live stream."""

    name: str

    def start(self, runtime: Runtime) -> None:
        """Begin (connect in the background); ``runtime`` gives the meters and their totals."""

    def publish_sample(self, meter_id: str, sample: Sample) -> None:
        """A new sample of ``meter_id`` (called on its acquisition thread: never block)."""

    def publish_state(self, meter_id: str, state: LinkState) -> None:
        """The link of ``meter_id`` changed (connected, lost, another meter plugged in)."""

    def publish_event(self, meter_id: str, name: str, payload: Mapping[str, Any]) -> None:
        """Something happened to ``meter_id`` (see the module doc for the names)."""

    def close(self) -> None:
        """Say goodbye (flush what is cheap to flush) and release everything; idempotent."""


class Sinks:
    """Every sink of the runtime: each call reaches each sink, a failure reaches no one else."""

    def __init__(self) -> None:
        self._sinks: list[Sink] = []
        self._lock = threading.Lock()
        self._last_logged: dict[str, float] = {}
        #: Calls that raised, per sink name (also logged, rate-limited).
        self.failures: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._sinks)

    def __iter__(self) -> Iterator[Sink]:
        return iter(list(self._sinks))

    def add(self, sink: Sink) -> None:
        with self._lock:
            self._sinks = [*self._sinks, sink]

    def start(self, runtime: Runtime) -> None:
        for sink in self._sinks:
            self._call(sink, "start", runtime)

    def publish_sample(self, meter_id: str, sample: Sample) -> None:
        for sink in self._sinks:
            self._call(sink, "publish_sample", meter_id, sample)

    def publish_state(self, meter_id: str, state: LinkState) -> None:
        for sink in self._sinks:
            self._call(sink, "publish_state", meter_id, state)

    def publish_event(self, meter_id: str, name: str, payload: Mapping[str, Any]) -> None:
        for sink in self._sinks:
            self._call(sink, "publish_event", meter_id, name, payload)

    def close(self) -> None:
        for sink in self._sinks:
            self._call(sink, "close")

    def _call(self, sink: Sink, method: str, *args: Any) -> None:
        try:
            getattr(sink, method)(*args)
        except Exception:  # a failing sink logs and never stops acquisition
            name = getattr(sink, "name", type(sink).__name__)
            with self._lock:
                self.failures[name] = self.failures.get(name, 0) + 1
                now = time.monotonic()
                quiet = now - self._last_logged.get(name, -LOG_EVERY_S) < LOG_EVERY_S
                if not quiet:
                    self._last_logged[name] = now
            if not quiet:
                log.exception(
                    "the %s sink failed in %s (%d failures so far)",
                    name,
                    method,
                    self.failures[name],
                )
