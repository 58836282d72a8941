"""One JSON error shape for every error path, raised from typed exceptions.

``{"error": {"status": 400, "code": "invalid_period", "message": "...", "details": {...}}}``
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from .headers import add_security_headers
from .responses import JSON

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the client can act on; subclasses fix the status and code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidPeriod(ApiError):
    code = "invalid_period"


class InvalidParameter(ApiError):
    code = "invalid_parameter"


class InvalidConfig(ApiError):
    code = "invalid_config"


class NoData(ApiError):
    status = 503
    code = "no_data"


class TooManyPoints(ApiError):
    code = "too_many_points"


class UnknownMeter(ApiError):
    status = 404
    code = "unknown_meter"


class UnknownPair(ApiError):
    status = 404
    code = "unknown_pair"


class UnknownRecording(ApiError):
    status = 404
    code = "unknown_recording"


class UnknownAnnotation(ApiError):
    status = 404
    code = "unknown_annotation"


class RecordingBusy(ApiError):
    status = 409
    code = "recording_busy"


class RecordingNotRunning(ApiError):
    status = 409
    code = "recording_not_running"


class MeterFailed(ApiError):
    status = 502
    code = "meter_error"


class MeterOffline(ApiError):
    status = 409
    code = "meter_offline"


class TooManyStreams(ApiError):
    status = 503
    code = "too_many_streams"


class ConfigNotSaved(ApiError):
    status = 503
    code = "config_not_saved"


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSON:
    """The one error response shape."""
    body = {"status": status, "code": code, "message": message, "details": details or {}}
    return JSON({"error": body}, status_code=status, headers=headers)


def allowed_methods(request: Request) -> str:
    """The ``Allow`` value for the request's path: each method some route answers there.

    Every method is tried against the routes, whatever their kind (plain, included, mounted);
    mounted static files answer GET and HEAD only.
    """
    scope = request.scope
    # A mount has moved its prefix into root_path; probe from the application's root.
    root = scope.get("app_root_path", scope.get("root_path", ""))
    allowed = []
    for method in _METHODS:
        probe = {"type": "http", "method": method, "path": scope["path"], "root_path": root}
        for route in request.app.router.routes:
            if isinstance(route, Mount) and method not in ("GET", "HEAD"):
                continue
            if route.matches(probe)[0] is Match.FULL:
                allowed.append(method)
                break
    return ", ".join(allowed)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_HTTP_CODES = {
    404: ("not_found", "no such endpoint"),
    405: ("method_not_allowed", "method not allowed on this endpoint"),
}


def install(app: FastAPI) -> None:
    """Route every exception to the one shape; unexpected ones become a 500 without trace."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSON:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSON:
        fields = {
            ".".join(str(p) for p in err.get("loc", ())[1:]) or "request": err.get("msg", "")
            for err in exc.errors()
        }
        return error_response(400, "invalid_parameter", "invalid request", {"fields": fields})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSON:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSON:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        # Served outside the middleware stack: the security headers are added here.
        response = error_response(500, "internal_error", "internal server error (logged)")
        add_security_headers(response.headers)
        return response
