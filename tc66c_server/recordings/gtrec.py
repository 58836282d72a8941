"""The meter's own offline recording (``gtrec``) as timestamped, imported samples.

The meter streams its records as 8-byte pairs of voltage and current with no header, no
count and no time (fact sheet, section 3; decoded by :func:`protocol.decode_recording`).
The interval is set on the meter (1 to 60 s) and is not in the stream, so the user gives it,
with the time of the last record; record ``k`` of ``n`` is then at
``end - (n - 1 - k) * interval``. Power and resistance are computed from V and I at the
meter's resolution; the meter keeps nothing else, so the counters, temperature and data
lines of an imported sample are zero and the recording holding them says ``imported``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import protocol
from .. import quantities as q
from ..reading import Reading, Sample
from .summary import OPEN_CIRCUIT_OHM

MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 60
#: Consecutive records are this many intervals apart at most before a step is a gap.
GAP_INTERVALS = 1.5


class GtrecError(ValueError):
    """An interval or end time the import cannot use; the message says which and why."""


@dataclass(frozen=True, slots=True)
class GtrecImport:
    """The samples of one download, oldest first, and how they were placed in time."""

    samples: tuple[Sample, ...]
    interval_s: int
    end_ts: float
    #: Bytes after the last whole record (a transfer cut short); they are dropped.
    trailing_bytes: int

    @property
    def start_ts(self) -> float:
        return self.samples[0].ts if self.samples else self.end_ts

    @property
    def gap_s(self) -> float:
        """The gap threshold a summary of these samples uses (a step is one interval)."""
        return GAP_INTERVALS * self.interval_s


def check_interval(interval_s: object) -> int:
    """The interval as a whole number of seconds from 1 to 60, or :class:`GtrecError`."""
    if isinstance(interval_s, bool) or not isinstance(interval_s, int | float):
        raise GtrecError("interval_s must be a number of seconds")
    if not math.isfinite(interval_s) or interval_s != int(interval_s):
        raise GtrecError("interval_s must be a whole number of seconds (as set on the meter)")
    if not MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S:
        raise GtrecError(f"interval_s must be {MIN_INTERVAL_S} to {MAX_INTERVAL_S} s")
    return int(interval_s)


def _reading(point: protocol.RecordPoint) -> Reading:
    volts, amps = point.voltage, point.current
    ohms = OPEN_CIRCUIT_OHM
    if amps * OPEN_CIRCUIT_OHM > volts:
        ohms = q.RESISTANCE.from_raw(q.RESISTANCE.to_raw(volts / amps))
    return Reading(
        product="TC66",
        firmware="",
        serial=0,
        runs=0,
        voltage=volts,
        current=amps,
        power=q.POWER.from_raw(q.POWER.to_raw(volts * amps)),
        resistance=ohms,
        group0_mah=0,
        group0_mwh=0,
        group1_mah=0,
        group1_mwh=0,
        temperature=0,
        d_plus=0.0,
        d_minus=0.0,
    )


def imported_samples(
    recording: protocol.Recording, interval_s: object, end_ts: float, *, now: float
) -> GtrecImport:
    """Place a decoded download in time: the last record at ``end_ts``, one per interval.

    ``end_ts`` may not lie after ``now`` (the recording is in the past) nor before 1970
    plus the recording's length.
    """
    interval = check_interval(interval_s)
    if not math.isfinite(end_ts):
        raise GtrecError("end time must be a time")
    if end_ts > now + 1.0:
        raise GtrecError("end time is in the future")
    count = len(recording.points)
    if end_ts - (count - 1) * interval < 0:
        raise GtrecError("end time is too early: the first record would be before 1970")
    samples = tuple(
        Sample(end_ts - (count - 1 - k) * interval, _reading(point))
        for k, point in enumerate(recording.points)
    )
    return GtrecImport(samples, interval, end_ts, recording.trailing_bytes)
