"""JSON payloads built from samples and state: the one place that shapes API objects."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .. import quantities as q
from ..reading import Sample
from ..timefmt import iso

if TYPE_CHECKING:
    from ..meter import Meter
    from ..poller import LinkState
    from ..runtime import Runtime
    from ..store import SampleStore

DEVICE_KEYS = ("product", "firmware", "serial", "runs")


def sample_payload(sample: Sample) -> dict[str, Any]:
    """The seed's data point (timestamp, voltage, current, power) plus every other field."""
    r = sample.reading
    point: dict[str, Any] = {"timestamp": iso(sample.ts)}
    for quantity in q.ALL:
        point[quantity.key] = getattr(r, quantity.key)
    for key in DEVICE_KEYS:
        point[key] = getattr(r, key)
    if r.um is not None:  # a UM meter: its groups 2-9, settings and recording fields
        point.update(r.um.as_dict())
    return point


def latest_payload(sample: Sample, now: float | None = None) -> dict[str, Any]:
    """``/api/data/latest``: the sample plus its age in seconds."""
    point = sample_payload(sample)
    point["age_s"] = round((time.time() if now is None else now) - sample.ts, 3)
    return point


def error_payload(state: LinkState) -> dict[str, str] | None:
    """The link's last error, or None when there is none."""
    if state.error_code is None:
        return None
    return {"code": state.error_code, "message": state.error_message or ""}


def store_error_payload(store: SampleStore) -> dict[str, Any] | None:
    """Why samples are held in memory instead of written (disk full...), or None."""
    error = store.store_error
    if error is None:
        return None
    return {
        "code": error.code,
        "message": error.message,
        "since": iso(error.since),
        "backlog": error.backlog,
        "lost": error.lost,
    }


def store_payload(store: SampleStore) -> dict[str, int]:
    """The store's counters since it was opened."""
    return {
        "written": store.written,
        "backlog": store.backlog,
        "lost": store.lost,
        "write_errors": store.write_errors,
    }


def device_payload(state: LinkState) -> dict[str, Any] | None:
    """Model, firmware and serial of the meter last seen, or None before the first one."""
    if state.product is None:
        return None
    return {"product": state.product, "firmware": state.firmware, "serial": state.serial}


def usb_payload(state: LinkState) -> dict[str, str | None] | None:
    """The USB adapter's serial number and bus location of the meter's port, or None
    (not USB, or not connected yet): what tells two ``auto`` meters apart."""
    if state.usb_serial is None and state.usb_location is None:
        return None
    return {"serial": state.usb_serial, "location": state.usb_location}


def connection_payload(
    runtime: Runtime, state: LinkState, meter_id: str | None = None
) -> dict[str, Any]:
    """The ``connection`` stream event: link state as the dashboard shows it."""
    meter = runtime.meter(meter_id)
    return {
        "meter": meter.id,
        "connected": state.connected,
        "port": meter.spec.port,
        "device_path": state.port,
        "demo": meter.demo,
        "since": iso(state.since),
        "last_error": error_payload(state),
        "device": device_payload(state),
    }


def counters_payload(meter: Meter) -> dict[str, int]:
    """The meter's acquisition counters."""
    return meter.counters.as_dict()


def status_payload(runtime: Runtime, meter: Meter, now: float | None = None) -> dict[str, Any]:
    """``/api/status`` of one meter: the seed's fields, link state, identity, counters."""
    now = time.time() if now is None else now
    store = runtime.store_of(meter)
    count, oldest, newest = store.summary(meter=meter.id)
    state = meter.state
    latest = meter.latest
    return {
        "running": True,
        "data_count": count,
        "oldest_data": iso(oldest) if oldest is not None else None,
        "newest_data": iso(newest) if newest is not None else None,
        "retention_minutes": runtime.bench.data_retention_minutes,
        "polling_interval": meter.spec.polling_interval,
        "meter": meter.id,
        "connected": state.connected,
        "port": meter.spec.port,
        "device_path": state.port,
        "demo": meter.demo,
        "device": device_payload(state),
        "since": iso(state.since),
        "last_error": error_payload(state),
        "store_error": store_error_payload(store),
        "store": store_payload(store),
        "counters": counters_payload(meter),
        "sample_rate_hz": round(meter.poller.sample_rate_hz(), 3),
        "last_sample_age_s": round(now - latest.ts, 3) if latest else None,
        "uptime_s": round(now - runtime.started_at, 3),
        "version": runtime.version,
    }


def meter_payload(meter: Meter, now: float | None = None) -> dict[str, Any]:
    """One entry of ``/api/meters``: identity, port, link state, last sample, counters."""
    state = meter.state
    latest = meter.latest
    return {
        "id": meter.id,
        "name": meter.id,
        "port": meter.spec.port,
        "polling_interval": meter.spec.polling_interval,
        "device_path": state.port,
        "demo": meter.demo,
        "model": state.product,
        "firmware": state.firmware,
        "serial": state.serial,
        "usb": usb_payload(state),
        "connected": state.connected,
        "since": iso(state.since),
        "last_error": error_payload(state),
        "last_sample": latest_payload(latest, now) if latest is not None else None,
        "counters": counters_payload(meter),
        "sample_rate_hz": round(meter.poller.sample_rate_hz(), 3),
    }
