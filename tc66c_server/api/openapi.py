"""The OpenAPI document lists the statuses the API really returns, in the one error shape.

FastAPI documents a 422 for every route with parameters; this API answers 400 instead (see
``errors.py``), so 422 is replaced by 400. The guard (``guard.py``) applies to every route by
method, so its statuses are added the same way: 421 to every read, 403 and 413 to every write.
Statuses particular to a route are declared on it with :func:`error_responses`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from .guard import WRITE_METHODS

REF_TEMPLATE = "#/components/schemas/{model}"
ERROR_REF = {"$ref": REF_TEMPLATE.format(model="ErrorBody")}


class ErrorDetail(BaseModel):
    """The fields of an error answer."""

    status: int
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """Every error, on every endpoint: ``{"error": {status, code, message, details}}``."""

    error: ErrorDetail


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status described, with the error shape as body."""
    return {
        status: {"model": ErrorBody, "description": text} for status, text in descriptions.items()
    }


_GUARD_READ = {421: "the Host header names a site this server does not answer to"}
_GUARD_WRITE = {
    403: "refused by the write guard: another site's Origin/Referer, a foreign Host, a "
    "missing or wrong token, or a body that is not JSON",
    413: "the request body is over 64 KiB",
}
_BAD_REQUEST = "invalid parameter (the error's details name it)"
_BAD_BODY = "invalid body (not JSON, or fields the error's details name)"
#: Parameters naming something that may not exist: a request naming an unknown one is a 404.
_NAMED = {"meter": "no such meter (unknown_meter)", "pair": "no such pair (unknown_pair)"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _document_errors(spec: dict[str, Any]) -> None:
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", _error(_BAD_REQUEST))
            write = method.upper() in WRITE_METHODS
            if write and "requestBody" in operation:
                responses.setdefault("400", _error(_BAD_BODY))
            names = {p.get("name") for p in operation.get("parameters", [])}
            for name in sorted(names & _NAMED.keys()):
                responses.setdefault("404", _error(_NAMED[name]))
            guard = _GUARD_WRITE if write else _GUARD_READ
            for status, text in guard.items():
                responses.setdefault(str(status), _error(text))
            operation["responses"] = dict(sorted(responses.items()))
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) document the real statuses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            error_schema = ErrorBody.model_json_schema(ref_template=REF_TEMPLATE)
            schemas.update(error_schema.pop("$defs", {}))
            schemas.setdefault("ErrorBody", error_schema)
            _document_errors(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
