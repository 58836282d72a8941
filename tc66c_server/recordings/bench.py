"""The bench's recordings: one recorder per meter, their rows on disk, events, kept spans.

:class:`Recordings` is what the runtime and the API talk to. Each meter's samples go
through its :class:`~.live.MeterRecorder` (auto-record, stop rules) and its
:class:`~.annotations.AnnotationWatcher`; what they answer is stored
(:class:`~.db.RecordingDb`) and published as ``recording`` and ``annotation`` events. An
open recording's summary state is saved every few seconds, so a restart resumes it from
there, after replaying the samples the store holds since (``catch_up``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..reading import Sample
from ..timefmt import iso
from .annotations import Annotation, AnnotationWatcher, note, recording_event
from .db import RecordingDb, RecordingRow
from .detector import AutoRecordDetector, DetectorSettings
from .live import Change, Closed, Continued, MeterRecorder, Opened, OpenRecording, RecordingBusy
from .reasons import EndReason
from .stop_rules import StopRules
from .summary import RecordingInfo, SummaryAccumulator, summary

log = logging.getLogger(__name__)

#: An open recording's state is written at most this often (and at every start and end).
SAVE_EVERY_S = 5.0
#: A running recording's summary is published at most this often.
SUMMARY_EVENT_EVERY_S = 2.0
TICK_S = 1.0
#: Automatic annotations older than the retention (outside recordings) go this often.
ANNOTATION_PRUNE_EVERY_S = 60.0
MAX_NAME = 100
MAX_NOTE = 2000

Publish = Callable[[str, dict[str, Any], str | None], None]
#: Samples of a meter the store holds after a time: (meter, demo, after_ts) -> samples.
CatchUp = Callable[[str, bool, float], Iterable[Sample]]


class UnknownRecording(KeyError):
    """No recording has this id."""


class NotRunning(ValueError):
    """The recording has already ended."""


@dataclass(slots=True)
class _Meter:
    recorder: MeterRecorder
    watcher: AnnotationWatcher
    demo: bool = False
    saved_ts: float = 0.0
    event_ts: float = 0.0


@dataclass(frozen=True, slots=True)
class AutoRecord:
    """One meter's auto-record settings (the config's keys)."""

    enabled: bool = False
    threshold_a: float = 0.10
    end_delay_s: float = 60.0


def check_text(value: Any, what: str, limit: int, *, empty: bool = False) -> str:
    """A name or note from a request, stripped; ValueError with why when it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    text: str = value.strip()
    if not text and not empty:
        raise ValueError(f"{what} must not be empty")
    if len(text) > limit:
        raise ValueError(f"{what} must be at most {limit} characters")
    return text


