"""``/api/stream``: Server-Sent Events, one per sample and one per connection change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import StreamingResponse

from ..hub import CLOSED
from .data import meter_of, runtime_of
from .errors import TooManyStreams
from .openapi import error_responses
from .payloads import connection_payload, latest_payload

router = APIRouter(prefix="/api", tags=["stream"])
HEARTBEAT_S = 15.0
#: Open event streams beyond this are refused with 503 (each holds a socket and a queue).
MAX_STREAM_CLIENTS = 100


def _frame(name: str, data: bytes) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


@router.get(
    "/stream",
    summary="Live events (Server-Sent Events)",
    responses=error_responses(
        {
            400: "a bad limit",
            503: f"{MAX_STREAM_CLIENTS} streams are already open (too_many_streams): retry later",
        }
    ),
)
async def stream(
    request: Request,
    limit: int | None = Query(None, ge=1, description="close after this many sample events"),
    meter: str | None = Query(None, description="only this meter's events (default: all)"),
) -> StreamingResponse:
    """``event: sample`` per new sample, ``event: connection`` per link change, heartbeats.

    Every event carries its ``meter`` id; ``?meter=ID`` keeps one meter's events.
    """
    runtime = runtime_of(request)
    meters = [meter_of(request, meter)] if meter is not None else list(runtime)
    hub = runtime.hub
    if hub.subscriber_count >= MAX_STREAM_CLIENTS:
        raise TooManyStreams(
            f"{MAX_STREAM_CLIENTS} live streams are already open: close one (another tab?) "
            "or poll /api/data/latest instead",
            {"limit": MAX_STREAM_CLIENTS},
        )
    queue = hub.open_queue()

    async def events() -> AsyncIterator[bytes]:
        sent = 0
        try:
            yield b"retry: 2000\n\n"
            for m in meters:
                payload = connection_payload(runtime, m.state, m.id)
                yield _frame("connection", orjson.dumps(payload))
            for m in meters:
                if m.latest is not None:
                    point = latest_payload(m.latest)
                    point["meter"] = m.id
                    yield _frame("sample", orjson.dumps(point))
                    sent += 1
            while limit is None or sent < limit:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if event is CLOSED:
                    return  # the server is shutting down
                if meter is not None and event.meter not in (None, meter):
                    continue
                yield _frame(event.name, event.data)
                if event.name == "sample":
                    sent += 1
        finally:
            hub.close_queue(queue)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
