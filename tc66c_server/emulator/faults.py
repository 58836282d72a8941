"""Faults on demand for ``getva`` replies: queued ones, and random ones at a seeded rate.

Every fault is one a client meets on a real link: a corrupted byte, a cut-off transfer,
line noise, a meter that does not answer, stray bytes after a reply, the cable pulled out.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Mapping
from enum import Enum

from .. import protocol


class FaultKind(Enum):
    """What goes wrong with one ``getva`` reply."""

    FLIP = "flip"  # one byte of the reply changed
    TRUNCATE = "truncate"  # only the first part of the reply is sent
    RANDOM = "random"  # 192 random bytes instead of the reply
    SILENCE = "silence"  # no reply at all
    EXTRA = "extra"  # garbage bytes appended after the reply
    UNPLUG = "unplug"  # the meter disappears (carried out by the host, not here)


#: What a random fault can be; an unplug would end the session, so it is only ever queued.
RANDOM_KINDS = (
    FaultKind.FLIP,
    FaultKind.TRUNCATE,
    FaultKind.RANDOM,
    FaultKind.SILENCE,
    FaultKind.EXTRA,
)
MAX_EXTRA_BYTES = 32


def parse_mix(text: str) -> dict[FaultKind, float]:
    """``"flip=0.1,truncate=0.05"``: the probability of each random fault kind per reply.

    ``ValueError`` names the bad part: an unknown or repeated kind, ``unplug`` (it would end
    the session), a probability outside [0, 1] or probabilities summing to more than 1.
    """
    mix: dict[FaultKind, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            kind = FaultKind(name.strip())
            probability = float(value)
        except ValueError:
            raise ValueError(f"{part!r}: expected KIND=PROBABILITY, e.g. flip=0.1") from None
        if kind not in RANDOM_KINDS:
            raise ValueError(f"{part!r}: {kind.value} cannot be random (queue it instead)")
        if kind in mix:
            raise ValueError(f"{part!r}: {kind.value} is given twice")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"{part!r}: the probability must be between 0 and 1")
        mix[kind] = probability
    if sum(mix.values()) > 1.0 + 1e-9:
        raise ValueError(f"{text!r}: the probabilities add up to more than 1")
    return mix


def corrupt(kind: FaultKind, reply: bytes, rng: random.Random) -> bytes:
    """The bytes actually sent when ``kind`` hits ``reply`` (empty for silence and unplug)."""
    if kind is FaultKind.FLIP:
        data = bytearray(reply)
        data[rng.randrange(len(data))] ^= rng.randint(1, 255)
        return bytes(data)
    if kind is FaultKind.TRUNCATE:
        return reply[: rng.randint(1, len(reply) - 1)]
    if kind is FaultKind.RANDOM:
        return rng.randbytes(protocol.PACKET_LEN)
    if kind is FaultKind.EXTRA:
        return reply + rng.randbytes(rng.randint(1, MAX_EXTRA_BYTES))
    return b""


class FaultInjector:
    """Decides the fault, if any, of each ``getva`` reply and counts the ones applied.

    Queued faults come first, in order; when none is queued a random one strikes with
    probability ``fault_rate`` (any kind of :data:`RANDOM_KINDS`, equally likely), or with
    the probability ``mix`` gives each kind. Thread-safe: tests queue faults while the host
    serves.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        fault_rate: float = 0.0,
        mix: Mapping[FaultKind, float] | None = None,
    ) -> None:
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, got {fault_rate}")
        if mix and fault_rate:
            raise ValueError("give either fault_rate or mix, not both")
        if mix:  # the same checks as the command line's
            parse_mix(",".join(f"{kind.value}={p!r}" for kind, p in mix.items()))
        self.fault_rate = fault_rate
        self.mix = dict(mix or {})
        self._rng = random.Random(seed)
        self._queue: deque[FaultKind] = deque()
        self._lock = threading.Lock()
        self._applied: Counter[FaultKind] = Counter()

    def inject(self, kind: FaultKind, count: int = 1) -> None:
        """Apply ``kind`` to each of the next ``count`` ``getva`` replies."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        with self._lock:
            self._queue.extend([kind] * count)

    @property
    def pending(self) -> int:
        """Queued faults not applied yet."""
        with self._lock:
            return len(self._queue)

    @property
    def applied(self) -> dict[FaultKind, int]:
        """Faults applied so far, per kind (every kind present, zero included)."""
        with self._lock:
            return {kind: self._applied[kind] for kind in FaultKind}

    def apply(self, reply: bytes) -> tuple[FaultKind | None, bytes]:
        """The fault for this ``getva`` reply (or None) and the bytes to send instead."""
        with self._lock:
            kind = self._next_kind()
            if kind is None:
                return None, reply
            self._applied[kind] += 1
            return kind, corrupt(kind, reply, self._rng)

    def _next_kind(self) -> FaultKind | None:
        if self._queue:
            return self._queue.popleft()
        if self.mix:
            draw = self._rng.random()
            for kind, probability in self.mix.items():
                if draw < probability:
                    return kind
                draw -= probability
            return None
        if self.fault_rate and self._rng.random() < self.fault_rate:
            return self._rng.choice(RANDOM_KINDS)
        return None
