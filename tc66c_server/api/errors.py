"""One JSON error shape for every error path, raised from typed exceptions.

``{"error": {"status": 400, "code": "invalid_period", "message": "...", "details": {...}}}``
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

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


class UnknownMeter(ApiError):
    status = 404
    code = "unknown_meter"


class UnknownPair(ApiError):
    status = 404
    code = "unknown_pair"


class MeterOffline(ApiError):
    status = 409
    code = "meter_offline"


class WriteForbidden(ApiError):
    status = 403
    code = "forbidden"


def error_response(status: int, code: str, message: str, details: Any = None) -> JSON:
    """The one error response shape."""
    body = {"status": status, "code": code, "message": message, "details": details or {}}
    return JSON({"error": body}, status_code=status)


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
    async def _http(_: Request, exc: StarletteHTTPException) -> JSON:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        return error_response(exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSON:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error (logged)")
