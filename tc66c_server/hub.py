"""Fan-out of live events from the acquisition thread to any number of async subscribers.

Each subscriber has a small bounded queue; when a slow client's queue is full its oldest
event is dropped, so no client can ever slow acquisition or the other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass

QUEUE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its name and its JSON payload (already serialised)."""

    name: str
    data: bytes
    #: The meter it is about (None: the whole server).
    meter: str | None = None


#: Queued to every subscriber when the hub closes: its stream ends at once.
CLOSED = Event("closed", b"")


class Hub:
    """Thread-safe publish, asyncio subscribe."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.dropped = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the event loop that serves subscribers."""
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber; callable from any thread, never blocks."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._closed or not self._subscribers:
            return
        # The loop may be closing during shutdown: the event is then simply not delivered.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._fan_out, event)

    def _fan_out(self, event: Event) -> None:
        if self._closed:
            return
        for queue in tuple(self._subscribers):
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)

    def open_queue(self) -> asyncio.Queue[Event]:
        """Register a subscriber queue (must be called on the bound loop).

        Once the hub is closed the queue holds only :data:`CLOSED`.
        """
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        if self._closed:
            queue.put_nowait(CLOSED)
        else:
            self._subscribers.add(queue)
        return queue

    def close(self) -> None:
        """End every subscriber's stream (server shutdown); call on the bound loop.

        Open streams would otherwise hold the server's graceful shutdown until it times out.
        """
        self._closed = True
        for queue in tuple(self._subscribers):
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(CLOSED)
        self._subscribers.clear()

    def close_queue(self, queue: asyncio.Queue[Event]) -> None:
        """Unregister a subscriber queue."""
        self._subscribers.discard(queue)
