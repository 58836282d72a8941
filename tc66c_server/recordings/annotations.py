"""Notes on a meter's timeline, and the ones the server writes by itself.

Automatic annotations come from comparing successive readings and link states: a new PD
voltage plateau, the meter unplugged and back, the meter rebooted (its ``runs`` counter
changed), a group counter reset (a counter went down), a recording started or stopped.
The functions are pure; :class:`AnnotationWatcher` keeps the little state one meter needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..reading import Reading
from .pd import PlateauTracker
from .summary import COUNTER_KEYS

#: Longest text of a note written by hand.
MAX_TEXT = 500


class Kind(StrEnum):
    """What an annotation marks."""

    NOTE = "note"  # written by hand
    PD_LEVEL = "pd_level"
    UNPLUGGED = "unplugged"
    BACK = "back"
    REBOOTED = "rebooted"
    COUNTER_RESET = "counter_reset"
    RECORDING_STARTED = "recording_started"
    RECORDING_STOPPED = "recording_stopped"


@dataclass(frozen=True, slots=True)
class Annotation:
    """A text at a moment of one meter's timeline; ``auto`` unless written by hand."""

    ts: float
    meter: str
    kind: Kind
    text: str
    auto: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "meter": self.meter,
            "kind": str(self.kind),
            "text": self.text,
            "auto": self.auto,
        }


def note(meter: str, ts: float, text: str) -> Annotation:
    """A note written by hand; refused when empty or longer than :data:`MAX_TEXT`."""
    text = text.strip()
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text must be at most {MAX_TEXT} characters")
    return Annotation(ts, meter, Kind.NOTE, text, auto=False)


def reading_changes(
    meter: str, ts: float, before: Reading | None, now: Reading
) -> list[Annotation]:
    """What changed between two successive readings of a meter: reboot, counter resets."""
    if before is None:
        return []
    out = []
    if now.runs != before.runs:
        out.append(
            Annotation(
                ts, meter, Kind.REBOOTED, f"meter rebooted (runs {before.runs} → {now.runs})"
            )
        )
    for key in COUNTER_KEYS:
        old, new = getattr(before, key), getattr(now, key)
        if new < old:
            group, unit = key.split("_")
            text = f"{group} {unit} counter reset ({old} → {new} {unit_label(unit)})"
            out.append(Annotation(ts, meter, Kind.COUNTER_RESET, text))
    return out


def unit_label(unit: str) -> str:
    return {"mah": "mAh", "mwh": "mWh"}.get(unit, unit)


def link_change(meter: str, ts: float, before: bool | None, now: bool) -> Annotation | None:
    """The meter unplugged (connected → not) or back (not → connected); None otherwise."""
    if before is None or before == now:
        return None
    if now:
        return Annotation(ts, meter, Kind.BACK, "meter back")
    return Annotation(ts, meter, Kind.UNPLUGGED, "meter unplugged")


def pd_change(meter: str, ts: float, before: int | None, now: int) -> Annotation | None:
    """A new PD plateau; None for the first one seen (nothing changed yet) or the same."""
    if before is None or before == now:
        return None
    return Annotation(ts, meter, Kind.PD_LEVEL, f"PD {before} V → {now} V")


def recording_event(
    meter: str, ts: float, name: str, *, started: bool, reason: str = ""
) -> Annotation:
    """A recording started or stopped (with its end reason)."""
    if started:
        return Annotation(ts, meter, Kind.RECORDING_STARTED, f"recording “{name}” started")
    why = f" ({reason})" if reason else ""
    return Annotation(ts, meter, Kind.RECORDING_STOPPED, f"recording “{name}” stopped{why}")


@dataclass(slots=True)
class AnnotationWatcher:
    """The automatic annotations of one meter, from its readings and link states."""

    meter: str
    last: Reading | None = None
    connected: bool | None = None
    pd: PlateauTracker = field(default_factory=PlateauTracker)

    def reading(self, ts: float, reading: Reading) -> list[Annotation]:
        """One reading at ``ts``: the annotations it causes."""
        out = reading_changes(self.meter, ts, self.last, reading)
        before = self.pd.level
        level = self.pd.feed(ts, reading.voltage)
        if level is not None:
            # The plateau began when the voltage entered the band, not when it was confirmed.
            change = pd_change(self.meter, self.pd.since_ts, before, level)
            if change is not None:
                out.append(change)
        self.last = reading
        return out

    def link(self, ts: float, connected: bool) -> list[Annotation]:
        """The meter's link state at ``ts``: an annotation when it changed."""
        change = link_change(self.meter, ts, self.connected, connected)
        self.connected = connected
        return [] if change is None else [change]
