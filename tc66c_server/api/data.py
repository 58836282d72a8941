"""Seed endpoints over samples: ``/api/data/latest``, ``/api/data/{period}``, ``/api/stats``."""

from __future__ import annotations

import csv
import io
import math
import time
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from .. import quantities as q
from ..meter import Meter
from ..periods import Period, PeriodError, parse_period
from ..reading import UM_KEYS
from ..runtime import Runtime, UnknownMeterError
from ..store import SampleStore
from ..timefmt import iso, iso_many, parse_iso
from ..um_protocol import MODELS as UM_MODELS
from .errors import InvalidParameter, InvalidPeriod, NoData, TooManyPoints, UnknownMeter
from .openapi import error_responses
from .payloads import latest_payload
from .responses import JSON

router = APIRouter(prefix="/api", tags=["data"])
MAX_POINTS_LIMIT = 100_000
#: A raw answer (no ``max_points``; JSON or CSV) holds at most this many samples...
MAX_RAW_SAMPLES = 200_000
#: ...and at most this many values (samples x quantities): 24 h at 1 Hz with ``fields=all``.
MAX_RAW_VALUES = 1_200_000
#: Errors echo at most this many characters of a bad parameter.
MAX_SHOWN = 40
#: ``end=`` is accepted from this time (2000-01-01T00:00:00Z)...
MIN_END_TS = 946_684_800.0
#: ...to this long after now (a client clock a little ahead is fine).
MAX_END_AHEAD_S = 86_400.0


def runtime_of(request: Request) -> Runtime:
    """The runtime the app was created with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def meter_of(request: Request, meter_id: str | None) -> Meter:
    """The meter a route names (the first one for the seed's routes); 404 if unknown."""
    try:
        return runtime_of(request).meter(meter_id)
    except UnknownMeterError:
        raise UnknownMeter(f"no meter named {meter_id!r} (see /api/meters)") from None


#: The seed's routes take ``?meter=ID`` (default: the first meter); the per-meter routes under
#: ``/api/meters/{meter}`` are the same handlers, so each concept has one implementation.


def parse_period_param(text: str) -> Period:
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise InvalidPeriod(str(exc), {"period": text}) from None


def parse_fields(text: str | None, meter: Meter | None = None) -> tuple[str, ...]:
    """The extra fields requested with ``fields=`` (``all`` or a comma list): quantities, or
    the UM fields (None at a sample without them, such as a TC66C's). ``all`` has the UM
    fields for a meter set to a UM model or whose last reading has them."""
    if not text:
        return ()
    if text == "all":
        latest = meter.latest if meter is not None else None
        model = meter.spec.model if meter is not None else None
        um = model in UM_MODELS or (latest is not None and latest.reading.um is not None)
        return (*(x.key for x in q.EXTRA), *(UM_KEYS if um else ()))
    wanted = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in q.BY_KEY and f not in UM_KEYS]
    if unknown:
        known = ", ".join((*(x.key for x in q.ALL), *UM_KEYS))
        raise InvalidParameter(
            f"unknown field(s) {_shown(', '.join(unknown))}: use 'all' or some of {known}",
            {"fields": _shown(text)},
        )
    return tuple(f for f in dict.fromkeys(wanted) if f not in ("voltage", "current", "power"))


def _shown(text: str) -> str:
    """A client's text as echoed in an error: at most ``MAX_SHOWN`` characters."""
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def parse_end(text: str | None, now: float | None = None) -> float:
    """The window's end: now, or ``end=`` (Unix seconds or ISO 8601) between 2000 and now + 1 d."""
    now = time.time() if now is None else now
    if text is None:
        return now
    shown = _shown(text)
    try:
        end = float(text)
    except ValueError:
        try:
            end = parse_iso(text)
        except (ValueError, OverflowError):
            raise InvalidParameter(
                f"invalid end {shown!r}: use an ISO 8601 time or Unix seconds", {"end": shown}
            ) from None
    if not (math.isfinite(end) and MIN_END_TS <= end <= now + MAX_END_AHEAD_S):
        raise InvalidParameter(
            f"end {shown!r} is out of range: it must fall between 2000-01-01 and one day from now",
            {"end": shown},
        )
    return end


