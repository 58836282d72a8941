"""Meter pairs (``/api/pairs``): efficiency, loss and cable resistance of two meters.

The computation is :func:`tc66c_server.pairs.pair_result` over both meters' samples of the
window; this module only reads them from the store and shapes the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.responses import Response

from ..bench_config import PairSpec, calibration_dict
from ..pairs import CalibrationError, PairResult, Row, calibrate, pair_result
from ..runtime import Runtime, UnknownMeterError
from ..timefmt import iso, iso_many
from .bodies import config_errors, json_body
from .data import MAX_POINTS_LIMIT, parse_end, parse_period_param, runtime_of
from .errors import InvalidParameter, UnknownPair
from .pair_data import pair_rows, pair_timing
from .responses import JSON

router = APIRouter(prefix="/api", tags=["pairs"])


class PairPeriodConvertor(StringConvertor):
    """A pair's period segment: anything but the names of the pair's own sub-resources,
    so ``/api/pairs/ID/calibration`` is only the calibration (its ``Allow`` says so)."""

    regex = "(?!calibrat(?:e|ion)$)[^/]+"


register_url_convertor("pair_period", PairPeriodConvertor())

#: Pair results read every raw sample of both meters: windows are bounded to keep each
#: answer within a few hundred milliseconds (24 h at 1 Hz is 86 400 samples a meter).
MAX_PAIR_WINDOW_S = 24 * 3600

_NEW_PAIR = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "example": "charger"},
        "input": {"type": "string", "example": "in"},
        "output": {"type": "string", "example": "out"},
    },
    "required": ["input", "output"],
    "additionalProperties": False,
}
_CALIBRATE = {
    "type": "object",
    "properties": {"period": {"type": "string", "example": "1m"}},
    "additionalProperties": False,
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": True}}


def _pair(runtime: Runtime, pair_id: str) -> PairSpec:
    try:
        return runtime.pair(pair_id)
    except UnknownMeterError:
        raise UnknownPair(f"no pair named {pair_id[:40]!r} (see /api/pairs)") from None


def rows_of(runtime: Runtime, meter_id: str, start_ts: float, end_ts: float) -> list[Row]:
    """A bench meter's rows of the window, from its own store."""
    return pair_rows(runtime.store_of(runtime.meter(meter_id)), meter_id, start_ts, end_ts)


def timing_of(runtime: Runtime, pair: PairSpec) -> tuple[float, float]:
    """The pair's gap threshold and alignment width: the slower meter's."""
    meters = [runtime.meters.get(pair.input), runtime.meters.get(pair.output)]
    return pair_timing(m.spec.polling_interval for m in meters if m is not None)


def pair_payload(pair: PairSpec) -> dict[str, Any]:
    return pair.as_dict()


def result_payload(pair: PairSpec, period: str, start: float, end: float, r: PairResult) -> Any:
    stamps = iso_many([p.timestamp for p in r.data])
    return {
        "id": pair.id,
        "input": pair.input,
        "output": pair.output,
        "period": period,
        "start_time": iso(start),
        "end_time": iso(end),
        "efficiency": r.efficiency,
        "energy_in_wh": r.energy_in_wh,
        "energy_out_wh": r.energy_out_wh,
        "loss_w": r.loss_w,
        "cable_resistance_ohm": r.cable_resistance_ohm,
        "sample_count": r.sample_count,
        "calibration": {
            "applied": r.calibration.applied,
            "apparent_efficiency": r.calibration.apparent_efficiency,
            "voltage_offset_v": r.calibration.voltage_offset_v,
        },
        "bucket_seconds": r.bucket_seconds,
        "count": len(r.data),
        "data": [
            {
                "timestamp": stamp,
                "power_in": p.power_in,
                "power_out": p.power_out,
                "efficiency": p.efficiency,
                "loss_w": p.loss_w,
            }
            for stamp, p in zip(stamps, r.data, strict=True)
        ],
    }


