"""The real meters' history and the demo's, kept apart: which store a port's samples go to.

The simulated meter (port ``demo``) has a store of its own, ``demo.sqlite3`` next to
``samples.sqlite3`` (in memory: a memory store of its own), so its samples never enter the
real history whatever the order of port changes, and the real history is shown again as
soon as a real port is chosen, or the server restarts with one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .store import SampleStore
from .store.recovery import open_or_recover

log = logging.getLogger(__name__)

REAL_NAME = "samples.sqlite3"
DEMO_NAME = "demo.sqlite3"

Opener = Callable[[Path | None], SampleStore]


def is_demo(port: str) -> bool:
    """Whether ``port`` is the simulated meter."""
    return port == "demo"


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
    """The store in use and how to reach the other kind's: opened on a switch, the one
    left closed (a file) or kept aside (in memory, where closing would lose it)."""

    def __init__(self, store: SampleStore, port: str, opener: Opener = open_store) -> None:
        self.store = store
        self.demo = is_demo(port)
        self._opener = opener
        data_dir = store.path.parent if store.path is not None else None
        other = store_path(data_dir, "real" if self.demo else "demo")
        self._paths = {self.demo: store.path, not self.demo: other}
        self._kept: dict[bool, SampleStore] = {}

    def switch(self, port: str) -> SampleStore | None:
        """Make ``port``'s history the current one; return its store when that changed.

        The store left is flushed and closed (or kept aside in memory). If the other store
        cannot be opened, a memory store stands in for it, logged, so demo and real samples
        still never mix.
        """
        demo = is_demo(port)
        if demo == self.demo:
            return None
        store = self._kept.pop(demo, None)
        if store is None:
            path = self._paths[demo]
            try:
                store = self._opener(path)
            except Exception:
                log.exception("cannot open the sample store %s: keeping samples in memory", path)
                store = SampleStore(None)
        left, self.store, self.demo = self.store, store, demo
        if left.path is None:
            self._kept[not demo] = left
        else:
            left.close()
        return store

    def close(self) -> None:
        """Close every store (the current one writes what is queued first)."""
        self.store.close()
        for store in self._kept.values():
            store.close()
        self._kept.clear()