def _check_raw_size(
    store: SampleStore, meter_id: str, start_ts: float, end_ts: float, quantities: int
) -> None:
    """Refuse a raw window over ``MAX_RAW_SAMPLES`` samples or ``MAX_RAW_VALUES`` values."""
    limit = min(MAX_RAW_SAMPLES, MAX_RAW_VALUES // quantities)
    count = store.count(start_ts, end_ts, meter=meter_id)
    if count > limit:
        raise TooManyPoints(
            f"this window holds {count} samples, over the {limit} a raw answer may hold with "
            f"{quantities} quantities: use max_points=N, fewer fields or a shorter window",
            {"samples": count, "limit": limit},
        )


@router.get(
    "/data/latest",
    summary="The last sample",
    responses=error_responses({503: "no sample yet: the meter has not answered"}),
)
@router.get(
    "/meters/{meter}/data/latest",
    summary="The last sample of one meter",
    responses=error_responses({404: "no such meter", 503: "no sample yet"}),
)
async def latest(request: Request, meter: str | None = None) -> JSON:
    """The most recent sample: the seed's shape plus every other field and its age."""
    sample = meter_of(request, meter).latest
    if sample is None:
        raise NoData("no sample yet: the meter has not answered (see /api/status)")
    return JSON(latest_payload(sample))


def _csv(keys: tuple[str, ...], stamps: list[str], rows: list[tuple[Any, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("timestamp", *keys))
    for stamp, row in zip(stamps, rows, strict=True):
        writer.writerow((stamp, *row[1:]))
    return out.getvalue()


@router.get(
    "/data/{period}",
    summary="Samples over a period",
    responses=error_responses(
        {
            400: "a bad period or parameter, or too many samples for a raw answer "
            "(too_many_points: use max_points or a shorter window)"
        }
    ),
)
@router.get(
    "/meters/{meter}/data/{period}",
    summary="Samples of one meter over a period",
    responses=error_responses({400: "a bad period or parameter", 404: "no such meter"}),
)
def data(
    request: Request,
    period: str,
    meter: str | None = None,
    fields: str | None = Query(
        None, description="extra fields: 'all' or a comma list (quantities, UM fields)"
    ),
    max_points: int | None = Query(
        None, ge=2, le=MAX_POINTS_LIMIT, description="bucket to at most N points (min/max kept)"
    ),
    format: str = Query("json", pattern="^(json|csv)$", description="json or csv"),
    end: str | None = Query(None, description="window end (ISO 8601 or Unix s); default now"),
) -> Response:
    """Samples of the last ``period`` (``30s``, ``5m``, ``1h``, ``2d``, ``1h30m``).

    Without ``max_points`` (and always in CSV) every sample is sent, up to 200 000 samples
    and 1 200 000 values (samples x quantities); beyond that the answer is a 400
    ``too_many_points``. ``end`` must fall between 2000-01-01 and one day from now.
    """
    runtime = runtime_of(request)
    target = meter_of(request, meter)
    p = parse_period_param(period)
    end_ts = parse_end(end)
    head: dict[str, Any] = {"period": p.text}
    return window_response(
        runtime, runtime.store_of(target), target.id, head, end_ts - p.seconds, end_ts,
        parse_fields(fields, target), max_points, format, p.text,
    )  # fmt: skip


def window_response(
    runtime: Runtime,
    store: SampleStore,
    meter_id: str,
    head: dict[str, Any],
    start_ts: float,
    end_ts: float,
    extras: tuple[str, ...],
    max_points: int | None,
    format: str,
    label: str,
) -> Response:
    """The data endpoint's answer for one meter's window: ``head`` first (``period``, or a
    recording's id), then the count, the window and the points (or CSV named by ``label``)."""
    keys = ("voltage", "current", "power", *extras)
    body: dict[str, Any] = {
        **head,
        "count": 0,
        "start_time": iso(start_ts),
        "end_time": iso(end_ts),
    }
    if max_points is not None and format == "json":
        series = store.buckets(start_ts, end_ts, max_points, extras, meter=meter_id)
        stamps = iso_many([b[0] for b in series.rows])
        # Bucket columns are (ts, count, <key>, <key>_min, <key>_max, ...): ts becomes the
        # ISO timestamp and count the number of samples merged into the bucket.
        names = ["samples" if c == "count" else c for c in series.columns]
        points: list[dict[str, Any]] = [
            {"timestamp": stamp, **dict(zip(names[1:], row[1:], strict=True))}
            for row, stamp in zip(series.rows, stamps, strict=True)
        ]
        body["bucket_seconds"] = series.width_s
        body["count"] = len(points)
        body["data"] = points
        return JSON(body)
    _check_raw_size(store, meter_id, start_ts, end_ts, len(keys))
    if format == "csv":
        rows = store.range(start_ts, end_ts, extras, meter=meter_id)
        stamps = iso_many([row[0] for row in rows])
        return Response(
            _csv(keys, stamps, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="tc66c-{label}.csv"'},
        )
    count, fragments = runtime.series_cache.render(store, start_ts, end_ts, extras, meter_id)
    body["count"] = count
    encoded = orjson.dumps(body)  # keys in the seed's order: period, count, start/end_time
    pieces = [encoded[:-1], b',"data":[']
    for index, fragment in enumerate(fragments):
        if index:
            pieces.append(b",")
        pieces.append(fragment)
    pieces.append(b"]}")
    return Response(b"".join(pieces), media_type="application/json")  # one copy of the body


@router.get(
    "/stats/{period}",
    summary="Statistics over a period",
    responses=error_responses({400: "a bad period"}),
)
@router.get(
    "/meters/{meter}/stats/{period}",
    summary="Statistics of one meter over a period",
    responses=error_responses({400: "a bad period", 404: "no such meter"}),
)
def stats(request: Request, period: str, meter: str | None = None) -> JSON:
    """Min/max/avg per quantity, plus energy (Wh) and charge (mAh) integrated on the host."""
    runtime = runtime_of(request)
    target = meter_of(request, meter)
    p = parse_period_param(period)
    now = time.time()
    s = runtime.store_of(target).stats(
        now - p.seconds, now, runtime.gap_s(target.id), meter=target.id
    )
    body: dict[str, Any] = {"period": p.text, "sample_count": s.sample_count}
    for key in ("voltage", "current", "power"):
        body[key] = getattr(s, key)
    body["energy_wh"] = s.energy_wh
    body["charge_mah"] = s.charge_mah
    body["duration_s"] = s.duration_s
    return JSON(body)
