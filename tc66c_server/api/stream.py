"""``/api/stream``: Server-Sent Events, one per sample and one per connection change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import StreamingResponse

from ..hub import CLOSED
from .data import runtime_of
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
) -> StreamingResponse:
    """``event: sample`` per new sample, ``event: connection`` per link change, heartbeats."""
    runtime = runtime_of(request)
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
            state = runtime.poller.state
            yield _frame("connection", orjson.dumps(connection_payload(runtime, state)))
            if runtime.latest is not None:
                yield _frame("sample", orjson.dumps(latest_payload(runtime.latest)))
                sent += 1
            while limit is None or sent < limit:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if event is CLOSED:
                    return  # the server is shutting down
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
