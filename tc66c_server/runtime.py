"""The running server's parts wired together: poller -> store and live hub, config changes.

This is the only place that knows how the parts connect; the HTTP layer talks to it.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import __version__
from . import config as cfg
from .api.hosts import is_loopback
from .api.payloads import connection_payload, sample_payload
from .api.series_cache import SeriesCache
from .emulator import EmulatorHost
from .histories import Histories, Opener, open_store
from .hub import Event, Hub
from .i18n import Messages
from .poller import LinkState, Poller
from .poller_process import ProcessPoller
from .reading import Sample
from .store import SampleStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Settings fixed for the life of the process (not editable through the API)."""

    host: str = "127.0.0.1"
    http_port: int = 5000
    data_dir: str = ""  # "" = default directory, ":memory:" = RAM only
    lang: str = "en"
    token: str | None = None
    #: ``--allowed-host`` entries: more names the server answers to (``api/hosts.py``).
    allowed_hosts: tuple[str, ...] = ()
    saved_config_path: Path | None = None
    #: Poll in a child process (the server does; in-process tests use a thread).
    poller_process: bool = False
    log_level: int = logging.INFO

    @property
    def exposed(self) -> bool:
        """True when the server listens beyond loopback (decided on the address, not a
        name prefix: ``127.0.0.2`` is loopback, ``127.example`` is not)."""
        return not is_loopback(self.host)


class Runtime:
    """Owns the store, the poller, the live hub and the demo emulator."""

    def __init__(
        self,
        settings: ServerSettings,
        config: cfg.MeterConfig,
        store: SampleStore,
        *,
        demo_delay_s: float = 0.09,
        store_opener: Opener = open_store,
    ) -> None:
        self.settings = settings
        self.config = config
        self.store = store
        #: Demo samples go to a store of their own (``_switch_store``).
        self.histories = Histories(store, config.port, store_opener)
        self._demo_links: set[str] = set()
        self._sample_lock = threading.Lock()
        self.hub = Hub()
        self.series_cache = SeriesCache()
        self.messages = Messages(settings.lang)
        self.started_at = time.time()
        self.latest: Sample | None = None
        self._demo_delay_s = demo_delay_s
        self._demo: EmulatorHost | None = None
        self._demo_dir: tempfile.TemporaryDirectory[str] | None = None
        self._config_lock = threading.Lock()
        store.retention_s = config.data_retention_minutes * 60
        self.latest = store.latest()
        self.poller: Poller | ProcessPoller
        if settings.poller_process:
            self.poller = ProcessPoller(
                self._device_for(config.port),
                config.polling_interval,
                on_sample=self._on_sample,
                on_state=self._on_state,
                lang=self.messages.lang,
                log_level=settings.log_level,
            )
        else:
            self.poller = Poller(
                self._device_for(config.port),
                config.polling_interval,
                on_sample=self._on_sample,
                on_state=self._on_state,
                messages=self.messages,
            )

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start acquisition."""
        self.poller.start()

    def stop(self) -> None:
        """Stop acquisition, write pending samples, close the port and the emulator."""
        log.info(self.messages("shutdown"))
        self.poller.stop()
        self.histories.close()
        self._stop_demo()

    # -- demo meter ---------------------------------------------------------------------
    @property
    def demo(self) -> bool:
        return self.config.port == "demo"

    @property
    def demo_link(self) -> str | None:
        return str(self._demo.link) if self._demo is not None else None

    def _device_for(self, port: str) -> str:
        """The device path to open for a configured port (``demo`` starts the emulator)."""
        if port != "demo":
            self._stop_demo()
            return port
        if self._demo is None:
            self._demo_dir = tempfile.TemporaryDirectory(prefix="tc66c-demo-")
            link = Path(self._demo_dir.name) / "ttyTC66"
            self._demo = EmulatorHost(link, reply_delay_s=self._demo_delay_s)
            self._demo.start()
            self._demo_links.add(str(self._demo.link))
        return str(self._demo.link)

    def _stop_demo(self) -> None:
        if self._demo is not None:
            self._demo.stop()
            self._demo = None
        if self._demo_dir is not None:
            self._demo_dir.cleanup()
            self._demo_dir = None

    # -- acquisition callbacks (poller thread) -----------------------------------------
    def _on_sample(self, sample: Sample) -> None:
        with self._sample_lock:
            # The poller's state is updated before the samples of a newly opened port, so
            # it tells where this one came from: one still in flight from the port just
            # left belongs to the other history and is dropped.
            if (self.poller.state.port in self._demo_links) != self.histories.demo:
                return
            self.latest = sample
            self.store.add(sample)
        if self.hub.subscriber_count:
            self.hub.publish(Event("sample", orjson.dumps(sample_payload(sample))))

    def _on_state(self, state: LinkState) -> None:
        self.hub.publish(Event("connection", orjson.dumps(connection_payload(self, state))))

    # -- configuration ------------------------------------------------------------------
    def apply_config(self, changes: Any) -> cfg.MeterConfig:
        """Validate ``changes``, save them, then apply them live: all or nothing.

        Raises ``ConfigError`` (a bad field) or ``ConfigSaveError`` (the file could not be
        written); either way nothing has changed, live or on disk.
        """
        with self._config_lock:
            new = self.config.updated(changes)
            if self.settings.saved_config_path is not None:
                cfg.save(self.settings.saved_config_path, new)
            old, self.config = self.config, new
            if new.data_retention_minutes != old.data_retention_minutes:
                self.store.retention_s = new.data_retention_minutes * 60
                self.store.prune_expired(time.time())
            if new.polling_interval != old.polling_interval:
                self.poller.set_interval(new.polling_interval)
            if new.port != old.port:
                self._switch_store(new)
                self.poller.set_port(self._device_for(new.port))
            return new

    def _switch_store(self, new: cfg.MeterConfig) -> None:
        """Give ``new.port``'s samples the store of their kind, demo or real (``histories``).

        Call it before the poller is switched: from here on, samples from the port left are
        dropped. The series cache and the latest sample belong to the store left.
        """
        with self._sample_lock:
            store = self.histories.switch(new.port)
            if store is None:
                return
            store.retention_s = new.data_retention_minutes * 60
            self.store = store
            self.latest = store.latest()
            self.series_cache = SeriesCache(self.series_cache.budget_bytes)

    # -- derived values -----------------------------------------------------------------
    @property
    def gap_s(self) -> float:
        """Samples farther apart than this are a gap (meter absent), never bridged."""
        return max(3 * self.config.polling_interval, 2.0)

    @property
    def version(self) -> str:
        return __version__
