"""The poller: fixed-cadence acquisition that owns the meter's availability.

One thread talks to the meter. Sample ``k`` is requested at ``t0 + k * interval``; a poll
that overruns skips the slots it missed (counted) instead of drifting. Every exchange has a
timeout; a bad or missing reply is asked again at once when its slot leaves time, every such
fault is counted, and repeated faults or a lost port close it and the poller reconnects by
itself, logging only on transitions ("meter lost" / "meter back").
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, astuple, dataclass, field, replace

from . import protocol
from .cadence import Cadence
from .errors import (
    BadReplyError,
    MeterDisconnectedError,
    MeterError,
    MeterTimeoutError,
)
from .meter_models import ACTIONS, MeterLink, download_recording, run_command
from .poll_durations import PollDurations
from .ports import PortInfo
from .reading import Reading, Sample
from .transport import SerialMeter

log = logging.getLogger(__name__)

#: Delay between attempts to open an absent meter (a plugged meter is found within 2 s).
RETRY_S = 0.5
#: Consecutive failed polls after which an open port is considered dead and reopened.
MAX_CONSECUTIVE_FAILURES = 3
#: A bad or missing reply is asked again at once when this much time is left in its slot
#: (one exchange: 192 bytes at 115200 baud plus the meter's reply delay).
RETRY_ROOM_S = 0.1
MAX_RETRIES_PER_SLOT = 1


#: Screen commands by API name, and the :class:`SerialMeter` method that sends each.
SCREEN_COMMANDS = {"rotate": "rotate", "next": "next_page", "previous": "previous_page"}
#: Commands beyond this many waiting are dropped (oldest first): a stuck meter stays bounded.
MAX_QUEUED_COMMANDS = 16


@dataclass(frozen=True, slots=True)
class Counters:
    """Acquisition counters since start."""

    polls: int = 0
    samples: int = 0
    bad_packets: int = 0
    timeouts: int = 0
    reconnects: int = 0
    missed_slots: int = 0
    retries: int = 0  # bad or missing replies asked again within their slot
    poller_restarts: int = 0  # acquisition processes restarted after a crash

    def plus(self, other: Counters) -> Counters:
        """Both sets of counts added (a restarted poller's counts on top of its past)."""
        return Counters(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LinkState:
    """Whether the meter answers, since when, and the last error in plain words."""

    connected: bool = False
    port: str = ""
    since: float = field(default_factory=time.time)
    error_code: str | None = None
    error_message: str | None = None
    product: str | None = None
    firmware: str | None = None
    serial: int | None = None
    #: The USB adapter's serial number and bus location of the port (None if not USB).
    usb_serial: str | None = None
    usb_location: str | None = None


class RateMeter:
    """Samples per second over the last (up to 64) arrivals."""

    def __init__(self) -> None:
        self._arrivals: deque[float] = deque(maxlen=64)

    def mark(self) -> None:
        """Record one arrival now."""
        self._arrivals.append(time.monotonic())

    def rate_hz(self) -> float:
        """The rate over the recorded arrivals (0 with fewer than two)."""
        arrivals = list(self._arrivals)
        if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
            return 0.0
        return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


SampleSink = Callable[[Sample], None]
StateSink = Callable[[LinkState], None]
MeterFactory = Callable[[str], MeterLink]


class Poller:
    """Polls one meter in a thread, publishing samples and link-state changes."""

    def __init__(
        self,
        port: str,
        interval_s: float,
        *,
        on_sample: SampleSink,
        on_state: StateSink | None = None,
        meter_factory: MeterFactory = SerialMeter,
        messages: Callable[..., str] | None = None,
    ) -> None:
        self._port = port
        self._interval_s = interval_s
        self._on_sample = on_sample
        self._on_state = on_state
        self._factory = meter_factory
        self._msg = messages
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._meter: MeterLink | None = None
        self._port_changed = False
        self._commands: deque[str] = deque(maxlen=MAX_QUEUED_COMMANDS)
        self._downloads: deque[Future[protocol.Recording]] = deque()
        self.counters = Counters()
        #: How long each exchange took (one assignment per exchange, like ``counters``).
        self.durations = PollDurations()
        self.state = LinkState(port=port)
        self._rate = RateMeter()
        self._ever_connected = False

    # -- control ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the acquisition thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tc66c-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop polling and close the port."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def port(self) -> str:
        return self._port

    @property
    def interval_s(self) -> float:
        return self._interval_s

    def set_port(self, port: str) -> None:
        """Switch to another port: the current one is closed and the new one opened."""
        with self._lock:
            self._port = port
            self._port_changed = True
        self._wake.set()

    def set_interval(self, interval_s: float) -> None:
        """Change the cadence; it applies from the next poll."""
        with self._lock:
            self._interval_s = interval_s
        self._wake.set()

    def sample_rate_hz(self) -> float:
        """Samples per second achieved over the last (up to 64) samples."""
        return self._rate.rate_hz()

    def send_command(self, action: str) -> None:
        """Queue a screen command (``rotate``, ``next``, ``previous``).

        The poll loop sends it between two polls, so it never collides with an exchange.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown command {action!r}")
        self._commands.append(action)
        self._wake.set()

    def download_recording(self) -> Future[protocol.Recording]:
        """Ask for the meter's own offline recording (``gtrec``), downloaded between two
        polls; the future fails with a :class:`MeterError` when the meter cannot send it."""
        future: Future[protocol.Recording] = Future()
        self._downloads.append(future)
        self._wake.set()
        return future

    # -- internals ----------------------------------------------------------------------
    def _count(self, **deltas: int) -> None:
        c = self.counters
        self.counters = replace(c, **{k: getattr(c, k) + v for k, v in deltas.items()})

    def _set_state(self, state: LinkState) -> None:
        previous, self.state = self.state, state
        changed = (previous.connected, previous.error_code, previous.port) != (
            state.connected,
            state.error_code,
            state.port,
        )
        if changed and self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # a broken listener must never stop acquisition
                log.exception("link-state listener failed")

    def _fail(self, exc: MeterError, port: str) -> None:
        was_connected = self.state.connected
        if was_connected or self.state.error_code != exc.code:
            if was_connected:
                log.warning(self._text("meter.lost", error=exc.describe()))
            else:
                log.warning(self._text("meter.open_failed", error=exc.describe()))
        self._set_state(
            LinkState(
                connected=False,
                port=port,
                since=time.time()
                if was_connected or not self.state.error_code
                else self.state.since,
                error_code=exc.code,
                error_message=exc.describe(),
                product=self.state.product,
                firmware=self.state.firmware,
                serial=self.state.serial,
                usb_serial=self.state.usb_serial,
                usb_location=self.state.usb_location,
            )
        )

    def _text(self, key: str, **values: object) -> str:
        if self._msg is not None:
            return self._msg(key, **values)
        return f"{key}: {values}"

    def _close(self) -> None:
        if self._meter is not None:
            self._meter.close()
            self._meter = None

    def _sleep_until(self, deadline: float) -> bool:
        """Sleep until ``deadline`` (monotonic); False if woken early by a control change."""
        delay = deadline - time.monotonic()
        if delay <= 0:
            return not self._wake.is_set()
        return not self._wake.wait(delay)

    def _open(self, port: str) -> bool:
        """Open ``port`` and check the meter runs its firmware; False (state set) on failure."""
        try:
            meter = self._factory(port)
            meter.open()
            self._meter = meter
            meter.check_mode()
        except MeterError as exc:
            self._count_fault(exc)  # a bad or missing answer to 'query' is a fault too
            self._close()
            self._fail(exc, port)
            return False
        return True

    def _count_fault(self, exc: MeterError) -> None:
        if isinstance(exc, MeterTimeoutError):
            self._count(timeouts=1)
        elif isinstance(exc, BadReplyError):
            self._count(bad_packets=1)

    def _poll(self, meter: MeterLink, cadence: Cadence) -> Reading:
        """One slot's reading; a bad or missing reply is retried at once if the slot leaves time.

        Raises the last :class:`MeterError` when the slot ends without a reading.
        """
        retries = 0
        while True:
            self._count(polls=1)
            started = time.monotonic()
            try:
                return meter.read()
            except (MeterTimeoutError, BadReplyError) as exc:
                self._count_fault(exc)
                room = cadence.time_left(time.monotonic())
                if retries >= MAX_RETRIES_PER_SLOT or room < RETRY_ROOM_S or self._stop.is_set():
                    raise
            finally:
                self.durations = self.durations.observe(time.monotonic() - started)
            retries += 1
            self._count(retries=1)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._close()

    def _loop(self) -> None:
        failures = 0  # consecutive slots without a reading
        announced = False  # "meter back" is said on the first reading after an open
        cadence = Cadence(self._interval_s, time.monotonic())
        while not self._stop.is_set():
            self._wake.clear()  # before reading the settings: a later change wakes us again
            with self._lock:
                port, interval = self._port, self._interval_s
                if self._port_changed:
                    self._port_changed = False
                    self._close()
            cadence.set_interval(interval, time.monotonic())
            if self._meter is None:
                if not self._open(port):
                    self._sleep_until(time.monotonic() + RETRY_S)
                    continue
                failures, announced = 0, False
                cadence.restart(time.monotonic())
            else:
                self._send_commands(self._meter, port)
                if self._meter is None or not self._sleep_until(cadence.due):
                    continue  # woken by a control change: re-read the settings first
            meter = self._meter
            assert meter is not None
            try:
                reading = self._poll(meter, cadence)
            except (MeterTimeoutError, BadReplyError) as exc:
                failures += 1
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    self._close()
                    self._fail(exc, port)
                else:
                    self._advance(cadence)
                continue
            except MeterDisconnectedError as exc:
                self._close()
                self._fail(exc, port)
                continue
            failures = 0
            if not announced:
                announced = True
                self._on_connected(meter, reading)
            self._publish(reading)
            self._advance(cadence)

    def _send_commands(self, meter: MeterLink, port: str) -> None:
        """Send the queued screen commands; a lost meter is handled like a failed poll."""
        while self._commands:
            action = self._commands.popleft()
            try:
                run_command(meter, action)
            except MeterDisconnectedError as exc:
                self._close()
                self._fail(exc, port)
                return
            except MeterError as exc:
                log.warning("screen command %s not sent: %s", action, exc.describe())
        while self._downloads:
            future = self._downloads.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(download_recording(meter))
            except MeterDisconnectedError as exc:
                future.set_exception(exc)
                self._close()
                self._fail(exc, port)
                return
            except MeterError as exc:
                future.set_exception(exc)

    def _advance(self, cadence: Cadence) -> None:
        missed = cadence.completed(time.monotonic())
        if missed:
            self._count(missed_slots=missed)

    def _on_connected(self, meter: MeterLink, reading: Reading) -> None:
        port = meter.port
        # Serial links know the USB identity of their port; Bluetooth links have none.
        usb: PortInfo | None = getattr(meter, "usb", None)
        if self._ever_connected:
            self._count(reconnects=1)
        self._ever_connected = True
        log.info(
            self._text(
                "meter.back",
                port=port,
                product=reading.product,
                firmware=reading.firmware,
                serial=reading.serial,
            )
        )
        self._set_state(
            LinkState(
                connected=True,
                port=port,
                since=time.time(),
                product=reading.product,
                firmware=reading.firmware,
                serial=reading.serial,
                usb_serial=usb.usb_serial if usb is not None else None,
                usb_location=usb.usb_location if usb is not None else None,
            )
        )

    def _publish(self, reading: Reading) -> None:
        now = time.time()
        self._rate.mark()
        self._count(samples=1)
        try:
            self._on_sample(Sample(now, reading))
        except Exception:  # a failing sink logs and never stops acquisition
            log.exception("sample sink failed")
