"""UM meters through the real server process and the emulator: alone, and next to a TC66C."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tc66c_server.emulator import EmulatorHost
from tc66c_server.reading import UM_KEYS

from .apihelpers import assert_error
from .serverproc import Server, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def um25c(tmp_path: Path) -> Iterator[EmulatorHost]:
    host = EmulatorHost(tmp_path / "rfcomm0", reply_delay_s=0.02, seed=4, model="um25c")
    host.start()
    try:
        yield host
    finally:
        host.stop()


def wait_for(url: str, check: Any, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = httpx.get(url, timeout=2)
        if response.status_code == 200 and check(response.json()):
            return response.json()
        time.sleep(0.1)
    raise AssertionError(f"never true at {url}: last {response.status_code} {response.text}")


def stopped_cleanly(server: Server) -> None:
    output = server.stop()
    assert "Traceback" not in output
    assert server.process.returncode == 0, output


def test_a_um25c_alone_serves_its_fields_history_and_commands(
    um25c: EmulatorHost, tmp_path: Path
) -> None:
    server = start_server(
        "--device", str(um25c.link), "--model", "um25c", "--interval", "0.3",
        "--data-dir", str(tmp_path / "d"),
    )  # fmt: skip
    try:
        url = server.url
        wait_for(f"{url}/api/status", lambda s: s["connected"])
        latest = wait_for(f"{url}/api/meters/m1/data/latest", lambda p: True)
        assert latest["product"] == "UM25C"
        assert set(UM_KEYS) <= set(latest)
        assert latest["voltage"] == round(latest["voltage"], 3)  # the UM25C's 1 mV steps
        assert httpx.get(f"{url}/api/data/latest").json()["product"] == "UM25C"
        meters = httpx.get(f"{url}/api/meters").json()["meters"]
        assert meters[0]["model"] == "UM25C"
        history = wait_for(f"{url}/api/meters/m1/data/1m?fields=group0_mwh", lambda d: d["count"])
        assert "group0_mwh" in history["data"][0]
        kept = httpx.get(f"{url}/api/meters/m1/data/1m?fields=group9_mah").json()
        assert all(isinstance(p["group9_mah"], int) for p in kept["data"])
        refused = httpx.get(f"{url}/api/meters/m1/data/1m?fields=group10_mah")
        details = assert_error(refused, 400, "invalid_parameter")
        assert details["fields"] == "group10_mah"
        answer = httpx.post(f"{url}/api/meters/m1/screen", json={"action": "select_group_9"})
        assert answer.status_code == 202, answer.text
        wait_for(f"{url}/api/meters/m1/data/latest", lambda p: p["selected_group"] == 9)
        answer = httpx.post(f"{url}/api/meters/m1/screen", json={"action": "next"})
        assert answer.status_code == 202
        wait_for(f"{url}/api/meters/m1/data/latest", lambda p: p["screen_index"] == 1)
    finally:
        stopped_cleanly(server)


def test_a_um25c_next_to_a_tc66c_each_detected_in_one_server(
    um25c: EmulatorHost, emulator: EmulatorHost, tmp_path: Path
) -> None:
    server = start_server(
        "--device", f"um={um25c.link}", "--device", f"tc={emulator.link}",
        "--interval", "0.3", "--data-dir", str(tmp_path / "d"),
    )  # fmt: skip
    try:
        url = server.url
        for meter in ("um", "tc"):
            wait_for(f"{url}/api/meters/{meter}", lambda m: m["connected"])
        um = wait_for(f"{url}/api/meters/um/data/latest", lambda p: True)
        tc = wait_for(f"{url}/api/meters/tc/data/latest", lambda p: True)
        assert um["product"] == "UM25C" and um["charging_mode"] in ("unknown", "QC2.0")
        assert tc["product"] == "TC66" and not set(UM_KEYS) & set(tc)
        refused = httpx.post(f"{url}/api/meters/tc/screen", json={"action": "clear_group"})
        assert_error(refused, 400, "invalid_parameter")
        answer = httpx.post(f"{url}/api/meters/um/screen", json={"action": "select_group_3"})
        assert answer.status_code == 202
        wait_for(f"{url}/api/meters/um/data/latest", lambda p: p["selected_group"] == 3)
        for meter in ("um", "tc"):
            data = wait_for(f"{url}/api/meters/{meter}/data/1m", lambda d: d["count"] >= 2)
            assert {"timestamp", "voltage", "current", "power"} == set(data["data"][0])
    finally:
        stopped_cleanly(server)
