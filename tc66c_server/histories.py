"""The real meters' history and the demo's, kept apart: which store a port's samples go to.

The simulated meters (ports ``demo`` and ``demo-out``) have a store of their own,
``demo.sqlite3`` next to ``samples.sqlite3`` (in memory: a memory store of its own), so their
samples never enter the real history whatever the order of port changes, and the real
history is shown again as soon as a real port is chosen, or the server restarts with one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .config import DEMO_PORTS
from .store import SampleStore
from .store.recovery import open_or_recover
from .store.sample_store import TimeSpan

log = logging.getLogger(__name__)

REAL_NAME = "samples.sqlite3"
DEMO_NAME = "demo.sqlite3"

Opener = Callable[[Path | None], SampleStore]


def is_demo(port: str) -> bool:
    """Whether ``port`` is one of the simulated bench's meters."""
    return port in DEMO_PORTS


def store_path(data_dir: Path | None, port: str) -> Path | None:
    """The store for ``port``'s samples in ``data_dir`` (None: in memory)."""
    if data_dir is None:
        return None
    return data_dir / (DEMO_NAME if is_demo(port) else REAL_NAME)


def open_store(path: Path | None, **options: Any) -> SampleStore:
    """``open_or_recover``, logging where a damaged database was moved."""
    store, moved = open_or_recover(path, **options)
    if moved is not None:
        log.warning("sample database %s was damaged: moved to %s, started a new one", path, moved)
    return store


class Histories:
    """The real meters' store and the demo's, each opened when a meter first needs it.

    Samples go to the store of the port they came from, so demo and real samples never mix
    whatever the order of port changes. A file store no meter uses any more is closed (its
    history stays on disk); a memory store is kept, since closing it would lose it.
    """

    def __init__(self, store: SampleStore, port: str, opener: Opener = open_store) -> None:
        demo = is_demo(port)
        self._stores: dict[bool, SampleStore] = {demo: store}
        self._opener = opener
        data_dir = store.path.parent if store.path is not None else None
        self._paths = {demo: store.path, not demo: store_path(data_dir, "real" if demo else "demo")}
        self._retention_s = store.retention_s
        self._pinned: Callable[[], Iterable[TimeSpan]] | None = None
        self._lock = threading.Lock()

    def for_port(self, port: str) -> SampleStore:
        """The store of ``port``'s kind, opened if needed."""
        return self.store(is_demo(port))

    def store(self, demo: bool) -> SampleStore:
        """The demo store (``demo``) or the real one, opened if needed.

        If it cannot be opened, a memory store stands in for it, logged, so demo and real
        samples still never mix.
        """
        with self._lock:
            store = self._stores.get(demo)
            if store is None:
                path = self._paths[demo]
                try:
                    store = self._opener(path)
                except Exception:
                    log.exception(
                        "cannot open the sample store %s: keeping samples in memory", path
                    )
                    store = SampleStore(None)
                store.retention_s = self._retention_s
                if self._pinned is not None:
                    store.pinned = self._pinned
                self._stores[demo] = store
            return store

    def open_stores(self) -> list[SampleStore]:
        """The stores open now."""
        with self._lock:
            return list(self._stores.values())

    def set_retention(self, retention_s: float | None) -> None:
        """The retention of every store, now and opened later."""
        with self._lock:
            self._retention_s = retention_s
            for store in self._stores.values():
                store.retention_s = retention_s

    def set_pinned(self, pinned: Callable[[], Iterable[TimeSpan]]) -> None:
        """The spans every store keeps from retention (recordings), now and opened later."""
        with self._lock:
            self._pinned = pinned
            for store in self._stores.values():
                store.pinned = pinned

    def release(self, ports: list[str]) -> None:
        """Close the file store of a kind none of ``ports`` uses any more."""
        in_use = {is_demo(port) for port in ports}
        with self._lock:
            for demo in [d for d, s in self._stores.items() if d not in in_use and s.path]:
                self._stores.pop(demo).close()

    def close(self) -> None:
        """Close every store (each writes what is queued first)."""
        with self._lock:
            stores = list(self._stores.values())
            self._stores.clear()
        for store in stores:
            store.close()
