"""Recordings and annotations: ``/api/recordings...`` and ``/api/annotations``.

Every write here passes the one request guard (``guard.py``) like any other route; the
bodies are checked field by field and refused in the one error shape.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from .. import protocol
from ..bench_config import BenchConfig, PairSpec
from ..errors import MeterError
from ..histories import is_demo
from ..recordings import bench as rec
from ..recordings.gtrec import GtrecError, check_interval, imported_samples
from ..recordings.live import RecordingBusy as Busy
from ..recordings.stop_rules import StopRuleError, StopRules
from ..runtime import Runtime, UnknownMeterError
from .bodies import config_errors, json_body
from .data import (
    MAX_POINTS_LIMIT,
    meter_of,
    parse_end,
    parse_fields,
    parse_period_param,
    runtime_of,
    window_response,
)
from .errors import (
    InvalidParameter,
    MeterFailed,
    MeterOffline,
    RecordingBusy,
    RecordingNotRunning,
    UnknownAnnotation,
    UnknownPair,
    UnknownRecording,
)
from .openapi import error_responses
from .recording_pairs import with_pair_figures
from .responses import JSON

router = APIRouter(prefix="/api", tags=["recordings"])
#: Ids are SQLite integers: anything larger cannot name a recording.
MAX_ID = 2**62
RecordingId = Annotated[int, Path(ge=1, le=MAX_ID, description="a recording's id")]
AnnotationId = Annotated[int, Path(ge=1, le=MAX_ID, description="an annotation's id")]

_RULES = {
    "type": "object",
    "properties": {
        "voltage_below_v": {"type": "number", "example": 3.2},
        "current_below_a": {"type": "number", "example": 0.05},
        "current_below_for_s": {"type": "number", "example": 30},
        "duration_s": {"type": "number", "example": 7200},
        "energy_wh": {"type": "number", "example": 10},
    },
    "additionalProperties": False,
}
_NEW = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "example": "charger A, phone 20-80 %"},
        "meter": {"type": "string", "example": "m1"},
        "pair": {
            "type": "string",
            "example": "in-out",
            "description": "record both meters of this pair (instead of meter)",
        },
        "note": {"type": "string"},
        "stop_rules": _RULES,
    },
    "required": ["name"],
    "additionalProperties": False,
}
_GTREC = {
    "type": "object",
    "properties": {
        "interval_s": {"type": "integer", "minimum": 1, "maximum": 60, "example": 10},
        "name": {"type": "string", "example": "offline capacity test"},
        "note": {"type": "string"},
        "end": {"type": "string", "description": "time of the last record; default now"},
    },
    "required": ["interval_s"],
    "additionalProperties": False,
}
#: A download of 1440 records takes well under this (the line must then go quiet).
GTREC_TIMEOUT_S = 60.0
_AUTO = {
    "type": "object",
    "properties": {
        "auto_record": {"type": "boolean", "example": True},
        "auto_record_threshold_a": {"type": "number", "minimum": 0.01, "maximum": 10},
        "auto_record_end_delay_s": {"type": "number", "minimum": 1, "maximum": 3600},
    },
    "additionalProperties": False,
}
_EDIT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "note": {"type": "string"}},
    "additionalProperties": False,
}
_NOTE = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "example": "phone at 80 %"},
        "meter": {"type": "string", "example": "m1"},
        "time": {"type": "string", "description": "ISO 8601 or Unix s; default now"},
    },
    "required": ["text"],
    "additionalProperties": False,
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": True}}


def _object(body: Any, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidParameter(
            "the body must be a JSON object", {"fields": {"body": "not an object"}}
        )
    unknown = [str(k)[:40] for k in body if k not in known]
    if unknown:
        raise InvalidParameter(
            f"unknown key(s) {', '.join(unknown[:5])} (known: {', '.join(known)})",
            {"fields": {k: "unknown key" for k in unknown[:5]}},
        )
    return body


@contextmanager
def _field(name: str) -> Iterator[None]:
    """A ValueError inside becomes a 400 naming ``name``."""
    try:
        yield
    except ValueError as exc:
        raise InvalidParameter(f"{name}: {exc}", {"fields": {name: str(exc)}}) from None


@contextmanager
def _known() -> Iterator[None]:
    try:
        yield
    except rec.UnknownRecording as exc:
        raise UnknownRecording(f"no recording {exc.args[0]} (see /api/recordings)") from None


@router.post(
    "/recordings",
    summary="Start a recording",
    status_code=201,
    openapi_extra=_body(_NEW),
    responses=error_responses(
        {
            400: "a bad field, or both meter and pair",
            404: "no such meter or pair",
            409: "the meter (a pair's input meter) is recording already",
        }
    ),
)
async def start_recording(request: Request) -> JSON:
    """Start recording a meter now (its samples are then kept beyond retention); with
    ``pair``, both meters of the pair over one span, its summary (the input meter's) with
    the pair's figures over the span (``pair_result``)."""
    body = _object(await json_body(request), ("name", "meter", "pair", "note", "stop_rules"))
    with _field("name"):
        name = rec.check_text(body.get("name"), "name", rec.MAX_NAME)
    with _field("note"):
        note = rec.check_text(body.get("note", ""), "note", rec.MAX_NOTE, empty=True)
    if "stop_rules" in body and not isinstance(body["stop_rules"], dict):
        raise InvalidParameter(
            "stop_rules must be an object", {"fields": {"stop_rules": "not an object"}}
        )
    try:
        rules = StopRules.from_json(body.get("stop_rules"))
    except StopRuleError as exc:
        raise InvalidParameter(str(exc), {"fields": {"stop_rules": str(exc)}}) from None
    meter_id = body.get("meter")
    if "meter" in body and not isinstance(meter_id, str):
        raise InvalidParameter("meter must be a meter id", {"fields": {"meter": "not a string"}})
    runtime = runtime_of(request)
    pair = _pair_of(runtime, body)
    target = meter_of(request, pair.input if pair is not None else meter_id)
    now = time.time()
    try:
        recording = runtime.recordings.start_recording(
            target.id, name, now=now, note=note, rules=rules, demo=is_demo(target.spec.port),
            pair=None if pair is None else (pair.id, pair.output),
        )  # fmt: skip
    except Busy as exc:
        raise RecordingBusy(
            f"meter {target.id!r} is recording already (recording {exc.recording_id}): stop it "
            "first",
            {"recording": exc.recording_id},
        ) from None
    return JSON(with_pair_figures(runtime, recording, now), status_code=201)


def _pair_of(runtime: Runtime, body: dict[str, Any]) -> PairSpec | None:
    """The pair a new recording names, or None; 400 with ``meter`` too, 404 if unknown."""
    if "pair" not in body:
        return None
    pair_id = body["pair"]
    if not isinstance(pair_id, str):
        raise InvalidParameter("pair must be a pair id", {"fields": {"pair": "not a string"}})
    if "meter" in body:
        raise InvalidParameter(
            "give meter or pair, not both (a pair's recording is on its input meter)",
            {"fields": {"meter": "with pair", "pair": "with meter"}},
        )
    try:
        return runtime.pair(pair_id)
    except UnknownMeterError:
        raise UnknownPair(f"no pair named {pair_id[:40]!r} (see /api/pairs)") from None


@router.post(
    "/meters/{meter}/gtrec",
    summary="File the meter's own offline recording",
    status_code=201,
    openapi_extra=_body(_GTREC),
    responses=error_responses(
        {
            400: "a bad field (interval 1-60 s, end time)",
            404: "no such meter",
            409: "the meter is not connected",
            502: "the meter did not send its recording",
        }
    ),
)
async def import_gtrec(request: Request, meter: str) -> JSON:
    """Download the meter's ``gtrec`` recording (V and I only, no times), place it in time
    from the interval set on the meter and the time of its last record, store its samples
    and file it as a finished recording marked ``imported``."""
    target = meter_of(request, meter)
    body = _object(await json_body(request), ("interval_s", "name", "note", "end"))
    with _field("interval_s"):
        interval = check_interval(body.get("interval_s"))
    end_text = body.get("end")
    if "end" in body and not isinstance(end_text, str | int | float):
        raise InvalidParameter("end must be ISO 8601 or Unix seconds", {"fields": {"end": "bad"}})
    end_ts = parse_end(None if end_text is None else str(end_text))
    with _field("name"):
        name = rec.check_text(
            body.get("name", f"meter recording of {target.id}"), "name", rec.MAX_NAME
        )
    with _field("note"):
        note = rec.check_text(body.get("note", ""), "note", rec.MAX_NOTE, empty=True)
    if not target.state.connected:
        raise MeterOffline("the meter is not connected: its recording cannot be downloaded")
    try:
        recording: protocol.Recording = await asyncio.wait_for(
            asyncio.wrap_future(target.download_recording()), GTREC_TIMEOUT_S
        )
    except (MeterError, TimeoutError) as exc:
        why = exc.describe() if isinstance(exc, MeterError) else "no answer in time"
        raise MeterFailed(f"the meter did not send its recording: {why}") from None
    try:
        placed = imported_samples(recording, interval, end_ts, now=time.time())
    except GtrecError as exc:
        raise InvalidParameter(str(exc), {"fields": {"end": str(exc)}}) from None
    if not placed.samples:
        raise InvalidParameter("the meter holds no recording", {"fields": {"interval_s": "empty"}})
    runtime = runtime_of(request)
    demo = is_demo(target.spec.port)
    store = runtime.histories.store(demo)
    await asyncio.to_thread(store.merge, placed.samples, meter=target.id)
    created = runtime.recordings.add_imported(
        target.id, name, placed.samples, gap_s=placed.gap_s, has_counters=False, note=note,
        demo=demo,
    )  # fmt: skip
    return JSON(created, status_code=201)


@router.get("/recordings", summary="Every recording, newest first, with summaries")
def list_recordings(
    request: Request, meter: str | None = Query(None, description="only this meter's")
) -> JSON:
    runtime = runtime_of(request)
    now = time.time()
    listed = runtime.recordings.listing(now, meter)
    return JSON({"recordings": [with_pair_figures(runtime, body, now) for body in listed]})


def _auto_record_view(bench: BenchConfig) -> dict[str, Any]:
    """The defaults by their keys, then ``meters``: each meter's settings."""
    meters = {m.id: bench.recording_settings(m.id) for m in bench.meters}
    return {**bench.recording_settings(), "meters": meters}


@router.get("/auto-record", summary="The auto-record settings: defaults and per meter")
def recording_settings(request: Request) -> JSON:
    """The defaults (``auto_record``, ``auto_record_threshold_a``,
    ``auto_record_end_delay_s``; from ``--auto-record``, ``TC66C_AUTO_RECORD``, the saved
    settings) of every meter that does not set its own, then ``meters``: each meter's
    settings, also shown by ``GET /api/meters/{id}/config`` and changed with ``POST`` there
    (``/api/config``: the first meter's) like the seed's keys."""
    return JSON(_auto_record_view(runtime_of(request).bench))


@router.post(
    "/auto-record",
    summary="Change the auto-record defaults (every meter without its own)",
    openapi_extra=_body(_AUTO),
    responses=error_responses(
        {400: "a bad field or a key that is not an auto-record setting", 503: "not saved"}
    ),
)
async def change_recording_settings(request: Request) -> JSON:
    """The auto-record keys, and only those, as the defaults: validated, saved, then applied
    to every meter that does not set its own; answers like ``GET``."""
    changes = await json_body(request)
    with config_errors():
        new = runtime_of(request).apply_recording_defaults(changes)
    return JSON(_auto_record_view(new))


@router.get(
    "/recordings/{recording_id}",
    summary="One recording and its summary",
    responses=error_responses({404: "no such recording"}),
)
def get_recording(request: Request, recording_id: RecordingId) -> JSON:
    runtime, now = runtime_of(request), time.time()
    with _known():
        return JSON(
            with_pair_figures(runtime, runtime.recordings.recording(recording_id, now), now)
        )


@router.post(
    "/recordings/{recording_id}/stop",
    summary="Stop a recording",
    responses=error_responses({404: "no such recording", 409: "it has ended already"}),
)
def stop_recording(request: Request, recording_id: RecordingId) -> JSON:
    runtime, now = runtime_of(request), time.time()
    with _known():
        try:
            stopped = runtime.recordings.stop_recording(recording_id, now)
            return JSON(with_pair_figures(runtime, stopped, now))
        except rec.NotRunning as exc:
            raise RecordingNotRunning(str(exc)) from None


@router.patch(
    "/recordings/{recording_id}",
    summary="Rename a recording or change its note",
    openapi_extra=_body(_EDIT),
    responses=error_responses({400: "a bad field", 404: "no such recording"}),
)
async def edit_recording(request: Request, recording_id: RecordingId) -> JSON:
    body = _object(await json_body(request), ("name", "note"))
    name = note = None
    if "name" in body:
        with _field("name"):
            name = rec.check_text(body["name"], "name", rec.MAX_NAME)
    if "note" in body:
        with _field("note"):
            note = rec.check_text(body["note"], "note", rec.MAX_NOTE, empty=True)
    runtime, now = runtime_of(request), time.time()
    with _known():
        runtime.recordings.edit(recording_id, name=name, note=note)
        return JSON(
            with_pair_figures(runtime, runtime.recordings.recording(recording_id, now), now)
        )


@router.delete(
    "/recordings/{recording_id}",
    summary="Delete a recording",
    status_code=204,
    responses=error_responses({404: "no such recording"}),
)
def delete_recording(request: Request, recording_id: RecordingId) -> Response:
    """Forget the recording; its samples age out with the retention from now on."""
    with _known():
        runtime_of(request).recordings.delete(recording_id)
    return Response(status_code=204)


@router.get(
    "/recordings/{recording_id}/data",
    summary="A recording's samples",
    responses=error_responses(
        {400: "a bad parameter or too many samples", 404: "no such recording"}
    ),
)
def recording_data(
    request: Request,
    recording_id: RecordingId,
    fields: str | None = Query(None, description="extra fields: 'all' or a comma list"),
    max_points: int | None = Query(
        None, ge=2, le=MAX_POINTS_LIMIT, description="bucket to at most N points (min/max kept)"
    ),
    format: str = Query("json", pattern="^(json|csv)$", description="json or csv"),
) -> Response:
    """The data endpoint's shape and options over the recording's span (``recording``
    replaces ``period``)."""
    runtime = runtime_of(request)
    with _known():
        row = runtime.recordings.row(recording_id)
    extras = parse_fields(fields, runtime.meters.get(row.meter))
    end_ts = row.end_ts if row.end_ts is not None else time.time()
    store = runtime.histories.store(row.demo)
    return window_response(
        runtime, store, row.meter, {"recording": row.id}, row.start_ts, end_ts, extras,
        max_points, format, f"recording-{row.id}",
    )  # fmt: skip


@router.get(
    "/annotations",
    summary="Notes on the meters' timelines",
    responses=error_responses({400: "a bad period or end", 404: "no such meter"}),
)
def list_annotations(
    request: Request,
    period: str = Query("1h", description="how far back from end, like /api/data"),
    meter: str | None = Query(None, description="only this meter's (default: all)"),
    end: str | None = Query(None, description="window end (ISO 8601 or Unix s); default now"),
) -> JSON:
    """Automatic annotations (PD level, unplugged/back, rebooted, counter reset, recording
    started/stopped) and notes written by hand, oldest first."""
    p = parse_period_param(period)
    end_ts = parse_end(end)
    meter_id = meter_of(request, meter).id if meter is not None else None
    found = runtime_of(request).recordings.db.annotations(end_ts - p.seconds, end_ts, meter_id)
    return JSON({"period": p.text, "annotations": [rec.annotation_json(i, a) for i, a in found]})


@router.post(
    "/annotations",
    summary="Write a note on a meter's timeline",
    status_code=201,
    openapi_extra=_body(_NOTE),
    responses=error_responses({400: "a bad field", 404: "no such meter"}),
)
async def add_annotation(request: Request) -> JSON:
    body = _object(await json_body(request), ("text", "meter", "time"))
    meter_id = body.get("meter")
    if "meter" in body and not isinstance(meter_id, str):
        raise InvalidParameter("meter must be a meter id", {"fields": {"meter": "not a string"}})
    target = meter_of(request, meter_id)
    when = body.get("time")
    if "time" in body and (isinstance(when, bool) or not isinstance(when, str | int | float)):
        raise InvalidParameter("time must be ISO 8601 or Unix seconds", {"fields": {"time": "bad"}})
    ts = parse_end(None if when is None else str(when))
    with _field("text"):
        text = body.get("text")
        if not isinstance(text, str):
            raise ValueError("must be a string")
        created = runtime_of(request).recordings.add_note(target.id, ts, text)
    return JSON(created, status_code=201)


@router.delete(
    "/annotations/{annotation_id}",
    summary="Delete an annotation",
    status_code=204,
    responses=error_responses({404: "no such annotation"}),
)
def delete_annotation(request: Request, annotation_id: AnnotationId) -> Response:
    if not runtime_of(request).recordings.db.delete_annotation(annotation_id):
        raise UnknownAnnotation(f"no annotation {annotation_id}")
    return Response(status_code=204)
