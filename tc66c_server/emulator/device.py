"""The virtual TC66C: the meter's USB command set as a pure state machine over bytes.

Commands are bare ASCII words with no framing (``getva``, ``query``...). The stream is read
byte by byte and a command is recognised as soon as its last letter arrives, so a command
may be split across writes, CR/LF terminators are simply skipped and garbage before a word
is ignored. Words the meter does not know get no reply: what the real firmware does with
them is not documented anywhere, so silence is the emulator's documented choice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .. import protocol
from ..reading import Reading
from .source import ReadingSource

#: Commands the normal firmware answers or acts on.
FIRMWARE_COMMANDS = ("getva", "query", "gtrec", "rotat", "nextp", "lastp")
#: Commands the bootloader knows.
BOOT_COMMANDS = ("query", "update")
_WORDS = tuple(w.encode() for w in dict.fromkeys(FIRMWARE_COMMANDS + BOOT_COMMANDS))
_LONGEST = max(len(w) for w in _WORDS)

#: Screen pages the meter cycles through with ``nextp``/``lastp`` (an assumption: the
#: count is not in any public source and no client depends on it).
PAGE_COUNT = 6
ROTATIONS = 4
#: The meter stores at most this many ``gtrec`` records.
MAX_RECORDS = 1440


@dataclass(frozen=True, slots=True)
class Reply:
    """Bytes the meter sends back, and the command that asked for them."""

    command: str
    data: bytes


class VirtualMeter:
    """A TC66C's command handling and screen state, driven by an injected clock.

    Bench-session time is counted from the clock's value at construction, so readings and
    the recording move with the clock, and tests stay deterministic with a fake one.
    """

    def __init__(
        self,
        session: ReadingSource,
        clock: Callable[[], float],
        *,
        record_interval_s: float = 1.0,
        bootloader: bool = False,
    ) -> None:
        if record_interval_s <= 0:
            raise ValueError(f"record_interval_s must be positive, got {record_interval_s}")
        self.session = session
        self._clock = clock
        self._t0 = clock()
        self.record_interval_s = record_interval_s
        self.bootloader = bootloader
        self.screen_page = 0
        self.rotation = 0
        #: Commands acted on, by name (unknown words and wrong-mode commands excluded).
        self.commands: Counter[str] = Counter()
        #: Bytes that were not part of any recognised command.
        self.ignored_bytes = 0
        #: The reading sent by the latest ``getva`` (before any fault the host applies).
        self.last_reading: Reading | None = None
        self._pending = bytearray()

    @property
    def mode(self) -> str:
        """What ``query`` answers: ``"boot"`` in the bootloader, ``"firm"`` otherwise."""
        return "boot" if self.bootloader else "firm"

    def elapsed_s(self) -> float:
        """Seconds of bench session since the meter was created."""
        return self._clock() - self._t0

    def feed(self, data: bytes) -> list[Reply]:
        """Consume received bytes; return the replies of every command they complete."""
        replies = []
        for byte in data:
            self._pending.append(byte)
            word = next((w for w in _WORDS if self._pending.endswith(w)), None)
            if word is None:
                if len(self._pending) > _LONGEST:
                    del self._pending[0]
                    self.ignored_bytes += 1
                continue
            self.ignored_bytes += len(self._pending) - len(word)
            self._pending.clear()
            reply = self.handle(word.decode())
            if reply is not None:
                replies.append(reply)
        return replies

    def handle(self, command: str) -> Reply | None:
        """Act on one whole command word; the reply, or None when the meter stays silent."""
        allowed = BOOT_COMMANDS if self.bootloader else FIRMWARE_COMMANDS
        if command not in allowed:
            return None
        self.commands[command] += 1
        if command == "getva":
            self.last_reading = self.session.reading_at(self.elapsed_s())
            return Reply(command, protocol.encode_packet(self.last_reading))
        if command == "query":
            return Reply(command, self.mode.encode())
        if command == "gtrec":
            return Reply(command, protocol.encode_recording(self.recording()))
        if command == "update":
            # The firmware image that would follow is not emulated.
            return Reply(command, b"uprdy")
        if command == "rotat":
            self.rotation = (self.rotation + 1) % ROTATIONS
        elif command == "nextp":
            self.screen_page = (self.screen_page + 1) % PAGE_COUNT
        elif command == "lastp":
            self.screen_page = (self.screen_page - 1) % PAGE_COUNT
        return None

    def recording(self) -> list[protocol.RecordPoint]:
        """The stored records: one per interval since the meter started, the last 1440."""
        now = self.elapsed_s()
        count = int(now // self.record_interval_s) + 1 if now >= 0 else 0
        first = max(count - MAX_RECORDS, 0)
        points = []
        for k in range(first, count):
            reading = self.session.reading_at(k * self.record_interval_s)
            points.append(protocol.RecordPoint(reading.voltage, reading.current))
        return points
