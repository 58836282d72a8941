"""Server endpoints: ``/api/status``, ``/api/config`` (GET/POST) and ``/api/ports``."""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Request

from ..config import ConfigError, ConfigSaveError
from ..ports import list_serial_ports
from ..timefmt import iso
from .data import runtime_of
from .errors import ConfigNotSaved, InvalidConfig
from .openapi import error_responses
from .payloads import device_payload, error_payload, store_error_payload, store_payload
from .responses import JSON

router = APIRouter(prefix="/api", tags=["server"])


@router.get("/status", summary="Server and meter status")
def status(request: Request) -> JSON:
    """The seed's fields, plus the link state, device identity, counters and rates."""
    runtime = runtime_of(request)
    store = runtime.store
    count, oldest, newest = store.summary()
    state = runtime.poller.state
    c = runtime.poller.counters
    latest = runtime.latest
    now = time.time()
    return JSON(
        {
            "running": True,
            "data_count": count,
            "oldest_data": iso(oldest) if oldest is not None else None,
            "newest_data": iso(newest) if newest is not None else None,
            "retention_minutes": runtime.config.data_retention_minutes,
            "polling_interval": runtime.config.polling_interval,
            "connected": state.connected,
            "port": runtime.config.port,
            "device_path": state.port,
            "demo": runtime.demo,
            "device": device_payload(state),
            "since": iso(state.since),
            "last_error": error_payload(state),
            "store_error": store_error_payload(store),
            "store": store_payload(store),
            "counters": {
                "polls": c.polls,
                "samples": c.samples,
                "bad_packets": c.bad_packets,
                "timeouts": c.timeouts,
                "reconnects": c.reconnects,
                "missed_slots": c.missed_slots,
                "retries": c.retries,
                "poller_restarts": c.poller_restarts,
            },
            "sample_rate_hz": round(runtime.poller.sample_rate_hz(), 3),
            "last_sample_age_s": round(now - latest.ts, 3) if latest else None,
            "uptime_s": round(now - runtime.started_at, 3),
            "version": runtime.version,
        }
    )


@router.get("/config", summary="Current configuration")
async def get_config(request: Request) -> JSON:
    """The seed's three settings."""
    return JSON(runtime_of(request).config.as_dict())


@router.post(
    "/config",
    summary="Change configuration",
    responses=error_responses(
        {
            400: "a bad field (details.fields names each) or a body that is not a JSON object",
            503: "the configuration could not be saved (read-only or full disk): nothing changed",
        }
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "port": {"type": "string", "example": "/dev/ttyACM1"},
                            "polling_interval": {"type": "number", "example": 2.0},
                            "data_retention_minutes": {"type": "integer", "example": 30},
                        },
                        "additionalProperties": False,
                    }
                }
            },
            "required": True,
        }
    },
)
async def post_config(request: Request) -> JSON:
    """Validate every field, save, then apply all at once without restart; or change nothing.

    Who may write (origin, host, token, JSON body, size) is decided by the guard
    (``guard.py``) before this runs.
    """
    raw = await request.body()
    try:
        changes: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidConfig(
            f"the body is not valid JSON: {exc}", {"fields": {"body": "invalid JSON"}}
        ) from None
    runtime = runtime_of(request)
    try:
        new = runtime.apply_config(changes)
    except ConfigError as exc:
        raise InvalidConfig(f"invalid configuration: {exc}", {"fields": exc.fields}) from None
    except ConfigSaveError as exc:
        raise ConfigNotSaved(f"{exc}: nothing was changed") from None
    return JSON(new.as_dict())


@router.get("/ports", summary="Serial ports on this machine")
def ports(request: Request) -> JSON:
    """Serial ports the machine sees, the likely meter(s) marked and listed first."""
    runtime = runtime_of(request)
    found: list[dict[str, Any]] = [
        {
            "device": p.device,
            "description": p.description,
            "manufacturer": p.manufacturer,
            "vid": p.vid,
            "pid": p.pid,
            "likely_meter": p.likely_meter,
        }
        for p in list_serial_ports()
    ]
    if runtime.demo_link is not None:
        found.append(
            {
                "device": "demo",
                "description": "built-in simulated TC66C",
                "manufacturer": "tc66c-server",
                "vid": None,
                "pid": None,
                "likely_meter": True,
            }
        )
    return JSON({"ports": found})
