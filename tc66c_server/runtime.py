"""The bench: the running server's meters, pairs, store and live hub, and config changes.

This is the only place that knows how the parts connect; the HTTP layer talks to it. The
seed's single meter is the bench's first meter: ``runtime.config``, ``runtime.latest`` and
``runtime.poller`` are that meter's, so the seed's routes are the per-meter routes with a
default id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import __version__
from . import config as cfg
from . import quantities as q
from .api.hosts import is_loopback
from .api.payloads import connection_payload, sample_payload
from .api.series_cache import SeriesCache
from .autoport import AutoPolicy, auto_policies
from .bench_config import BenchConfig, MeterSpec, PairSpec
from .demo import DemoBench
from .energy import EnergyTotals, accumulate
from .exporters import METER_REMOVED, Sink, Sinks
from .histories import Histories, Opener, is_demo, open_store
from .hub import Event, Hub
from .i18n import Messages
from .meter import Meter
from .pairs import Calibration
from .poller import LinkState, Poller
from .poller_process import ProcessPoller
from .reading import Reading, Sample
from .recordings.bench import AutoRecord, Recordings
from .recordings.db import FILE_NAME as RECORDINGS_FILE
from .recordings.db import RecordingDb
from .store import SampleStore

log = logging.getLogger(__name__)


class UnknownMeterError(KeyError):
    """No meter (or pair) has this id."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Settings fixed for the life of the process (not editable through the API)."""

    host: str = "127.0.0.1"
    http_port: int = 5000
    data_dir: str = ""  # "" = default directory, ":memory:" = RAM only
    lang: str = "en"
    token: str | None = None
    #: ``--allowed-host`` entries: more names the server answers to (``api/hosts.py``).
    allowed_hosts: tuple[str, ...] = ()
    saved_config_path: Path | None = None
    #: Poll in a child process (the server does; in-process tests use a thread).
    poller_process: bool = False
    log_level: int = logging.INFO

    @property
    def exposed(self) -> bool:
        """True when the server listens beyond loopback (decided on the address, not a
        name prefix: ``127.0.0.2`` is loopback, ``127.example`` is not)."""
        return not is_loopback(self.host)


