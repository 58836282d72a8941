"""Bytes read from a port never come back in error texts, and every such fault is counted.

A scripted peer on a real pty answers the poller's commands with text of our choosing (what
anyone typing on a terminal, or another device, could send); ``/api/status`` must describe
the fault (length, bad magic, wrong mode) without quoting it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.emulator import EmulatorHost
from tc66c_server.emulator.plug import Plug
from tc66c_server.protocol import PACKET_LEN

from .apihelpers import BASE_URL, make_runtime

SECRET = b"hunter2-SECRET-typed-in-a-terminal "
Replies = Callable[[bytes], bytes]


class ScriptedPeer:
    """A pty whose far end answers each 5-byte command with ``replies(command)``."""

    def __init__(self, link: Path, replies: Replies) -> None:
        self._replies = replies
        self._plug = Plug(link)
        self._plug.start(self._serve)

    def _serve(self, plug: Plug) -> None:
        pending = b""
        while plug.wait_readable():
            try:
                pending += os.read(plug.master, 64)
            except BlockingIOError:
                continue
            except OSError:
                return
            while len(pending) >= 5:
                command, pending = pending[:5], pending[5:]
                reply = self._replies(command)
                if reply:
                    plug.write(reply)

    def close(self) -> None:
        self._plug.close()


def _firm_then(getva: bytes) -> Replies:
    return lambda command: b"firm" if command == b"query" else getva


@pytest.fixture
def peer(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ScriptedPeer]:
    scripted = ScriptedPeer(tmp_path / "ttyX", request.param)
    try:
        yield scripted
    finally:
        scripted.close()


def _status_once_failed(link: Path) -> dict[str, object]:
    runtime = make_runtime(str(link), interval_s=0.1)
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status: dict[str, object] = client.get("/api/status").json()
            if status["last_error"]:
                return status
            time.sleep(0.05)
    raise AssertionError("no error was ever reported")


def _assert_not_echoed(status: dict[str, object]) -> None:
    text = repr(status)
    for fragment in (SECRET.strip(), b"hunter2", b"SECRET", b"pwn!"):
        assert fragment.decode() not in text


@pytest.mark.parametrize(
    ("peer", "code", "counter"),
    [
        pytest.param(lambda c: b"pwn!", "bad_packet", "bad_packets", id="query-answer"),
        pytest.param(
            _firm_then((SECRET * 8)[:PACKET_LEN]), "bad_packet", "bad_packets", id="getva-text"
        ),
        pytest.param(_firm_then(SECRET), "timeout", "timeouts", id="getva-short-text"),
    ],
    indirect=["peer"],
)
def test_text_from_the_port_never_appears_in_last_error(
    peer: ScriptedPeer, tmp_path: Path, code: str, counter: str
) -> None:
    status = _status_once_failed(tmp_path / "ttyX")
    _assert_not_echoed(status)
    last_error = status["last_error"]
    assert isinstance(last_error, dict) and last_error["code"] == code
    counters = status["counters"]
    assert isinstance(counters, dict) and counters[counter] >= 1


def test_status_counters_include_retries_and_poller_restarts(emulator: EmulatorHost) -> None:
    runtime = make_runtime(str(emulator.link))
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        counters = client.get("/api/status").json()["counters"]
    assert counters["retries"] == 0 and counters["poller_restarts"] == 0
    assert {"polls", "samples", "bad_packets", "timeouts", "reconnects", "missed_slots"} < set(
        counters
    )
