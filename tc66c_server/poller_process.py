"""The poller in a child process, so the web server can never starve acquisition.

Under heavy HTTP load the event-loop thread holds the GIL most of the time; a poller
thread in the same process then wakes late and misses polls (see docs/performance.md). In
its own process the poller keeps its cadence. Samples, link states and counters come back
over a pipe; port and interval changes go the other way. The parent-side object has the
same interface as :class:`~tc66c_server.poller.Poller`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from . import protocol
from .autoport import AutoChoice, AutoPolicy
from .errors import MeterError
from .i18n import Messages
from .meter_models import ACTIONS, meter_factory
from .poll_durations import PollDurations
from .poller import Counters, LinkState, Poller, RateMeter, SampleSink, StateSink

log = logging.getLogger(__name__)
RESTART_DELAY_S = 1.0
#: How often the child checks that its parent is still the one that started it.
PARENT_CHECK_S = 0.5


def _child_main(
    conn: Connection,
    port: str,
    interval_s: float,
    lang: str,
    level: int,
    model: str = "tc66c",
    auto: AutoPolicy | None = None,
) -> None:
    """Run a :class:`Poller` and relay what it publishes until told to stop.

    The child's life is the parent's to decide: SIGINT and SIGTERM reach the whole process
    group (Ctrl+C) or control group (``systemctl stop``) and are ignored here; the parent
    stops its child over the pipe once it has shut down. If the parent dies without doing
    so (kill -9), the child notices the closed pipe or its new parent and exits.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent_pid = os.getppid()
    logging.basicConfig(level=level, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    lock = threading.Lock()
    choice = AutoChoice(auto or AutoPolicy())

    def send(message: tuple[Any, ...]) -> None:
        # If the parent is gone, the recv loop below ends too.
        with lock, contextlib.suppress(OSError, EOFError):
            conn.send(message)

    poller = Poller(
        port,
        interval_s,
        on_sample=lambda sample: send(("sample", sample, poller.counters, poller.durations)),
        on_state=lambda state: send(("state", state, poller.counters, poller.durations)),
        meter_factory=meter_factory(model, auto=choice),
        messages=Messages(lang),
    )
    poller.start()
    try:
        while os.getppid() == parent_pid:
            try:
                if not conn.poll(PARENT_CHECK_S):
                    continue
                command, value = conn.recv()
            except (EOFError, OSError):
                break
            if command == "port":
                poller.set_port(value)
            elif command == "interval":
                poller.set_interval(value)
            elif command == "auto":
                choice.policy = value or AutoPolicy()
            elif command == "command":
                poller.send_command(value)
            elif command == "gtrec":
                poller.download_recording().add_done_callback(
                    functools.partial(_relay_download, send, value, poller)
                )
            elif command == "stop":
                break
    finally:
        poller.stop()
        send(("stopped", None, poller.counters, poller.durations))


def _relay_download(
    send: Callable[[tuple[Any, ...]], None],
    request: int,
    poller: Poller,
    done: Future[protocol.Recording],
) -> None:
    """Send a finished download of the child's poller back to the parent."""
    send(("gtrec", (request, *_outcome(done)), poller.counters, poller.durations))


def _outcome(done: Future[protocol.Recording]) -> tuple[protocol.Recording | None, str]:
    """A finished download as (recording, "") or (None, why), to cross the pipe."""
    error = done.exception()
    if error is None:
        return done.result(), ""
    return None, error.describe() if isinstance(error, MeterError) else str(error)


class ProcessPoller:
    """Parent-side handle of a poller running in a child process.

    A child that dies unexpectedly is restarted (counted in ``poller_restarts``) and its
    counts carried over, so the counters never go backwards. Nothing is restarted once
    :meth:`stop` has begun.
    """

    def __init__(
        self,
        port: str,
        interval_s: float,
        *,
        on_sample: SampleSink,
        on_state: StateSink | None = None,
        lang: str = "en",
        log_level: int = logging.INFO,
        model: str = "tc66c",
        auto: AutoPolicy | None = None,
    ) -> None:
        self._port = port
        self._model = model
        self._auto = auto
        self._interval_s = interval_s
        self._on_sample = on_sample
        self._on_state = on_state
        self._lang = lang
        self._log_level = log_level
        #: Counts of the children before the current one (and their restarts).
        self._past = Counters()
        self.counters = Counters()
        self._past_durations = PollDurations()
        self.durations = PollDurations()
        self.state = LinkState(port=port)
        self._rate = RateMeter()
        self._ctx = multiprocessing.get_context("spawn")
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()
        #: Guards the pipe and the process: a restart and a stop never interleave.
        self._send_lock = threading.Lock()
        self._downloads: dict[int, Future[protocol.Recording]] = {}
        self._download_ids = itertools.count(1)

    @property
    def port(self) -> str:
        return self._port

    @property
    def interval_s(self) -> float:
        return self._interval_s

    def start(self) -> None:
        """Start the child process and the thread that receives its messages."""
        self._stopping.clear()
        self._spawn()
        self._reader = threading.Thread(target=self._receive, name="tc66c-poller-rx", daemon=True)
        self._reader.start()
        # The child ignores SIGTERM, so multiprocessing's own exit hook (terminate, then
        # join) could wait on it for ever: make sure it is told to stop first.
        atexit.register(self.stop)

    def _spawn(self) -> None:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_child_main,
            args=(
                child,
                self._port,
                self._interval_s,
                self._lang,
                self._log_level,
                self._model,
                self._auto,
            ),
            name="tc66c-poller",
            daemon=True,
        )
        process.start()
        child.close()
        self._conn, self._process = parent, process

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the child; returns once every sample it took has been delivered."""
        atexit.unregister(self.stop)
        with self._send_lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            self._send_unlocked(("stop", None))
        if self._reader is not None:
            self._reader.join(timeout_s)
        if self._process is not None:
            self._process.join(timeout_s)
            if self._process.is_alive():
                self._process.kill()  # it ignores SIGTERM by design
                self._process.join(1.0)
        if self._conn is not None:
            self._conn.close()

    def set_port(self, port: str) -> None:
        """Switch the child to another port."""
        self._port = port
        self._send(("port", port))

    def set_interval(self, interval_s: float) -> None:
        """Change the child's cadence from its next poll."""
        self._interval_s = interval_s
        self._send(("interval", interval_s))

    def set_auto(self, auto: AutoPolicy | None) -> None:
        """How the child picks a port for ``auto`` from its next open (see ``autoport``)."""
        self._auto = auto
        self._send(("auto", auto))

    def send_command(self, action: str) -> None:
        """Queue a screen command in the child's poll loop."""
        if action not in ACTIONS:
            raise ValueError(f"unknown command {action!r}")
        self._send(("command", action))

    def sample_rate_hz(self) -> float:
        """Samples per second over the last (up to 64) samples."""
        return self._rate.rate_hz()

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before start)."""
        return self._process.pid if self._process is not None else None

    def download_recording(self) -> Future[protocol.Recording]:
        """The meter's own offline recording, downloaded by the child between two polls."""
        future: Future[protocol.Recording] = Future()
        request = next(self._download_ids)
        self._downloads[request] = future
        self._send(("gtrec", request))
        return future

    def _send(self, message: tuple[str, Any]) -> None:
        with self._send_lock:
            self._send_unlocked(message)

    def _send_unlocked(self, message: tuple[str, Any]) -> None:
        if self._conn is None:
            return
        # If the child is gone, _receive notices and restarts it.
        with contextlib.suppress(OSError, EOFError):
            self._conn.send(message)

    def _restart(self) -> bool:
        """Replace a dead child, counts carried over; False once stopping has begun."""
        if self._stopping.wait(RESTART_DELAY_S):
            return False
        with self._send_lock:
            if self._stopping.is_set():
                return False
            log.error("the acquisition process stopped unexpectedly; restarting it")
            self._past = self.counters.plus(Counters(poller_restarts=1))
            self.counters = self._past
            self._past_durations = self.durations
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                self._process.join(1.0)
            self._spawn()
        return True

    def _receive(self) -> None:
        while True:
            conn = self._conn
            assert conn is not None
            try:
                kind, payload, counters, durations = conn.recv()
            except (EOFError, OSError):
                if self._stopping.is_set() or not self._restart():
                    return
                continue
            # One assignment: readers in other threads never see a count go backwards.
            self.counters = self._past.plus(counters)
            self.durations = self._past_durations.plus(durations)
            if kind == "sample":
                self._rate.mark()
                self._deliver(self._on_sample, payload)
            elif kind == "state":
                self.state = payload
                if self._on_state is not None:
                    self._deliver(self._on_state, payload)
            elif kind == "gtrec":
                request, recording, error = payload
                future = self._downloads.pop(request, None)
                if future is not None and recording is not None:
                    future.set_result(recording)
                elif future is not None:
                    future.set_exception(MeterError(error))
            elif kind == "stopped":
                return

    @staticmethod
    def _deliver(sink: Any, payload: Any) -> None:
        try:
            sink(payload)
        except Exception:  # a failing sink logs and never stops acquisition
            log.exception("acquisition listener failed")
