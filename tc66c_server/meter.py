"""One meter of the bench: its poller (own cadence, own link state), last sample and commands.

Every meter has the same small surface: ``start``, ``stop``, ``latest``, ``state``,
``counters``, ``reconfigure`` and ``command``. The bench (:mod:`tc66c_server.runtime`)
holds them; nothing else starts a poller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Literal

from .bench_config import MeterSpec
from .i18n import Messages
from .poller import SCREEN_COMMANDS, Counters, LinkState, Poller
from .poller_process import ProcessPoller
from .protocol import Recording
from .reading import Sample

log = logging.getLogger(__name__)

#: The TC66C's screen commands, by the name the API uses.
ScreenAction = Literal["rotate", "next", "previous"]
SCREEN_ACTIONS: tuple[str, ...] = tuple(SCREEN_COMMANDS)

SampleListener = Callable[[str, Sample], None]
StateListener = Callable[[str, LinkState], None]
PortResolver = Callable[[str], str]


class Meter:
    """A meter unit: a poller on its own port and cadence, and what it last saw."""

    def __init__(
        self,
        spec: MeterSpec,
        *,
        resolve_port: PortResolver,
        on_sample: SampleListener,
        on_state: StateListener,
        messages: Messages,
        in_process: bool,
        log_level: int = logging.INFO,
        latest: Sample | None = None,
    ) -> None:
        self.spec = spec
        self.latest = latest
        self._resolve = resolve_port
        self._on_sample = on_sample
        self._on_state = on_state
        device = resolve_port(spec.port)
        self.poller: Poller | ProcessPoller
        if in_process:
            self.poller = Poller(
                device,
                spec.polling_interval,
                on_sample=self._sample,
                on_state=self._state,
                messages=messages,
            )
        else:
            self.poller = ProcessPoller(
                device,
                spec.polling_interval,
                on_sample=self._sample,
                on_state=self._state,
                lang=messages.lang,
                log_level=log_level,
            )

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def demo(self) -> bool:
        return self.spec.port.startswith("demo")

    @property
    def state(self) -> LinkState:
        return self.poller.state

    @property
    def counters(self) -> Counters:
        return self.poller.counters

    def start(self) -> None:
        self.poller.start()

    def stop(self) -> None:
        self.poller.stop()

    def reconfigure(self, spec: MeterSpec) -> None:
        """Apply a new port and/or interval without stopping the meter."""
        old, self.spec = self.spec, spec
        if spec.polling_interval != old.polling_interval:
            self.poller.set_interval(spec.polling_interval)
        if spec.port != old.port:
            self.latest = None
            self.poller.set_port(self._resolve(spec.port))

    def command(self, action: str) -> None:
        """Queue a screen command; the poll loop sends it between two polls."""
        self.poller.send_command(action)

    def download_recording(self) -> Future[Recording]:
        """The meter's own offline recording (``gtrec``), fetched between two polls."""
        return self.poller.download_recording()

    def _sample(self, sample: Sample) -> None:
        self.latest = sample
        self._on_sample(self.spec.id, sample)

    def _state(self, state: LinkState) -> None:
        self._on_state(self.spec.id, state)
