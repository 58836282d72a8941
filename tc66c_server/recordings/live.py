"""One meter's open recording, fed sample by sample: auto-record, stop rules, resume.

:class:`MeterRecorder` joins the pieces for one meter: the open recording's summary
accumulator, its stop rules, the auto-record detector (when auto-record is on) and the
resume window after a restart. It is pure: the bench feeds it samples and the clock, and
acts on what it answers (:class:`Opened`, :class:`Closed`, :class:`Resumed`).

An auto recording ends at the moment the current fell below the threshold, confirmed
only after the end delay, while the samples of the delay have already been summed: the
accumulator is copied (O(1), a few dozen numbers) when the current falls, and that copy
becomes the summary when the end is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..reading import Reading
from .detector import AutoRecordDetector, Ended, Phase, Resumed, Started
from .reasons import EndReason
from .stop_rules import StopRuleCheck, StopRules
from .summary import RecordingInfo, SummaryAccumulator

RESUME_WINDOW_S = 15 * 60.0


@dataclass(slots=True)
class OpenRecording:
    """A recording being made: who it is, its summary so far and its stop rules."""

    info: RecordingInfo
    acc: SummaryAccumulator
    rules: StopRules = field(default_factory=StopRules)
    check: StopRuleCheck | None = None
    #: The accumulator when the current fell below the auto threshold (auto only).
    mark: dict[str, Any] | None = None
    #: Left open by a previous run of the server; waits for readings to resume.
    resuming: bool = False

    def __post_init__(self) -> None:
        if self.check is None:
            self.check = StopRuleCheck(self.rules, self.acc.start_ts)


@dataclass(frozen=True, slots=True)
class Opened:
    recording: OpenRecording


@dataclass(frozen=True, slots=True)
class Closed:
    recording: OpenRecording


@dataclass(frozen=True, slots=True)
class Continued:
    """A recording left open by the last run got readings again (resumed)."""

    recording: OpenRecording
    at_ts: float


Change = Opened | Closed | Continued
#: Makes the recording an auto start opens (the bench stores it and names it).
AutoOpener = Callable[[float], OpenRecording]


class MeterRecorder:
    """The recordings logic of one meter (see the module doc)."""

    def __init__(
        self,
        detector: AutoRecordDetector | None = None,
        open_auto: AutoOpener | None = None,
        *,
        current: OpenRecording | None = None,
        resume_window_s: float = RESUME_WINDOW_S,
    ) -> None:
        if detector is not None and open_auto is None:
            raise ValueError("auto-record needs open_auto")
        self.detector = detector
        self._open_auto = open_auto
        self.current = current
        self.resume_window_s = resume_window_s

    def open(self, recording: OpenRecording) -> Opened:
        """Start a recording by hand; refused while one is open on this meter."""
        if self.current is not None:
            raise RecordingBusy(self.current.info.id)
        self.current = recording
        if self.detector is not None and self.detector.recording:
            self.detector.stopped_outside()
        return Opened(recording)

    def stop(self, now: float, reason: EndReason = EndReason.MANUAL) -> Closed | None:
        """End the open recording at ``now`` (by hand); None when none is open."""
        if self.current is None:
            return None
        if self.detector is not None:
            self.detector.stopped_outside()
        return self._close(now, reason)

    def sample(self, ts: float, reading: Reading) -> list[Change]:
        """One sample of the meter: it joins the open recording, may open or close one."""
        changes = self.tick(ts)
        rec = self.current
        if rec is not None and rec.resuming and not self._detects(rec):
            rec.resuming = False
            changes.append(Continued(rec, ts))
        if self.detector is not None and (rec is None or rec.info.auto):
            changes.extend(self._detect(ts, reading.current))
        rec = self.current
        if rec is None:
            return changes
        assert rec.check is not None
        stop = rec.check.tick(ts)
        if stop is not None:
            return [*changes, self._close(stop.at_ts, stop.reason)]
        rec.acc.add(ts, reading)
        if self.detector is not None and rec.info.auto:
            if self.detector.phase is Phase.BELOW and rec.mark is None:
                rec.mark = rec.acc.to_state()
            elif self.detector.phase is Phase.RECORDING:
                rec.mark = None
        stop = rec.check.sample(ts, reading.voltage, reading.current, rec.acc.energy_wh)
        if stop is not None:
            if self.detector is not None:
                self.detector.stopped_outside()
            changes.append(self._close(stop.at_ts, stop.reason))
        return changes

    def tick(self, now: float) -> list[Change]:
        """The clock with no new sample: ends confirmed by time, stop by duration."""
        changes: list[Change] = []
        rec = self.current
        if rec is not None and rec.resuming and not self._detects(rec):
            last = rec.acc.last_ts if rec.acc.last_ts is not None else rec.acc.start_ts
            if now - last > self.resume_window_s:
                return [self._close(last, EndReason.INTERRUPTED)]
            return changes
        if self.detector is not None and (rec is None or rec.info.auto):
            for event in self.detector.tick(now):
                changes.extend(self._apply(event))
        rec = self.current
        if rec is not None and not rec.resuming and rec.check is not None:
            stop = rec.check.tick(now)
            if stop is not None:
                if self.detector is not None:
                    self.detector.stopped_outside()
                changes.append(self._close(stop.at_ts, stop.reason))
        return changes

    def _detects(self, rec: OpenRecording) -> bool:
        """True when the detector follows ``rec`` (an auto recording with auto-record on)."""
        return rec.info.auto and self.detector is not None

    def _detect(self, ts: float, current_a: float) -> list[Change]:
        assert self.detector is not None
        changes: list[Change] = []
        for event in self.detector.sample(ts, current_a):
            changes.extend(self._apply(event))
        return changes

    def _apply(self, event: Started | Ended | Resumed) -> list[Change]:
        if isinstance(event, Started) and self.current is None:
            assert self._open_auto is not None
            self.current = self._open_auto(event.at_ts)
            return [Opened(self.current)]
        rec = self.current
        if rec is None or not rec.info.auto:
            return []
        if isinstance(event, Resumed):
            rec.resuming = False
            return [Continued(rec, event.at_ts)]
        if isinstance(event, Ended):
            if event.reason is EndReason.CURRENT_BELOW_THRESHOLD and rec.mark is not None:
                rec.acc = SummaryAccumulator.from_state(rec.mark)
            return [self._close(event.at_ts, event.reason)]
        return []

    def _close(self, at_ts: float, reason: EndReason) -> Closed:
        rec = self.current
        assert rec is not None
        rec.acc.close(at_ts, str(reason))
        rec.mark = None
        self.current = None
        return Closed(rec)


class RecordingBusy(Exception):
    """The meter already has an open recording."""

    def __init__(self, recording_id: int) -> None:
        super().__init__(f"recording {recording_id} is still open on this meter")
        self.recording_id = recording_id
