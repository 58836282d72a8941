"""Printable reports: ``/recordings/{id}/report`` and ``/recordings/report?ids=1,2``.

Self-contained HTML pages (``recordings/report.py``) with their own content policy: inline
styles only, no script at all, nothing loaded from anywhere.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import HTMLResponse

from ..recordings import bench as rec
from ..recordings.report import MAX_RECORDINGS, Trace, report_html
from ..runtime import Runtime
from ..timefmt import iso
from .data import runtime_of
from .errors import InvalidParameter, UnknownRecording
from .openapi import ERROR_REF

router = APIRouter(tags=["recordings"])
RecordingId = Annotated[int, Path(ge=1, le=2**62, description="a recording's id")]
#: Points per quantity and recording in a report's charts.
REPORT_POINTS = 800


def _json_errors(descriptions: dict[int, str]) -> dict[int | str, dict[str, object]]:
    """Error statuses of an HTML route: their bodies are the JSON error shape."""
    return {
        status: {
            "description": text,
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        for status, text in descriptions.items()
    }


REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _trace(runtime: Runtime, recording_id: int, now: float) -> Trace:
    row = runtime.recordings.row(recording_id)
    end = row.end_ts if row.end_ts is not None else now
    store = runtime.histories.store(row.demo)
    series = store.buckets(row.start_ts, end, REPORT_POINTS, (), meter=row.meter)
    index = {name: k for k, name in enumerate(series.columns)}
    rows = series.rows
    return Trace(
        t_s=[max(r[0] - row.start_ts, 0.0) for r in rows],
        voltage=[r[index["voltage"]] for r in rows],
        current=[r[index["current"]] for r in rows],
        power=[r[index["power"]] for r in rows],
    )


def _page(runtime: Runtime, ids: list[int]) -> HTMLResponse:
    now = time.time()
    try:
        summaries = [runtime.recordings.recording(i, now) for i in ids]
        traces = [_trace(runtime, i, now) for i in ids]
    except rec.UnknownRecording as exc:
        raise UnknownRecording(f"no recording {exc.args[0]} (see /api/recordings)") from None
    page = report_html(summaries, traces, iso(now)[:19].replace("T", " "))
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_POLICY})


@router.get(
    "/recordings/report",
    summary="A printable comparison of up to 4 recordings",
    response_class=HTMLResponse,
    responses=_json_errors({400: "bad ids", 404: "no such recording"}),
)
def comparison_report(
    request: Request, ids: str = Query(..., description="comma-separated recording ids")
) -> HTMLResponse:
    try:
        wanted = [int(part) for part in ids.split(",") if part.strip()]
        if any(not 1 <= i <= 2**62 for i in wanted):
            raise ValueError
    except ValueError:
        raise InvalidParameter("ids must be recording ids separated by commas") from None
    if not 1 <= len(wanted) <= MAX_RECORDINGS:
        raise InvalidParameter(f"a report compares 1 to {MAX_RECORDINGS} recordings")
    return _page(runtime_of(request), wanted)


@router.get(
    "/recordings/{recording_id}/report",
    summary="A printable report of one recording",
    response_class=HTMLResponse,
    responses=_json_errors({400: "a bad id", 404: "no such recording"}),
)
def recording_report(request: Request, recording_id: RecordingId) -> HTMLResponse:
    return _page(runtime_of(request), [recording_id])
