"""Talking to a running server: status, stored samples, the error shape, what must not change."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx2 as httpx

from .served import Stored, values_of

TIMEOUT_S = 10.0


def client(url: str, timeout_s: float = TIMEOUT_S) -> httpx.Client:
    """A client for ``url`` (close it, or use it as a context manager)."""
    return httpx.Client(base_url=url, timeout=timeout_s)


def status(http: httpx.Client) -> dict[str, Any]:
    """``GET /api/status`` decoded."""
    response = http.get("/api/status")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def wait_for(
    probe: Callable[[], Any], timeout_s: float, interval_s: float = 0.1
) -> tuple[Any, float]:
    """Call ``probe`` until it returns something truthy; (that value, seconds waited).

    Returns the last (falsy) value when ``timeout_s`` passes first; transport errors count
    as falsy.
    """
    start = time.monotonic()
    value: Any = None
    while True:
        try:
            value = probe()
        except httpx.TransportError:
            value = None
        elapsed = time.monotonic() - start
        if value or elapsed >= timeout_s:
            return value, elapsed
        time.sleep(interval_s)


def wait_for_samples(http: httpx.Client, count: int, timeout_s: float = 15.0) -> bool:
    """True once the store holds at least ``count`` samples."""
    found, _ = wait_for(lambda: status(http)["data_count"] >= count, timeout_s)
    return bool(found)


def timestamp(text: str) -> float:
    """Unix time of an API timestamp (ISO 8601 with offset)."""
    return datetime.fromisoformat(text).timestamp()


def stored_samples(http: httpx.Client, since: float, until: float | None = None) -> list[Stored]:
    """Every sample stored in ``[since, until]`` (until: now), every quantity included."""
    end = time.time() if until is None else until
    seconds = max(1, math.ceil(end - since) + 1)
    response = http.get(f"/api/data/{seconds}s", params={"fields": "all", "end": f"{end:.6f}"})
    response.raise_for_status()
    points = response.json()["data"]
    return [
        Stored(ts, values_of(point))
        for point in points
        if since <= (ts := timestamp(point["timestamp"])) <= end
    ]


def error_problem(response: httpx.Response, statuses: tuple[int, ...], code: str = "") -> str:
    """Why ``response`` is not the project's error shape with one of ``statuses``; "" if it is."""
    if response.status_code not in statuses:
        return f"status {response.status_code} (expected {'/'.join(map(str, statuses))})"
    if not response.headers.get("content-type", "").startswith("application/json"):
        return f"content-type {response.headers.get('content-type')!r}, not the JSON error shape"
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"not the error shape: {response.text[:200]!r}"
    if not isinstance(error, dict) or set(error) != {"status", "code", "message", "details"}:
        return f"not the error shape: {response.text[:200]!r}"
    if error["status"] != response.status_code:
        return f"error.status {error['status']} differs from the HTTP status"
    if code and error["code"] != code:
        return f"error code {error['code']!r} (expected {code!r})"
    if "Traceback" in response.text:
        return "a traceback in the answer"
    return ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a refused request must leave as it was: the config and the history."""

    config: dict[str, Any]
    data_count: int
    oldest_data: str | None

    def changes_since(self, before: Snapshot) -> str:
        """What changed from ``before`` that must not ("" if nothing did).

        New samples may arrive meanwhile: the count may grow, never shrink.
        """
        changes = [
            f"{key} {before.config.get(key)!r} -> {self.config.get(key)!r}"
            for key in sorted(set(before.config) | set(self.config))
            if before.config.get(key) != self.config.get(key)
        ]
        if self.data_count < before.data_count:
            changes.append(f"data_count {before.data_count} -> {self.data_count}")
        if self.oldest_data != before.oldest_data:
            changes.append(f"oldest_data {before.oldest_data} -> {self.oldest_data}")
        return "; ".join(changes)


def snapshot(http: httpx.Client) -> Snapshot:
    """The config and the history's extent, as the API reports them now."""
    config = http.get("/api/config").json()
    state = status(http)
    return Snapshot(config, state["data_count"], state["oldest_data"])
