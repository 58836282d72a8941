"""Auto-record: when a meter's current says a charge started and when it ended.

One :class:`AutoRecordDetector` per meter, fed every sample's current and, between
samples, the clock (:meth:`~AutoRecordDetector.tick`), answers with events:

- ``Started(at)``: the current reached the threshold;
- ``Ended(at, reason)``: the current fell below the threshold at ``at`` and stayed below
  for the end delay (``current_below_threshold``; the delay only confirms, the end is the
  moment it fell), or no reading came for the end delay (``meter_gone``, at the last
  reading);
- after a server restart with a recording still open, ``Resumed(at)`` when readings come
  back within the resume window (15 minutes after the last stored one), else
  ``Ended(last, interrupted)``.

A recording stopped from outside (by hand, a stop rule) re-arms the detector only once the
current has fallen below the threshold, so a charge still running does not start again at
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .reasons import EndReason

DEFAULT_THRESHOLD_A = 0.10
DEFAULT_END_DELAY_S = 60.0
RESUME_WINDOW_S = 15 * 60.0


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Auto-record settings of one meter."""

    threshold_a: float = DEFAULT_THRESHOLD_A
    end_delay_s: float = DEFAULT_END_DELAY_S
    resume_window_s: float = RESUME_WINDOW_S

    def __post_init__(self) -> None:
        if not 0 < self.threshold_a <= 10:
            raise ValueError(
                f"auto_record_threshold_a must be in (0, 10] A, not {self.threshold_a}"
            )
        if not 0 < self.end_delay_s <= 86_400:
            raise ValueError(
                f"auto_record_end_delay_s must be in (0, 86400] s, not {self.end_delay_s}"
            )
        if self.resume_window_s < 0:
            raise ValueError(f"resume_window_s must be >= 0, not {self.resume_window_s}")


@dataclass(frozen=True, slots=True)
class Started:
    at_ts: float


@dataclass(frozen=True, slots=True)
class Ended:
    at_ts: float
    reason: EndReason


@dataclass(frozen=True, slots=True)
class Resumed:
    at_ts: float


Event = Started | Ended | Resumed


class Phase(StrEnum):
    IDLE = "idle"
    RECORDING = "recording"
    BELOW = "below"  # recording, current below the threshold since ``below_since``
    RESUMING = "resuming"  # recording left open by a previous run, awaiting readings
    REARMING = "rearming"  # stopped from outside, waiting for the current to fall


class AutoRecordDetector:
    """The auto-record state machine of one meter (see the module doc)."""

    def __init__(
        self,
        settings: DetectorSettings | None = None,
        *,
        open_since: float | None = None,
        last_seen_ts: float | None = None,
    ) -> None:
        """``open_since``/``last_seen_ts``: an auto recording left open by the last run."""
        self.settings = settings or DetectorSettings()
        self.phase = Phase.IDLE
        self.started_ts: float | None = None
        self.below_since: float | None = None
        self.last_ts: float | None = None
        if open_since is not None:
            self.phase = Phase.RESUMING
            self.started_ts = open_since
            self.last_ts = open_since if last_seen_ts is None else last_seen_ts

    @property
    def recording(self) -> bool:
        """True while the detector holds a recording open (or one to resume)."""
        return self.phase in (Phase.RECORDING, Phase.BELOW, Phase.RESUMING)

    def sample(self, ts: float, current_a: float) -> list[Event]:
        """One reading's current at ``ts``; the events it causes, in order."""
        events = self.tick(ts)
        if self.phase is Phase.RESUMING:
            events.append(Resumed(ts))
            self.phase = Phase.RECORDING
        above = current_a >= self.settings.threshold_a
        if self.phase is Phase.IDLE and above:
            events.append(self._start(ts))
        elif self.phase is Phase.RECORDING and not above:
            self.phase, self.below_since = Phase.BELOW, ts
        elif self.phase is Phase.BELOW and above:
            self.phase, self.below_since = Phase.RECORDING, None
        elif self.phase is Phase.REARMING and not above:
            self.phase = Phase.IDLE
        self.last_ts = ts
        return events

    def tick(self, now: float) -> list[Event]:
        """The clock at ``now`` with no new reading: ends confirmed by the time alone."""
        delay = self.settings.end_delay_s
        last, since = self.last_ts, self.below_since
        if self.phase is Phase.BELOW and since is not None and now - since >= delay:
            return [self._end(since, EndReason.CURRENT_BELOW_THRESHOLD)]
        if self.phase is Phase.RECORDING and last is not None and now - last >= delay:
            return [self._end(last, EndReason.METER_GONE)]
        resume_window = self.settings.resume_window_s
        if self.phase is Phase.RESUMING and last is not None and now - last > resume_window:
            return [self._end(last, EndReason.INTERRUPTED)]
        return []

    def stopped_outside(self) -> None:
        """The open recording was ended by hand or a stop rule: re-arm once the current falls."""
        self.phase, self.started_ts, self.below_since = Phase.REARMING, None, None

    def _start(self, ts: float) -> Started:
        self.phase, self.started_ts, self.below_since = Phase.RECORDING, ts, None
        return Started(ts)

    def _end(self, at_ts: float, reason: EndReason) -> Ended:
        self.phase, self.started_ts, self.below_since = Phase.IDLE, None, None
        return Ended(at_ts, reason)
