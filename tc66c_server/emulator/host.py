"""The emulator's I/O: a virtual TC66C served on a pseudo-terminal behind a stable link.

Clients open ``link`` (a symlink to the pty's ``/dev/pts/N``) with pyserial exactly as they
would open ``/dev/ttyACM0``. Each plug's daemon thread reads the pty master, feeds the
:class:`VirtualMeter` and writes its replies the way USB CDC delivers them (64-byte
packets), with any queued fault applied. Unplugging closes the pty (the client's I/O then
fails like a pulled cable) and removes the link; replugging makes a new pty behind the
same link.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .. import protocol
from ..reading import Reading
from .device import Reply, VirtualMeter
from .faults import FaultInjector, FaultKind
from .plug import Plug
from .signal import BenchSession
from .source import ReadingSource

log = logging.getLogger(__name__)

#: USB full-speed CDC bulk packets carry 64 bytes; the meter's replies arrive in such chunks.
USB_PACKET_LEN = 64


@dataclass(frozen=True, slots=True)
class HostStats:
    """What the emulator has done since it was created."""

    requests_served: int  # commands the meter acted on
    replies_sent: int  # replies written in full (faulty ones included)
    bytes_received: int
    bytes_sent: int
    bytes_dropped: int  # reply bytes nobody read in time (see plug.WRITE_STALL_S)
    plugged: bool
    faults: dict[str, int]  # applied so far, by FaultKind value


@dataclass(frozen=True, slots=True)
class ServedReply:
    """One reply as the emulator served it: what the meter meant and what went out."""

    sent_at: float  # Unix time once the last byte was written (or dropped)
    command: str
    fault: FaultKind | None
    complete: bool  # every byte meant to go out went out (False: nobody read them in time)
    reading: Reading | None  # the intact reply's content, for getva (before any fault)


class EmulatorHost:
    """A virtual TC66C on a pty, reachable at ``link``; a context manager (start/stop)."""

    def __init__(
        self,
        link: str | Path,
        *,
        seed: int = 1,
        reply_delay_s: float = 0.09,
        chunked: bool = True,
        chunk_gap_s: float = 0.001,
        fault_rate: float = 0.0,
        record_interval_s: float = 1.0,
        bootloader: bool = False,
        clock: Callable[[], float] = time.monotonic,
        session: ReadingSource | None = None,
        fault_mix: dict[FaultKind, float] | None = None,
        on_reply: Callable[[ServedReply], None] | None = None,
    ) -> None:
        self._link = Path(link)
        self.reply_delay_s = reply_delay_s
        self.chunked = chunked
        self.chunk_gap_s = chunk_gap_s
        self.meter = VirtualMeter(
            session or BenchSession(seed),
            clock,
            record_interval_s=record_interval_s,
            bootloader=bootloader,
        )
        self.faults = FaultInjector(seed=seed, fault_rate=fault_rate, mix=fault_mix)
        #: Told of every reply served, in the serving thread (tests and ``--log`` use it).
        self.on_reply = on_reply
        self._plug: Plug | None = None
        self._started = False
        self._lock = threading.Lock()
        self._replies_sent = 0
        self._bytes_received = 0
        self._bytes_sent = 0
        self._bytes_dropped = 0

    # -- lifetime -------------------------------------------------------------------------
    def start(self) -> EmulatorHost:
        """Create the pty and the link and start serving; returns self."""
        with self._lock:
            if self._started:
                raise RuntimeError("the emulator is already started")
            self._plug_in()
            self._started = True
        return self

    def stop(self) -> None:
        """Stop serving and remove the pty and the link; safe to call twice."""
        with self._lock:
            self._started = False
            self._pull_out()

    def __enter__(self) -> EmulatorHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def unplug(self) -> None:
        """Pull the cable: the client's I/O fails and the link disappears."""
        with self._lock:
            self._pull_out()

    def replug(self) -> None:
        """Plug back in: a new pty behind the same link (unplugging first if needed)."""
        with self._lock:
            if not self._started:
                raise RuntimeError("the emulator is not started")
            self._pull_out()
            self._plug_in()

    def _plug_in(self) -> None:
        plug = Plug(self._link)
        plug.start(self._serve)
        self._plug = plug

    def _pull_out(self) -> None:
        plug, self._plug = self._plug, None
        if plug is not None:
            plug.close()

    # -- state ----------------------------------------------------------------------------
    @property
    def link(self) -> Path:
        """The stable path clients open (a symlink to the current pty while plugged)."""
        return self._link

    @property
    def pts_path(self) -> str | None:
        """The current ``/dev/pts/N`` behind the link, or None while unplugged."""
        plug = self._plug
        return plug.pts_path if plug is not None and not plug.closed else None

    @property
    def plugged(self) -> bool:
        """True while a pty is being served (False after unplug, an UNPLUG fault or stop)."""
        return self.pts_path is not None

    @property
    def requests_served(self) -> int:
        """Commands the meter has acted on (replied to, or obeyed silently)."""
        return sum(self.meter.commands.values())

    @property
    def stats(self) -> HostStats:
        """A snapshot of the counters."""
        return HostStats(
            requests_served=self.requests_served,
            replies_sent=self._replies_sent,
            bytes_received=self._bytes_received,
            bytes_sent=self._bytes_sent,
            bytes_dropped=self._bytes_dropped,
            plugged=self.plugged,
            faults={kind.value: n for kind, n in self.faults.applied.items()},
        )

    def inject(self, kind: FaultKind, count: int = 1) -> None:
        """Apply ``kind`` to each of the next ``count`` ``getva`` replies."""
        self.faults.inject(kind, count)

    # -- serving thread -------------------------------------------------------------------
    def _serve(self, plug: Plug) -> None:
        """Read commands and answer them until the plug is closed."""
        while plug.wait_readable():
            try:
                data = os.read(plug.master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return  # the pty is gone: nothing left to serve
            self._bytes_received += len(data)
            for reply in self.meter.feed(data):
                if not self._answer(plug, reply):
                    return

    def _answer(self, plug: Plug, reply: Reply) -> bool:
        """Send one reply (fault applied); False when the plug must stop serving."""
        data = reply.data
        kind: FaultKind | None = None
        if reply.command == "getva":
            kind, data = self.faults.apply(data)
            if kind is FaultKind.UNPLUG:
                self._report(reply, kind, complete=True)
                plug.close()
                return False
        if self.reply_delay_s > 0 and plug.stopping.wait(self.reply_delay_s):
            return False
        size = USB_PACKET_LEN if self.chunked else max(len(data), 1)
        for offset in range(0, len(data), size):
            if offset and self.chunk_gap_s > 0 and plug.stopping.wait(self.chunk_gap_s):
                return False
            chunk = data[offset : offset + size]
            sent = plug.write(chunk)
            self._bytes_sent += sent
            if sent < len(chunk):
                self._bytes_dropped += len(data) - offset - sent
                self._report(reply, kind, complete=False)
                return not plug.stopping.is_set()
        if data:
            self._replies_sent += 1
        self._report(reply, kind, complete=True)
        return True

    def _report(self, reply: Reply, kind: FaultKind | None, *, complete: bool) -> None:
        listener = self.on_reply
        if listener is None:
            return
        reading = protocol.decode_packet(reply.data) if reply.command == "getva" else None
        try:
            listener(ServedReply(time.time(), reply.command, kind, complete, reading))
        except Exception:  # a broken listener must never stop the meter answering
            log.exception("reply listener failed")
