"""Helpers shared by the API tests: one assertion for the error shape, runtime builders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx

from tc66c_server.config import MeterConfig
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore

#: What the in-process tests call the server: a loopback name with the default port, which
#: the guard answers to (TestClient's own "testserver" is a foreign host).
BASE_URL = "http://127.0.0.1:5000"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is the documented error shape with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.text
    details: dict[str, Any] = error["details"]
    return details


def make_runtime(
    port: str,
    *,
    interval_s: float = 0.1,
    retention_min: int = 10,
    db: Path | None = None,
    settings: ServerSettings | None = None,
) -> Runtime:
    """A runtime polling ``port`` with a store in RAM (or in ``db``)."""
    return Runtime(
        settings or ServerSettings(),
        MeterConfig(port, interval_s, retention_min),
        SampleStore(db),
    )