class Runtime:
    """Owns the store, the meters, the pairs, the live hub and the demo emulators."""

    def __init__(
        self,
        settings: ServerSettings,
        config: BenchConfig | cfg.MeterConfig,
        store: SampleStore,
        *,
        demo_delay_s: float = 0.09,
        store_opener: Opener = open_store,
    ) -> None:
        if isinstance(config, cfg.MeterConfig):
            config = BenchConfig(
                meters=(MeterSpec("m1", config.port, config.polling_interval),),
                data_retention_minutes=config.data_retention_minutes,
            )
        self.settings = settings
        self.bench = config
        #: Real and demo samples each go to a store of their own (``histories.py``).
        self.histories = Histories(store, config.first.port, store_opener)
        self.hub = Hub()
        self.series_cache = SeriesCache()
        self.messages = Messages(settings.lang)
        self.started_at = time.time()
        self._demo = DemoBench(reply_delay_s=demo_delay_s)
        self._config_lock = threading.Lock()
        self._running = False
        self.histories.set_retention(config.data_retention_minutes * 60)
        #: Exporters (MQTT...) told about every sample, link change and event.
        self.sinks = Sinks()
        #: Energy and charge through each meter since start (replaced whole per sample).
        self.energy: dict[str, EnergyTotals] = {}
        self.recordings = Recordings(
            RecordingDb(store.path.parent / RECORDINGS_FILE if store.path is not None else None),
            publish=self._publish,
            gap_s=lambda meter_id: self.gap_s(meter_id) if meter_id in self.meters else 2.0,
            retention_s=lambda: self.bench.data_retention_minutes * 60.0,
            catch_up=self._stored_since,
            auto=_auto_record(config.recording_settings()),
            per_meter=_auto_records(config),
        )
        self.histories.set_pinned(lambda: self.recordings.kept_spans(time.time()))
        self.meters: dict[str, Meter] = {}
        for spec in config.meters:
            self.meters[spec.id] = self._make_meter(spec)
        self.recordings.resume(
            lambda meter_id: (
                is_demo(self.meters[meter_id].spec.port) if meter_id in self.meters else False
            )
        )

    # -- the seed's single meter: the first one ------------------------------------------
    @property
    def config(self) -> cfg.MeterConfig:
        """The seed's ``/api/config`` view: the first meter's port and interval, retention."""
        return self.bench.seed_view()

    @property
    def first(self) -> Meter:
        return self.meters[self.bench.first.id]

    @property
    def latest(self) -> Sample | None:
        return self.first.latest

    @property
    def store(self) -> SampleStore:
        """The first meter's store (the seed's history)."""
        return self.store_of(self.first)

    def store_of(self, meter: Meter) -> SampleStore:
        """The store holding ``meter``'s history: the demo's or the real meters'."""
        return self.histories.for_port(meter.spec.port)

    @property
    def poller(self) -> Poller | ProcessPoller:
        return self.first.poller

    @property
    def demo(self) -> bool:
        return self.first.demo

    @property
    def demo_link(self) -> str | None:
        return self._demo.input_link

    def meter(self, meter_id: str | None = None) -> Meter:
        """The meter with this id (the first when None); :class:`UnknownMeterError` if none."""
        if meter_id is None:
            return self.first
        meter = self.meters.get(meter_id)
        if meter is None:
            raise UnknownMeterError(meter_id)
        return meter

    def pair(self, pair_id: str) -> PairSpec:
        pair = self.bench.pair(pair_id)
        if pair is None:
            raise UnknownMeterError(pair_id)
        return pair

    def __iter__(self) -> Iterator[Meter]:
        return iter(list(self.meters.values()))

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start acquisition on every meter."""
        self._running = True
        self.sinks.start(self)
        self.recordings.start()
        for meter in self:
            meter.start()

    def stop(self) -> None:
        """Stop acquisition, write pending samples, close the ports and the emulators."""
        log.info(self.messages("shutdown"))
        self._running = False
        for meter in self:
            meter.stop()
        self.sinks.close()
        self.recordings.close()
        self.histories.close()
        self._demo.stop()

    def _make_meter(self, spec: MeterSpec) -> Meter:
        return Meter(
            spec,
            resolve_port=self._device_for,
            on_sample=self._on_sample,
            on_state=self._on_state,
            messages=self.messages,
            in_process=not self.settings.poller_process,
            log_level=self.settings.log_level,
            latest=self.histories.for_port(spec.port).latest(meter=spec.id),
            auto=self._auto_policy(spec),
        )

    def _auto_policy(self, spec: MeterSpec) -> AutoPolicy | None:
        """How this meter picks its port if it is ``auto``: its rank among the bench's
        ``auto`` meters, and the ports the others name (``autoport.py``)."""
        meters = self.bench.meters
        policies = auto_policies([m.port for m in meters])
        return next((p for m, p in zip(meters, policies, strict=True) if m.id == spec.id), None)

    def _device_for(self, port: str) -> str:
        """The device path to open for a configured port (``demo*`` starts the emulators)."""
        return self._demo.link_for(port) if port in cfg.DEMO_PORTS else port

    def _release_demo(self) -> None:
        if not any(m.demo for m in self.meters.values()):
            self._demo.stop()

    # -- acquisition callbacks (poller threads) -----------------------------------------
    def _on_sample(self, meter_id: str, sample: Sample) -> None:
        meter = self.meters.get(meter_id)
        if meter is None:
            return  # removed while this sample was in flight
        # The poller's state changes before the samples of a newly opened port arrive, so
        # it tells where this sample came from: its store is that port's kind's.
        demo = meter.state.port in self._demo.links
        self.histories.store(demo).add(sample, meter=meter_id)
        self._export_sample(meter_id, sample)
        try:
            self.recordings.sample(meter_id, sample, demo)
        except Exception:  # a recordings fault must never stop acquisition
            log.exception("recordings: sample of %s", meter_id)
        if self.hub.subscriber_count:
            payload = sample_payload(sample)
            payload["meter"] = meter_id
            self.hub.publish(Event("sample", orjson.dumps(payload), meter_id))

    def _on_state(self, meter_id: str, state: LinkState) -> None:
        payload = connection_payload(self, state, meter_id)
        self.hub.publish(Event("connection", orjson.dumps(payload), meter_id))
        self.sinks.publish_state(meter_id, state)
        try:
            self.recordings.link(meter_id, state.connected, time.time())
        except Exception:
            log.exception("recordings: link of %s", meter_id)

    # -- exporters and server-side energy (tc66c_server.exporters, tc66c_server.energy) ---
    def add_sink(self, sink: Sink) -> None:
        """Send samples, link states and events to ``sink`` too (started with the bench)."""
        self.sinks.add(sink)
        if self._running:
            sink.start(self)

    def publish_event(self, meter_id: str, name: str, payload: dict[str, Any]) -> None:
        """Tell the sinks that something happened to a meter (recording started...)."""
        self.sinks.publish_event(meter_id, name, payload)

    def energy_of(self, meter_id: str) -> EnergyTotals:
        """Energy and charge through the meter since the server started."""
        return self.energy.get(meter_id) or EnergyTotals()

    def _export_sample(self, meter_id: str, sample: Sample) -> None:
        if meter_id not in self.meters:  # removed while this sample was on its way
            return
        self.energy[meter_id] = accumulate(self.energy_of(meter_id), sample, self.gap_s(meter_id))
        if len(self.sinks):
            self.sinks.publish_sample(meter_id, sample)

    def _meter_removed(self, meter_id: str) -> None:
        self.energy.pop(meter_id, None)
        self.sinks.publish_event(meter_id, METER_REMOVED, {})

    def _publish(self, name: str, payload: dict[str, Any], meter_id: str | None) -> None:
        """A recordings event: to the live stream, and to the exporters (MQTT ``event``)."""
        self.hub.publish(Event(name, orjson.dumps(payload), meter_id))
        if meter_id is not None and len(self.sinks):
            self.sinks.publish_event(meter_id, name, payload)

    def _stored_since(self, meter_id: str, demo: bool, after_ts: float) -> list[Sample]:
        """The samples the store holds of a meter after ``after_ts`` (restart catch-up)."""
        store = self.histories.store(demo)
        extras = tuple(x.key for x in q.EXTRA)
        rows = store.range(after_ts + 1e-6, time.time(), extras, meter=meter_id)
        return [Sample(row[0], _reading(row, extras)) for row in rows]

    # -- configuration ------------------------------------------------------------------
    def apply_config(self, changes: Any, meter_id: str | None = None) -> cfg.MeterConfig:
        """Validate a seed-shaped change for one meter (all or nothing), save it, apply it."""
        target = self.meter(meter_id).id
        with self._config_lock:
            new = self.bench.with_meter_changes(target, changes)  # ConfigError: no change
            self._commit(new)
            return new.seed_view(target)

    def apply_recording_defaults(self, changes: Any) -> BenchConfig:
        """New auto-record defaults (every meter without its own): saved, then applied."""
        with self._config_lock:
            new = self.bench.with_recording_defaults(changes)  # ConfigError: no change
            self._commit(new)
            return new

    def add_meter(self, body: Any) -> Meter:
        """Add a meter from ``{"port", "id"?, "polling_interval"?}``, saved and started."""
        with self._config_lock:
            new = self.bench.with_new_meter(body)
            self._commit(new)
            return self.meters[new.meters[-1].id]

    def remove_meter(self, meter_id: str) -> None:
        """Stop and forget a meter (its history stays in the store until retention)."""
        self.meter(meter_id)
        with self._config_lock:
            self._commit(self.bench.without_meter(meter_id))

    def add_pair(self, body: Any) -> PairSpec:
        with self._config_lock:
            new = self.bench.with_new_pair(body)
            self._commit(new)
            return new.pairs[-1]

    def set_calibration(self, pair_id: str, calibration: Calibration | None) -> PairSpec:
        """Store (or clear) a pair's calibration; later results apply it."""
        self.pair(pair_id)
        with self._config_lock:
            self._commit(self.bench.with_calibration(pair_id, calibration))
            return self.pair(pair_id)

    def remove_pair(self, pair_id: str) -> None:
        self.pair(pair_id)
        with self._config_lock:
            self._commit(self.bench.without_pair(pair_id))

    def _commit(self, new: BenchConfig) -> None:
        """Save ``new`` first, then make it live.

        A failed save raises ``ConfigSaveError`` with nothing changed, live or on disk.
        """
        if self.settings.saved_config_path is not None:
            cfg.save(self.settings.saved_config_path, new.as_dict())
        old, self.bench = self.bench, new
        if _auto_records(new) != _auto_records(old) or (
            new.recording_settings() != old.recording_settings()
        ):
            self.recordings.configure(_auto_record(new.recording_settings()), _auto_records(new))
        if new.data_retention_minutes != old.data_retention_minutes:
            self.histories.set_retention(new.data_retention_minutes * 60)
            for store in self.histories.open_stores():
                store.prune_expired(time.time())
        for spec in new.meters:
            meter = self.meters.get(spec.id)
            if meter is None:
                meter = self.meters[spec.id] = self._make_meter(spec)
                if self._running:
                    meter.start()
            elif meter.spec != spec or meter.auto != self._auto_policy(spec):
                if is_demo(meter.spec.port) != is_demo(spec.port):
                    # Another history: cached renderings of the one left must not be served.
                    self.series_cache = SeriesCache(self.series_cache.budget_bytes)
                meter.reconfigure(spec, self._auto_policy(spec))
        for meter_id in [m for m in self.meters if new.meter(m) is None]:
            self.meters.pop(meter_id).stop()
            self._meter_removed(meter_id)
            self.recordings.forget_meter(meter_id, time.time())
        self._release_demo()
        self.histories.release([m.port for m in new.meters])

    # -- derived values -----------------------------------------------------------------
    def gap_s(self, meter_id: str | None = None) -> float:
        """Samples farther apart than this are a gap (meter absent), never bridged."""
        return max(3 * self.meter(meter_id).spec.polling_interval, 2.0)

    @property
    def version(self) -> str:
        return __version__


