"""Reading write requests: the JSON body, and configuration errors in the one error shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi import Request

from ..config import ConfigError, ConfigSaveError
from .errors import ConfigNotSaved, InvalidConfig


async def json_body(request: Request) -> Any:
    """The request's JSON body; 400 ``invalid_config`` when it is not JSON."""
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidConfig(
            f"the body is not valid JSON: {exc}", {"fields": {"body": "invalid JSON"}}
        ) from None


@contextmanager
def config_errors() -> Iterator[None]:
    """A :class:`ConfigError` raised inside becomes a 400 naming every bad field, and a
    :class:`ConfigSaveError` a 503: in both cases nothing was changed."""
    try:
        yield
    except ConfigError as exc:
        raise InvalidConfig(f"invalid configuration: {exc}", {"fields": exc.fields}) from None
    except ConfigSaveError as exc:
        raise ConfigNotSaved(f"{exc}: nothing was changed") from None
