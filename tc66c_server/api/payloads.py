"""JSON payloads built from samples and state: the one place that shapes API objects."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .. import quantities as q
from ..reading import Sample
from ..timefmt import iso

if TYPE_CHECKING:
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


def connection_payload(runtime: Runtime, state: LinkState) -> dict[str, Any]:
    """The ``connection`` stream event: link state as the dashboard shows it."""
    return {
        "connected": state.connected,
        "port": runtime.config.port,
        "device_path": state.port,
        "demo": runtime.demo,
        "since": iso(state.since),
        "last_error": error_payload(state),
        "device": device_payload(state),
    }
