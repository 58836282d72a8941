"""What the meter said against what the server kept: the emulator's log and the comparison.

The emulator (``--log``) writes one JSON line per reply, with the reading it meant to send
and the fault it applied, if any. A stored sample is *bad* when no intact reply with the
same values was sent within a second of its timestamp; an intact reply is *lost* when no
stored sample matches it, unless it was sent inside an excused window (in flight when the
cable was pulled or the server stopped).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tc66c_server import quantities as q

#: The quantities compared, in a fixed order.
KEYS: tuple[str, ...] = tuple(quantity.key for quantity in q.ALL)
#: A stored sample's timestamp is the host time its reply arrived: close to when it was sent.
MATCH_TOLERANCE_S = 1.0


def values_of(point: Mapping[str, Any]) -> tuple[float, ...]:
    """The compared quantities of a reading or data point, rounded past the device's steps."""
    return tuple(round(float(point[key]), 6) for key in KEYS)


@dataclass(frozen=True, slots=True)
class Served:
    """One ``getva`` reply the emulator sent."""

    t: float
    fault: str | None
    complete: bool
    values: tuple[float, ...]

    @property
    def intact(self) -> bool:
        """Sent whole and uncorrupted: the server must store exactly this."""
        return self.fault is None and self.complete


@dataclass(frozen=True, slots=True)
class Stored:
    """One sample as the server keeps it."""

    ts: float
    values: tuple[float, ...]


@dataclass
class EmulatorLog:
    """The replies served and the other events (``plug``, ``unplug``, ``stop``), in order."""

    replies: list[Served] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)

    @property
    def intact(self) -> list[Served]:
        return [r for r in self.replies if r.intact]

    @property
    def faulty(self) -> list[Served]:
        return [r for r in self.replies if r.fault is not None]

    def times(self, event: str) -> list[float]:
        """When each ``event`` was logged."""
        return [t for t, name in self.events if name == event]


def parse_log(lines: Iterable[str]) -> EmulatorLog:
    """Parse JSON lines; a line cut short (still being written) is ignored."""
    log = EmulatorLog()
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry["event"] != "reply":
            log.events.append((entry["t"], entry["event"]))
        elif entry["command"] == "getva":
            reading = entry["reading"]
            log.replies.append(
                Served(entry["t"], entry["fault"], entry["complete"], values_of(reading))
            )
    return log


def read_log(path: Path) -> EmulatorLog:
    """The emulator's log file, parsed (empty if it does not exist yet)."""
    if not path.exists():
        return EmulatorLog()
    return parse_log(path.read_text(encoding="utf-8").splitlines())


@dataclass
class Comparison:
    """Stored samples matched against intact replies."""

    matched: int
    bad: list[Stored]
    lost: list[Served]
    excused: list[Served]

    def describe(self) -> str:
        """A short account for a check's message."""
        return (
            f"{self.matched} matched, {len(self.bad)} bad, {len(self.lost)} lost, "
            f"{len(self.excused)} in flight"
        )


def compare(
    replies: Sequence[Served],
    stored: Sequence[Stored],
    *,
    excused: Sequence[tuple[float, float]] = (),
    tolerance_s: float = MATCH_TOLERANCE_S,
) -> Comparison:
    """Match each stored sample to an intact reply with the same values sent close to it.

    Intact replies left over are lost, except those sent inside one of the ``excused``
    ``(start, end)`` windows. A reply matches at most one sample.
    """
    unused: dict[tuple[float, ...], list[Served]] = defaultdict(list)
    for reply in sorted((r for r in replies if r.intact), key=lambda r: r.t):
        unused[reply.values].append(reply)
    matched = 0
    bad: list[Stored] = []
    for sample in sorted(stored, key=lambda s: s.ts):
        candidates = unused.get(sample.values, [])
        hit = next((r for r in candidates if abs(r.t - sample.ts) <= tolerance_s), None)
        if hit is None:
            bad.append(sample)
            continue
        candidates.remove(hit)
        matched += 1
    left = sorted((r for rs in unused.values() for r in rs), key=lambda r: r.t)

    def in_flight(reply: Served) -> bool:
        return any(start <= reply.t <= end for start, end in excused)

    lost = [r for r in left if not in_flight(r)]
    return Comparison(matched, bad, lost, [r for r in left if in_flight(r)])


def stored_in_file(path: Path) -> list[Stored]:
    """Every sample in a store file, read with the project's own store (server stopped)."""
    from tc66c_server.store import SampleStore  # only the scenarios that stop the server

    with SampleStore(path) as store:
        rows = store.range(0.0, 1e11, KEYS[3:])
    return [Stored(row[0], tuple(round(float(v), 6) for v in row[1:])) for row in rows]