@dataclass
class Recordings:
    """Every meter's recordings (see the module doc); safe from any thread."""

    db: RecordingDb
    publish: Publish
    gap_s: Callable[[str], float]
    retention_s: Callable[[], float | None] = lambda: None
    catch_up: CatchUp | None = None
    #: The auto-record settings of the meters ``per_meter`` does not name.
    auto: AutoRecord = field(default_factory=AutoRecord)
    per_meter: dict[str, AutoRecord] = field(default_factory=dict)
    _meters: dict[str, _Meter] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _pruned_ts: float = 0.0

    # -- lifecycle ------------------------------------------------------------------------
    def resume(self, demo_of: Callable[[str], bool]) -> None:
        """Take back the recordings left open by the last run (before the pollers start).

        The samples stored after the last saved state are added to its summary; whether the
        recording resumes is decided by the first live reading (or the clock), never by
        these stored ones.
        """
        with self._lock:
            for row in self.db.open_recordings():
                state = self._meter(row.meter, demo_of(row.meter))
                acc = SummaryAccumulator.from_state(row.state)
                if self.catch_up is not None and acc.last_ts is not None:
                    for sample in self.catch_up(row.meter, state.demo, acc.last_ts):
                        acc.add(sample.ts, sample.reading)
                info = RecordingInfo(row.id, row.name, row.meter, row.auto)
                rec = OpenRecording(info, acc, StopRules.from_json(row.stop_rules), resuming=True)
                state.recorder.current = rec
                if row.auto and state.recorder.detector is not None:
                    last = acc.last_ts if acc.last_ts is not None else acc.start_ts
                    state.recorder.detector = AutoRecordDetector(
                        self._settings(row.meter), open_since=acc.start_ts, last_seen_ts=last
                    )
                log.info(
                    "recording %d (%s) left open: resumes if readings return", row.id, row.name
                )

    def start(self) -> None:
        """Run the clock (ends confirmed by time, stop rules by duration)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tc66c-recordings", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the clock and save every open recording's state; the db stays open."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            for state in self._meters.values():
                rec = state.recorder.current
                if rec is not None:
                    self.db.save_state(rec.info.id, rec.acc.to_state())

    def close(self) -> None:
        self.stop()
        self.db.close()

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.tick(time.time())
            except Exception:
                log.exception("recordings clock")

    # -- settings -------------------------------------------------------------------------
    def auto_of(self, meter_id: str) -> AutoRecord:
        """A meter's auto-record settings."""
        return self.per_meter.get(meter_id, self.auto)

    def configure(
        self, auto: AutoRecord, per_meter: Mapping[str, AutoRecord] | None = None
    ) -> None:
        """New auto-record settings: ``auto`` for every meter ``per_meter`` does not name.

        Only the meters whose settings changed are touched: turning it off ends an open auto
        recording now; a new threshold or delay applies to the recording under way."""
        with self._lock:
            before = {meter_id: self.auto_of(meter_id) for meter_id in self._meters}
            self.auto, self.per_meter = auto, dict(per_meter or {})
            now = time.time()
            for meter_id, state in self._meters.items():
                new = self.auto_of(meter_id)
                if new == before[meter_id]:
                    continue
                rec = state.recorder.current
                detector = state.recorder.detector
                if not new.enabled:
                    if rec is not None and rec.info.auto:
                        self._handle(meter_id, [self._stop_now(state, now)])
                    state.recorder.detector = None
                elif detector is not None:
                    detector.settings = self._settings(meter_id)
                else:
                    state.recorder.detector = self._detector(meter_id)

    def _settings(self, meter_id: str) -> DetectorSettings:
        auto = self.auto_of(meter_id)
        return DetectorSettings(auto.threshold_a, auto.end_delay_s)

    def _detector(self, meter_id: str) -> AutoRecordDetector | None:
        enabled = self.auto_of(meter_id).enabled
        return AutoRecordDetector(self._settings(meter_id)) if enabled else None

    def _meter(self, meter_id: str, demo: bool = False) -> _Meter:
        state = self._meters.get(meter_id)
        if state is None:
            recorder = MeterRecorder(
                self._detector(meter_id), lambda ts: self._open_auto(meter_id, ts)
            )
            state = self._meters[meter_id] = _Meter(recorder, AnnotationWatcher(meter_id), demo)
        return state

    # -- acquisition (pollers' threads) ---------------------------------------------------
    def sample(self, meter_id: str, sample: Sample, demo: bool = False) -> None:
        """One sample of a meter: recordings and annotations follow it."""
        with self._lock:
            state = self._meter(meter_id, demo)
            state.demo = demo
            self._handle(meter_id, state.recorder.sample(sample.ts, sample.reading))
            self._annotate(state.watcher.reading(sample.ts, sample.reading))
            rec = state.recorder.current
            if rec is None:
                return
            if sample.ts - state.saved_ts >= SAVE_EVERY_S:
                self.db.save_state(rec.info.id, rec.acc.to_state())
                state.saved_ts = sample.ts
            if sample.ts - state.event_ts >= SUMMARY_EVENT_EVERY_S:
                self._event("summary", rec, sample.ts)
                state.event_ts = sample.ts

    def link(self, meter_id: str, connected: bool, ts: float) -> None:
        """A meter's link state changed."""
        with self._lock:
            self._annotate(self._meter(meter_id).watcher.link(ts, connected))

    def tick(self, now: float) -> None:
        """The clock: ends confirmed by time, duration rules, old annotations."""
        with self._lock:
            for meter_id, state in list(self._meters.items()):
                self._handle(meter_id, state.recorder.tick(now))
        retention = self.retention_s()
        if retention is not None and now - self._pruned_ts >= ANNOTATION_PRUNE_EVERY_S:
            self._pruned_ts = now
            self.db.prune_annotations(now - retention, now)

    def forget_meter(self, meter_id: str, now: float) -> None:
        """A meter left the bench: its open recording ends at its last sample."""
        with self._lock:
            state = self._meters.pop(meter_id, None)
            if state is not None and state.recorder.current is not None:
                last = state.recorder.current.acc.last_ts
                closed = state.recorder.stop(now if last is None else last, EndReason.METER_GONE)
                self._handle(meter_id, [] if closed is None else [closed])

    # -- requests -------------------------------------------------------------------------
    def start_recording(
        self,
        meter_id: str,
        name: str,
        *,
        now: float,
        note: str = "",
        rules: StopRules | None = None,
        demo: bool = False,
        pair: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Start a recording by hand on a meter; :class:`RecordingBusy` if one is open.

        ``pair`` (its id and output meter) makes it the recording of a pair whose input is
        ``meter_id``: the input meter's recorder runs it (summary, stop rules, end), and the
        output meter's samples are kept over the same span."""
        rules = rules or StopRules()
        with self._lock:
            state = self._meter(meter_id, demo)
            if state.recorder.current is not None:
                raise RecordingBusy(state.recorder.current.info.id)
            acc = SummaryAccumulator(now, self.gap_s(meter_id))
            rid = self.db.create(
                name=name, meter=meter_id, start_ts=now, state=acc.to_state(), note=note,
                demo=demo, stop_rules=rules.as_json(),
                pair=None if pair is None else pair[0], partner=None if pair is None else pair[1],
            )  # fmt: skip
            rec = OpenRecording(RecordingInfo(rid, name, meter_id), acc, rules)
            self._handle(meter_id, [state.recorder.open(rec)])
            return self.recording(rid, now)

    def stop_recording(self, recording_id: int, now: float) -> dict[str, Any]:
        """End a running recording now; :class:`NotRunning` when it has ended."""
        with self._lock:
            row = self._row(recording_id)
            if row.end_ts is not None:
                raise NotRunning(f"recording {recording_id} ended already")
            state = self._meters.get(row.meter)
            if state is not None and _holds(state, recording_id):
                self._handle(row.meter, [self._stop_now(state, now)])
            else:  # open in the file but followed by no recorder (its meter is gone)
                acc = SummaryAccumulator.from_state(row.state)
                acc.close(now, str(EndReason.MANUAL))
                self.db.save_state(recording_id, acc.to_state(), end_ts=now, end_reason="manual")
            return self.recording(recording_id, now)

    def _stop_now(self, state: _Meter, now: float) -> Change:
        closed = state.recorder.stop(now)
        assert closed is not None
        return closed

    def edit(self, recording_id: int, *, name: str | None, note: str | None) -> None:
        with self._lock:
            if not self.db.edit(recording_id, name=name, note=note):
                raise UnknownRecording(recording_id)
            for state in self._meters.values():
                rec = state.recorder.current
                if rec is not None and rec.info.id == recording_id and name is not None:
                    rec.info = RecordingInfo(recording_id, name, rec.info.meter, rec.info.auto)

    def delete(self, recording_id: int) -> None:
        """Forget a recording (a running one stops first); its samples then age out."""
        with self._lock:
            row = self._row(recording_id)
            state = self._meters.get(row.meter)
            if state is not None and _holds(state, recording_id):
                state.recorder.current = None
                if state.recorder.detector is not None:
                    state.recorder.detector.stopped_outside()
            self.db.delete(recording_id)
        self.publish("recording", {"type": "deleted", "id": recording_id}, row.meter)

    def add_imported(
        self,
        meter_id: str,
        name: str,
        samples: Iterable[Sample],
        *,
        gap_s: float,
        has_counters: bool,
        note: str = "",
        demo: bool = False,
    ) -> dict[str, Any]:
        """A finished recording over imported samples (already in the store)."""
        acc = accumulate(samples, gap_s, has_counters=has_counters)
        if acc.last_ts is None:
            raise ValueError("there is nothing to import: no sample")
        acc.close(acc.last_ts, str(EndReason.IMPORTED))
        rid = self.db.create(
            name=name, meter=meter_id, start_ts=acc.start_ts, state=acc.to_state(), note=note,
            imported=True, demo=demo, end_ts=acc.end_ts, end_reason=acc.end_reason,
        )  # fmt: skip
        body = self.recording(rid, time.time())
        self.publish("recording", {"type": "stopped", "recording": body}, meter_id)
        return body

    def add_note(self, meter_id: str, ts: float, text: str) -> dict[str, Any]:
        annotation = note(meter_id, ts, text)
        (aid,) = self.db.annotate([annotation])
        body = annotation_json(aid, annotation)
        self.publish("annotation", body, meter_id)
        return body

    # -- reading --------------------------------------------------------------------------
    def recording(self, recording_id: int, now: float) -> dict[str, Any]:
        """A recording's summary and its own fields (note, imported, stop rules)."""
        return self._json(self._row(recording_id), now)

    def listing(self, now: float, meter: str | None = None) -> list[dict[str, Any]]:
        """Every recording (of ``meter``), newest first, with summaries."""
        return [self._json(row, now) for row in self.db.listing(meter)]

    def row(self, recording_id: int) -> RecordingRow:
        return self._row(recording_id)

    def kept_spans(self, now: float) -> list[tuple[str, float, float]]:
        """The spans the sample store must keep (the prune hook)."""
        return self.db.kept_spans(now)

    def _row(self, recording_id: int) -> RecordingRow:
        row = self.db.get(recording_id)
        if row is None:
            raise UnknownRecording(recording_id)
        return row

    def _json(self, row: RecordingRow, now: float) -> dict[str, Any]:
        with self._lock:
            state = self._meters.get(row.meter)
            rec = state.recorder.current if state is not None else None
            if rec is not None and rec.info.id == row.id:
                acc, info = rec.acc, rec.info
            else:
                acc = SummaryAccumulator.from_state(row.state)
                info = RecordingInfo(row.id, row.name, row.meter, row.auto)
                if row.end_ts is not None and acc.end_ts is None:
                    acc.close(row.end_ts, row.end_reason or "")
        body = summary(acc, RecordingInfo(info.id, row.name, info.meter, row.auto), now)
        body["note"] = row.note
        body["imported"] = row.imported
        body["stop_rules"] = row.stop_rules
        body["running"] = acc.end_ts is None
        body["pair"] = row.pair
        if row.pair is not None:
            body["meters"] = list(row.meters)
        return body

    # -- effects --------------------------------------------------------------------------
    def _open_auto(self, meter_id: str, ts: float) -> OpenRecording:
        name = "auto " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
        acc = SummaryAccumulator(ts, self.gap_s(meter_id))
        demo = self._meters[meter_id].demo if meter_id in self._meters else False
        rid = self.db.create(
            name=name, meter=meter_id, start_ts=ts, state=acc.to_state(), auto=True, demo=demo
        )
        return OpenRecording(RecordingInfo(rid, name, meter_id, auto=True), acc)

    def _handle(self, meter_id: str, changes: list[Change]) -> None:
        for change in changes:
            rec = change.recording
            if isinstance(change, Opened):
                self._event("started", rec, rec.acc.start_ts)
                event = recording_event(meter_id, rec.acc.start_ts, rec.info.name, started=True)
                self._annotate([event])
            elif isinstance(change, Closed):
                acc = rec.acc
                end = acc.end_ts if acc.end_ts is not None else time.time()
                self.db.save_state(
                    rec.info.id, acc.to_state(), end_ts=end, end_reason=acc.end_reason
                )
                self._event("stopped", rec, end)
                reason = acc.end_reason or ""
                stopped = recording_event(
                    meter_id, end, rec.info.name, started=False, reason=reason
                )
                self._annotate([stopped])
                log.info("recording %d (%s) ended: %s", rec.info.id, rec.info.name, reason)
            elif isinstance(change, Continued):
                self._event("resumed", rec, change.at_ts)
                log.info("recording %d (%s) resumed", rec.info.id, rec.info.name)

    def _event(self, kind: str, rec: OpenRecording, now: float) -> None:
        row = self.db.get(rec.info.id)
        if row is None:
            return
        self.publish("recording", {"type": kind, "recording": self._json(row, now)}, row.meter)

    def _annotate(self, annotations: list[Annotation]) -> None:
        if not annotations:
            return
        for aid, annotation in zip(self.db.annotate(annotations), annotations, strict=True):
            self.publish("annotation", annotation_json(aid, annotation), annotation.meter)


def accumulate(
    samples: Iterable[Sample], gap_s: float, *, has_counters: bool
) -> SummaryAccumulator:
    """The summary of samples in time order, from the first one's time (empty: from 0)."""
    acc: SummaryAccumulator | None = None
    for sample in samples:
        if acc is None:
            acc = SummaryAccumulator(sample.ts, gap_s, has_counters=has_counters)
        acc.add(sample.ts, sample.reading)
    return acc if acc is not None else SummaryAccumulator(0.0, gap_s, has_counters=has_counters)


def _holds(state: _Meter, recording_id: int) -> bool:
    rec = state.recorder.current
    return rec is not None and rec.info.id == recording_id


def annotation_json(annotation_id: int, annotation: Annotation) -> dict[str, Any]:
    """An annotation as the API shows it (its time as ISO 8601 and Unix seconds)."""
    body = annotation.as_json()
    body["id"] = annotation_id
    body["time"] = iso(annotation.ts)
    return body
