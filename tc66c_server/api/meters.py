"""The bench's meters: list, add, remove, and screen commands (``/api/meters``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..meter import SCREEN_ACTIONS
from ..meter_models import MODELS, UM_ACTIONS
from .bodies import config_errors, json_body
from .data import meter_of, runtime_of
from .errors import InvalidParameter, MeterOffline
from .payloads import meter_payload
from .responses import JSON

router = APIRouter(prefix="/api", tags=["meters"])

_NEW_METER = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "example": "out", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"},
        "port": {"type": "string", "example": "/dev/ttyACM1"},
        "polling_interval": {"type": "number", "example": 1.0},
        "model": {"type": "string", "enum": list(MODELS), "example": "auto"},
    },
    "required": ["port"],
    "additionalProperties": False,
}
_SCREEN = {
    "type": "object",
    "properties": {"action": {"type": "string", "enum": list(SCREEN_ACTIONS)}},
    "required": ["action"],
    "additionalProperties": False,
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": True}}


@router.get("/meters", summary="Every meter of the bench")
def list_meters(request: Request) -> JSON:
    """Id, port, model, firmware, serial, link state, last sample and counters per meter."""
    return JSON({"meters": [meter_payload(m) for m in runtime_of(request)]})


@router.get("/meters/{meter}", summary="One meter")
def get_meter(request: Request, meter: str) -> JSON:
    return JSON(meter_payload(meter_of(request, meter)))


@router.post("/meters", summary="Add a meter", status_code=201, openapi_extra=_body(_NEW_METER))
async def add_meter(request: Request) -> JSON:
    """Validate, save and start a new meter; its id defaults to ``m<N>``."""
    body = await json_body(request)
    with config_errors():
        meter = runtime_of(request).add_meter(body)
    return JSON(meter_payload(meter), status_code=201)


@router.delete("/meters/{meter}", summary="Remove a meter", status_code=204)
def remove_meter(request: Request, meter: str) -> Response:
    """Stop the meter and forget it (and its pairs); its samples age out with retention."""
    meter_id = meter_of(request, meter).id
    with config_errors():
        runtime_of(request).remove_meter(meter_id)
    return Response(status_code=204)


@router.post(
    "/meters/{meter}/screen",
    summary="Change the meter's screen",
    status_code=202,
    openapi_extra=_body(_SCREEN),
)
async def screen(request: Request, meter: str) -> JSON:
    """``rotate``, ``next`` or ``previous`` page (a UM meter also: ``clear_group``,
    ``select_group_0`` to ``select_group_9``), sent between two polls of that meter."""
    target = meter_of(request, meter)
    body = await json_body(request)
    action = body.get("action") if isinstance(body, dict) else None
    if action not in SCREEN_ACTIONS or len(body) != 1:
        raise InvalidParameter(
            f'the body must be {{"action": ...}} with one of {", ".join(SCREEN_ACTIONS)}',
            {"fields": {"action": "must be one of " + ", ".join(SCREEN_ACTIONS)}},
        )
    if not target.state.connected:
        raise MeterOffline("the meter is not connected: the command was not sent")
    if action in UM_ACTIONS and not (target.state.product or "").startswith("UM"):
        raise InvalidParameter(
            f"{action} is a UM24C/UM25C/UM34C command: this meter is not a UM",
            {"fields": {"action": "must be rotate, next or previous for this meter"}},
        )
    target.command(action)
    return JSON({"meter": target.id, "action": action, "queued": True}, status_code=202)
