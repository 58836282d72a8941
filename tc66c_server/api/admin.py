"""Server endpoints: ``/api/status``, ``/api/config`` (GET/POST) and ``/api/ports``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..ports import list_serial_ports
from .bodies import config_errors, json_body
from .data import meter_of, runtime_of
from .openapi import error_responses
from .payloads import status_payload
from .responses import JSON

router = APIRouter(prefix="/api", tags=["server"])


@router.get("/status", summary="Server and meter status")
@router.get("/meters/{meter}/status", summary="Status of one meter")
def status(request: Request, meter: str | None = None) -> JSON:
    """The seed's fields, plus the link state, device identity, counters and rates."""
    return JSON(status_payload(runtime_of(request), meter_of(request, meter)))


@router.get("/config", summary="Current configuration")
@router.get("/meters/{meter}/config", summary="Configuration of one meter")
async def get_config(request: Request, meter: str | None = None) -> JSON:
    """The seed's three settings (the meter's port and interval, the server's retention),
    then the meter's auto-record settings (``auto_record``, ``auto_record_threshold_a``,
    ``auto_record_end_delay_s``: its own, else the defaults; ``/api/config``: the first
    meter's)."""
    return JSON(runtime_of(request).bench.seed_view(meter_of(request, meter).id).api_dict())


@router.post("/meters/{meter}/config", summary="Change the configuration of one meter")
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
                            "auto_record": {"type": "boolean", "example": True},
                            "auto_record_threshold_a": {
                                "type": "number",
                                "minimum": 0.01,
                                "maximum": 10,
                                "example": 0.1,
                            },
                            "auto_record_end_delay_s": {
                                "type": "number",
                                "minimum": 1,
                                "maximum": 3600,
                                "example": 60,
                            },
                        },
                        "additionalProperties": False,
                    }
                }
            },
            "required": True,
        }
    },
)
async def post_config(request: Request, meter: str | None = None) -> JSON:
    """Validate every field, save, then apply all at once without restart; or change nothing.

    The port, interval and auto-record settings are the meter's (``/api/config``: the first
    meter's; auto-record saved in its entry of ``meters``), the retention the server's.

    Who may write (origin, host, token, JSON body, size) is decided by the guard
    (``guard.py``) before this runs.
    """
    changes = await json_body(request)
    meter_id = meter_of(request, meter).id
    with config_errors():
        new = runtime_of(request).apply_config(changes, meter_id)
    return JSON(new.api_dict())


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