def _window(period: str, end: str | None) -> tuple[str, float, float]:
    p = parse_period_param(period)
    if p.seconds > MAX_PAIR_WINDOW_S:
        raise InvalidParameter(
            f"pair windows are at most {MAX_PAIR_WINDOW_S // 3600} h: use a shorter period "
            "(or several windows with end=)",
            {"period": p.text},
        )
    end_ts = parse_end(end)
    return p.text, end_ts - p.seconds, end_ts


@router.get("/pairs", summary="Meter pairs")
def list_pairs(request: Request) -> JSON:
    """Every pair: id, input meter, output meter, calibration."""
    return JSON({"pairs": [pair_payload(p) for p in runtime_of(request).bench.pairs]})


@router.post("/pairs", summary="Add a pair", status_code=201, openapi_extra=_body(_NEW_PAIR))
async def add_pair(request: Request) -> JSON:
    """Pair an input meter with an output meter (id defaults to ``INPUT-OUTPUT``)."""
    body = await json_body(request)
    with config_errors():
        pair = runtime_of(request).add_pair(body)
    return JSON(pair_payload(pair), status_code=201)


@router.delete("/pairs/{pair}", summary="Remove a pair", status_code=204)
def remove_pair(request: Request, pair: str) -> Response:
    runtime = runtime_of(request)
    runtime.remove_pair(_pair(runtime, pair).id)
    return Response(status_code=204)


@router.get(
    "/pairs/{pair}/{period:pair_period}",
    summary="A pair's efficiency, loss and cable resistance",
)
def pair_window(
    request: Request,
    pair: str,
    period: str,
    max_points: int | None = Query(
        None, ge=2, le=MAX_POINTS_LIMIT, description="bucket the series to at most N points"
    ),
    end: str | None = Query(None, description="window end (ISO 8601 or Unix s); default now"),
) -> JSON:
    """Windowed ΔE_out/ΔE_in efficiency, energies, average loss, cable resistance, and a
    series of instantaneous efficiency and loss on aligned buckets (see docs/pairs.md)."""
    runtime = runtime_of(request)
    spec = _pair(runtime, pair)
    text, start_ts, end_ts = _window(period, end)
    gap_s, align_s = timing_of(runtime, spec)
    result = pair_result(
        rows_of(runtime, spec.input, start_ts, end_ts),
        rows_of(runtime, spec.output, start_ts, end_ts),
        start_ts=start_ts,
        end_ts=end_ts,
        gap_s=gap_s,
        align_s=align_s,
        max_points=max_points,
        calibration=spec.calibration,
    )
    return JSON(result_payload(spec, text, start_ts, end_ts, result))


@router.post(
    "/pairs/{pair}/calibrate",
    summary="Calibrate a pair from a back-to-back run",
    openapi_extra=_body(_CALIBRATE),
)
async def calibrate_pair(request: Request, pair: str) -> JSON:
    """With the meters back to back (nothing between them) over ``period`` (default 1m),
    store the apparent efficiency and voltage offset; later results take them out."""
    runtime = runtime_of(request)
    spec = _pair(runtime, pair)
    body = await json_body(request)
    if not isinstance(body, dict) or set(body) - {"period"}:
        raise InvalidParameter('the body must be {"period": "1m"} or {}', {"body": "unknown key"})
    _, start_ts, end_ts = _window(str(body.get("period", "1m")), None)
    gap_s, align_s = timing_of(runtime, spec)
    try:
        calibration = calibrate(
            rows_of(runtime, spec.input, start_ts, end_ts),
            rows_of(runtime, spec.output, start_ts, end_ts),
            gap_s=gap_s,
            align_s=align_s,
        )
    except CalibrationError as exc:
        raise InvalidParameter(f"cannot calibrate: {exc}", {"period": body.get("period")}) from None
    updated = runtime.set_calibration(spec.id, calibration)
    return JSON({**pair_payload(updated), "calibration": calibration_dict(calibration)})


@router.delete("/pairs/{pair}/calibration", summary="Forget a pair's calibration")
def clear_calibration(request: Request, pair: str) -> JSON:
    runtime = runtime_of(request)
    return JSON(pair_payload(runtime.set_calibration(_pair(runtime, pair).id, None)))
