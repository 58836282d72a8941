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

from .autoport import AutoChoice, AutoPolicy, is_reserved
from .bench_config import MeterSpec
from .i18n import Messages
from .meter_models import UM_ACTIONS, meter_factory
from .poller import SCREEN_COMMANDS, Counters, LinkState, Poller
from .poller_process import ProcessPoller
from .protocol import Recording
from .reading import Sample

log = logging.getLogger(__name__)

#: The TC66C's screen commands, by the name the API uses.
ScreenAction = Literal["rotate", "next", "previous"]
SCREEN_ACTIONS: tuple[str, ...] = (*SCREEN_COMMANDS, *UM_ACTIONS)

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
        auto: AutoPolicy | None = None,
    ) -> None:
        self.spec = spec
        self.latest = latest
        self._resolve = resolve_port
        self._on_sample = on_sample
        self._on_state = on_state
        self._messages = messages
        self._in_process = in_process
        self._log_level = log_level
        self._started = False
        #: How this meter picks its port if it is ``auto`` (``autoport.py``).
        self.auto = auto
        self._choice = AutoChoice(auto or AutoPolicy())
        self.poller = self._make_poller(spec)

    def _make_poller(self, spec: MeterSpec) -> Poller | ProcessPoller:
        device = self._resolve(spec.port)
        if self._in_process:
            return Poller(
                device,
                spec.polling_interval,
                on_sample=self._sample,
                on_state=self._state,
                meter_factory=meter_factory(spec.model, auto=self._choice),
                messages=self._messages,
            )
        return ProcessPoller(
            device,
            spec.polling_interval,
            on_sample=self._sample,
            on_state=self._state,
            lang=self._messages.lang,
            log_level=self._log_level,
            model=spec.model,
            auto=self.auto,
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
        self._started = True
        self.poller.start()

    def stop(self) -> None:
        self._started = False
        self.poller.stop()

    def reconfigure(self, spec: MeterSpec, auto: AutoPolicy | None = None) -> None:
        """Apply a new port, interval and/or ``auto`` policy without stopping the meter (a
        new model: a new poller)."""
        old, self.spec = self.spec, spec
        if spec.model != old.model:
            self.latest = None
            self.auto = auto
            self._choice = AutoChoice(auto or AutoPolicy())
            self.poller.stop()
            self.poller = self._make_poller(spec)
            if self._started:
                self.poller.start()
            return
        if spec.polling_interval != old.polling_interval:
            self.poller.set_interval(spec.polling_interval)
        reopen = spec.port != old.port
        if auto != self.auto:
            self.auto = auto
            if isinstance(self.poller, ProcessPoller):
                self.poller.set_auto(auto)
            else:
                self._choice.policy = auto or AutoPolicy()
            # The port held may now be another meter's: then let it go and choose again.
            held = self.state.port
            reopen = reopen or (auto is not None and bool(held) and is_reserved(held, auto))
        if reopen:
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
