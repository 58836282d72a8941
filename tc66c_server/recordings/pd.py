"""USB Power Delivery voltage levels and the plateaus a voltage settles on."""

from __future__ import annotations

from dataclasses import dataclass

#: The fixed PD (and QC) source voltages a summary reports.
PD_LEVELS_V: tuple[int, ...] = (5, 9, 12, 15, 20)
#: A voltage within this fraction of a level belongs to it (droop under load, source
#: tolerance); the bands do not overlap (9.9 < 10.8, 13.2 < 13.5, 16.5 < 18).
BAND = 0.10
#: A level counts as a plateau once the voltage has stayed in its band this long, so the
#: slew between two levels (a few hundred ms) never counts as the levels it crosses.
PLATEAU_S = 1.0


def pd_level(voltage_v: float) -> int | None:
    """The PD level whose band holds ``voltage_v``, or None (between levels, or no VBUS)."""
    for level in PD_LEVELS_V:
        if abs(voltage_v - level) <= BAND * level:
            return level
    return None


@dataclass(slots=True)
class PlateauTracker:
    """Follows the voltage and tells when it has settled on a new PD level.

    ``level`` is the last settled level; a voltage outside every band leaves it unchanged
    (a slew, or VBUS gone) until another level is held for ``PLATEAU_S``.
    """

    level: int | None = None
    candidate: int | None = None
    since_ts: float = 0.0

    def feed(self, ts: float, voltage_v: float) -> int | None:
        """Take one sample; the newly settled level, or None when nothing settled."""
        seen = pd_level(voltage_v)
        if seen != self.candidate:
            self.candidate, self.since_ts = seen, ts
            return None
        if seen is None or seen == self.level or ts - self.since_ts < PLATEAU_S:
            return None
        self.level = seen
        return seen