def _auto_record(settings: dict[str, Any]) -> AutoRecord:
    return AutoRecord(
        settings["auto_record"],
        settings["auto_record_threshold_a"],
        settings["auto_record_end_delay_s"],
    )


def _auto_records(config: BenchConfig) -> dict[str, AutoRecord]:
    """Every meter's auto-record settings (its own, else the defaults)."""
    return {m.id: _auto_record(config.recording_settings(m.id)) for m in config.meters}


def _reading(row: tuple[float, ...], extras: tuple[str, ...]) -> Reading:
    """A reading from a stored row ``(ts, voltage, current, power, *extras)``."""
    values = dict(zip(("voltage", "current", "power", *extras), row[1:], strict=True))
    whole = {
        k: int(values.get(k, 0))
        for k in ("group0_mah", "group0_mwh", "group1_mah", "group1_mwh", "temperature")
    }
    return Reading(
        product="",
        firmware="",
        serial=0,
        runs=0,
        voltage=values["voltage"],
        current=values["current"],
        power=values["power"],
        resistance=values.get("resistance", 0.0),
        d_plus=values.get("d_plus", 0.0),
        d_minus=values.get("d_minus", 0.0),
        group0_mah=whole["group0_mah"],
        group0_mwh=whole["group0_mwh"],
        group1_mah=whole["group1_mah"],
        group1_mwh=whole["group1_mwh"],
        temperature=whole["temperature"],
    )
