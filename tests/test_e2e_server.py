"""End to end: the real ``python api_server.py PORT`` process against the emulator.

Replays the seed README's curl examples over real HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tc66c_server.emulator import EmulatorHost

from .serverproc import Server, start_server

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


@pytest.fixture
def server(emulator: EmulatorHost, tmp_path: Path) -> Iterator[Server]:
    srv = start_server(
        "--device", str(emulator.link), "--interval", "0.2", "--data-dir", str(tmp_path / "d")
    )
    try:
        yield srv
    finally:
        srv.stop()


def wait_until(url: str, condition: str, timeout_s: float = 10.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, object] = httpx.get(url, timeout=2).json()
        if body.get(condition):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{condition} never became true at {url}")


def test_seed_curl_examples_work_against_the_real_process(server: Server) -> None:
    wait_until(f"{server.url}/api/status", "connected")
    time.sleep(1.0)
    data = httpx.get(f"{server.url}/api/data/5m").json()
    assert data["period"] == "5m" and data["count"] >= 3
    assert {"timestamp", "voltage", "current", "power"} == set(data["data"][0])
    latest = httpx.get(f"{server.url}/api/data/latest").json()
    assert 4.0 < latest["voltage"] < 21.0
    stats = httpx.get(f"{server.url}/api/stats/1h").json()
    assert stats["sample_count"] >= 3 and stats["voltage"]["min"] > 0
    status = httpx.get(f"{server.url}/api/status").json()
    assert status["running"] is True and status["polling_interval"] == 0.2
    config = httpx.get(f"{server.url}/api/config").json()
    assert config["polling_interval"] == 0.2 and config["data_retention_minutes"] == 10
    # The seed's POST example: its port does not exist here, so the server says so and lives on.
    seed_post = {"port": "/dev/ttyACM1", "data_retention_minutes": 30, "polling_interval": 2.0}
    response = httpx.post(f"{server.url}/api/config", json=seed_post)
    assert response.status_code == 200
    answer = response.json()
    # The seed's keys first, as sent; then the auto-record settings (issue 10).
    assert list(answer)[:3] == ["port", "polling_interval", "data_retention_minutes"]
    assert {k: answer[k] for k in seed_post} == seed_post
    assert list(answer)[3:] == ["auto_record", "auto_record_threshold_a", "auto_record_end_delay_s"]
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.url}/api/status").json()["connected"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    status = httpx.get(f"{server.url}/api/status").json()
    assert status["last_error"]["message"].startswith("failed to open:/dev/ttyACM1")
    output = server.stop()
    assert "failed to open:/dev/ttyACM1" in output
    assert "Traceback" not in output
    assert server.process.returncode == 0


def test_banner_is_the_seeds_in_french(tmp_path: Path) -> None:
    srv = start_server("--data-dir", str(tmp_path), lang="fr_FR.UTF-8")
    output = srv.stop()
    lines = output.splitlines()
    port = srv.url.rsplit(":", 1)[1]
    assert lines[:4] == [
        f"Démarrage du serveur API sur le port {port}...",
        "Port TC66C: /dev/ttyACM0",
        "Intervalle de polling: 1.0s",
        "Rétention des données: 10min",
    ]


def test_without_a_meter_the_server_serves_and_logs_the_seed_error(tmp_path: Path) -> None:
    srv = start_server("--data-dir", str(tmp_path))
    try:
        status = wait_until(f"{srv.url}/api/status", "last_error")
        assert status["connected"] is False
        assert httpx.get(f"{srv.url}/").status_code == 200
        latest = httpx.get(f"{srv.url}/api/data/latest")
        assert latest.status_code == 503
    finally:
        output = srv.stop()
    assert output.splitlines()[0].startswith("Starting API server on port")
    assert "failed to open:/dev/ttyACM0" in output
    assert output.count("failed to open:/dev/ttyACM0") == 1  # logged on transition only
    assert "Traceback" not in output


def test_demo_mode_shows_live_data_with_no_meter(tmp_path: Path) -> None:
    srv = start_server("--demo", "--data-dir", str(tmp_path))
    try:
        status = wait_until(f"{srv.url}/api/status", "connected")
        assert status["demo"] is True
        latest = httpx.get(f"{srv.url}/api/data/latest").json()
        assert latest["product"] == "TC66"
    finally:
        output = srv.stop()
    assert srv.process.returncode == 0
    assert "Traceback" not in output


def test_sigterm_writes_pending_samples_before_exit(emulator: EmulatorHost, tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    srv = start_server(
        "--device", str(emulator.link), "--interval", "0.1", "--data-dir", str(data_dir)
    )
    wait_until(f"{srv.url}/api/status", "connected")
    time.sleep(0.5)
    served = httpx.get(f"{srv.url}/api/status").json()["counters"]
    srv.stop()
    assert srv.process.returncode == 0
    again = start_server("--device", str(tmp_path / "absent"), "--data-dir", str(data_dir))
    try:
        count = httpx.get(f"{again.url}/api/status").json()["data_count"]
        assert isinstance(served, dict)
        assert count >= served["samples"]
    finally:
        again.stop()
