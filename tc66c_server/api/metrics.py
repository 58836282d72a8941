"""``GET /metrics``: the bench in the Prometheus text format (``exporters/prometheus.py``).

Reading the bench costs microseconds: meters' last samples, link states, counters and
energy totals are in memory. Pair efficiencies need a minute of both meters' samples from
the store, so they are computed at most every :data:`PAIR_REFRESH_S` seconds, off the event
loop, and the scrapes in between reuse them.
"""

from __future__ import annotations

import asyncio
import threading
import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..exporters.prometheus import CONTENT_TYPE, MeterView, PairView, RecordingsView, render
from ..pairs import pair_result
from ..runtime import Runtime
from .data import runtime_of
from .pairs import rows_of, timing_of

router = APIRouter(tags=["metrics"])

#: Pairs' efficiency and loss are measured over this window...
PAIR_WINDOW_S = 60.0
#: ...and recomputed at most this often (a scrape interval is usually 15 s or more).
PAIR_REFRESH_S = 5.0


def meter_views(runtime: Runtime) -> list[MeterView]:
    """Every meter of the bench as the exposition sees it, read now."""
    views = []
    for meter in runtime:
        poller = meter.poller
        views.append(
            MeterView(
                id=meter.id,
                port=meter.spec.port,
                demo=meter.demo,
                polling_interval_s=meter.spec.polling_interval,
                gap_s=runtime.gap_s(meter.id),
                state=poller.state,
                latest=meter.latest,
                counters=poller.counters,
                durations=poller.durations,
                totals=runtime.energy_of(meter.id),
            )
        )
    return views


def recordings_view(runtime: Runtime) -> RecordingsView:
    """How many recordings are kept, and when each meter's running one started."""
    db = runtime.recordings.db
    running = {row.meter: row.start_ts for row in db.open_recordings()}
    return RecordingsView(db.count(), running)


def pair_views(runtime: Runtime, now: float) -> list[PairView]:
    """Every pair's efficiency and average loss over the last :data:`PAIR_WINDOW_S`."""
    views = []
    start = now - PAIR_WINDOW_S
    for pair in runtime.bench.pairs:
        gap_s, align_s = timing_of(runtime, pair)  # the same figures as /api/pairs
        result = pair_result(
            rows_of(runtime, pair.input, start, now),
            rows_of(runtime, pair.output, start, now),
            start_ts=start,
            end_ts=now,
            gap_s=gap_s,
            align_s=align_s,
            calibration=pair.calibration,
        )
        views.append(PairView(pair.id, pair.input, pair.output, result.efficiency, result.loss_w))
    return views


class PairCache:
    """The pairs' figures, recomputed when older than :data:`PAIR_REFRESH_S` or changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._at = -PAIR_REFRESH_S
        self._views: list[PairView] = []

    async def views(self, runtime: Runtime) -> list[PairView]:
        if not runtime.bench.pairs:
            return []
        key = runtime.bench.pairs
        if key != self._key or time.monotonic() - self._at >= PAIR_REFRESH_S:
            await asyncio.to_thread(self._refresh, runtime, key)
        return self._views

    def _refresh(self, runtime: Runtime, key: object) -> None:
        with self._lock:  # one computation at a time; the others find it done
            if key == self._key and time.monotonic() - self._at < PAIR_REFRESH_S:
                return
            self._views = pair_views(runtime, time.time())
            self._key, self._at = key, time.monotonic()


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Text exposition 0.0.4"}},
)
async def metrics(request: Request) -> Response:
    """Every meter's readings, energy counters, link and poll statistics, and every pair's
    efficiency, in the Prometheus text format (see README, "Prometheus")."""
    runtime = runtime_of(request)
    cache: PairCache | None = getattr(request.app.state, "pair_cache", None)
    if cache is None:
        cache = request.app.state.pair_cache = PairCache()
    pairs = await cache.views(runtime)
    body = render(
        meter_views(runtime),
        pairs,
        recordings=recordings_view(runtime),
        now=time.time(),
        version=runtime.version,
        started_at=runtime.started_at,
    )
    return Response(body, media_type=CONTENT_TYPE)
