"""Several meters in one server, in-process against emulators: per-meter routes, the seed's
routes as aliases of the first meter, meters added and removed at run time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.bench_config import BenchConfig, MeterSpec
from tc66c_server.config import load_saved
from tc66c_server.emulator import EmulatorHost
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore

from .apihelpers import BASE_URL, assert_error

METER_IDS = ("a", "b", "c")


def wait_for(condition: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[dict[str, EmulatorHost]]:
    hosts = {
        meter_id: EmulatorHost(tmp_path / f"tty-{meter_id}", reply_delay_s=0.0, seed=seed)
        for seed, meter_id in enumerate(METER_IDS, start=3)
    }
    for host in hosts.values():
        host.start()
    try:
        yield hosts
    finally:
        for host in hosts.values():
            host.stop()


@pytest.fixture
def runtime(emulators: dict[str, EmulatorHost], tmp_path: Path) -> Runtime:
    bench = BenchConfig(
        meters=tuple(MeterSpec(i, str(emulators[i].link), 0.1) for i in METER_IDS),
        data_retention_minutes=10,
    )
    settings = ServerSettings(saved_config_path=tmp_path / "config.json")
    return Runtime(settings, bench, SampleStore(None))


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url=BASE_URL) as test_client:
        wait_for(lambda: all(m.counters.samples >= 3 for m in runtime))
        runtime.store.flush()
        yield test_client


def test_meters_lists_every_meter_with_identity_state_and_counters(client: TestClient) -> None:
    meters = client.get("/api/meters").json()["meters"]
    assert [m["id"] for m in meters] == list(METER_IDS)
    for meter in meters:
        assert meter["connected"] is True
        assert meter["model"] == "TC66"
        assert meter["serial"] is not None and meter["firmware"]
        assert meter["last_sample"]["voltage"] > 0
        assert meter["counters"]["samples"] >= 3


def test_each_meter_has_the_seed_routes_with_the_seed_shapes(
    client: TestClient, emulators: dict[str, EmulatorHost]
) -> None:
    for meter_id in METER_IDS:
        base = f"/api/meters/{meter_id}"
        latest = client.get(f"{base}/data/latest").json()
        assert latest["serial"] == emulators[meter_id].meter.last_reading.serial  # type: ignore[union-attr]
        data = client.get(f"{base}/data/1m").json()
        assert set(data) == {"period", "count", "start_time", "end_time", "data"}
        assert data["count"] >= 3
        stats = client.get(f"{base}/stats/1m").json()
        assert stats["sample_count"] == data["count"] or stats["sample_count"] >= 3
        status = client.get(f"{base}/status").json()
        assert status["meter"] == meter_id and status["connected"] is True
        assert client.get(f"{base}/config").json()["polling_interval"] == 0.1


def test_meters_keep_their_own_samples(client: TestClient, runtime: Runtime) -> None:
    # Each emulator has its own seed, so its own voltages: a meter's stored samples are
    # exactly those its own poller took (its latest sample included).
    for meter_id in METER_IDS:
        stored = runtime.store.range(0, time.time() + 60, meter=meter_id)
        assert len(stored) >= 3
        latest = client.get(f"/api/meters/{meter_id}/data/latest").json()
        assert latest["serial"] == runtime.meter(meter_id).state.serial
        others = {
            round(row[1], 4)
            for other in METER_IDS
            if other != meter_id
            for row in runtime.store.range(0, time.time() + 60, meter=other)
        }
        assert {round(row[1], 4) for row in stored} - others


def test_seed_routes_are_the_first_meters(client: TestClient) -> None:
    runtime_first = client.get("/api/meters/a/status").json()
    seed = client.get("/api/status").json()
    assert seed["meter"] == "a" and seed["port"] == runtime_first["port"]
    assert client.get("/api/config").json() == client.get("/api/meters/a/config").json()
    seed_data = client.get("/api/data/1m").json()["data"]
    first_data = client.get("/api/meters/a/data/1m").json()["data"]
    assert seed_data[0] == first_data[0]
    assert client.get("/api/data/1m?meter=b").json()["data"][0]["timestamp"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/meters/nope",
        "/api/meters/nope/data/latest",
        "/api/meters/nope/data/1m",
        "/api/meters/nope/stats/1m",
        "/api/meters/nope/status",
        "/api/meters/nope/config",
        "/api/data/1m?meter=nope",
        "/api/stream?meter=nope",
    ],
)
def test_unknown_meter_is_404_in_the_error_shape(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 404, "unknown_meter")


def test_unknown_meter_writes_are_404(client: TestClient) -> None:
    assert_error(client.post("/api/meters/nope/config", json={}), 404, "unknown_meter")
    assert_error(client.delete("/api/meters/nope"), 404, "unknown_meter")
    response = client.post("/api/meters/nope/screen", json={"action": "rotate"})
    assert_error(response, 404, "unknown_meter")


def test_per_meter_config_changes_only_that_meter(client: TestClient, runtime: Runtime) -> None:
    response = client.post("/api/meters/b/config", json={"polling_interval": 0.3})
    assert response.status_code == 200, response.text
    assert response.json()["polling_interval"] == 0.3
    assert runtime.meter("b").poller.interval_s == 0.3
    assert runtime.meter("a").poller.interval_s == 0.1
    assert client.get("/api/config").json()["polling_interval"] == 0.1


def test_a_meter_added_at_run_time_polls_and_is_saved(
    client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    extra = EmulatorHost(tmp_path / "tty-extra", reply_delay_s=0.0, seed=11)
    extra.start()
    try:
        response = client.post(
            "/api/meters", json={"id": "extra", "port": str(extra.link), "polling_interval": 0.1}
        )
        assert response.status_code == 201, response.text
        assert response.json()["id"] == "extra"
        wait_for(lambda: runtime.meter("extra").counters.samples >= 2)
        saved = load_saved(tmp_path / "config.json")
        assert [m["id"] for m in saved["meters"]] == [*METER_IDS, "extra"]
        assert client.delete("/api/meters/extra").status_code == 204
        assert "extra" not in [m["id"] for m in client.get("/api/meters").json()["meters"]]
        assert_error(client.get("/api/meters/extra/status"), 404, "unknown_meter")
    finally:
        extra.stop()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"port": "ttyUSB0"}, "meters[3].port"),
        ({}, "port"),
        ({"id": "a", "port": "demo"}, "id"),
        ({"id": "bad id", "port": "demo"}, "id"),
        ({"id": "", "port": "demo"}, "id"),
        ({"id": None, "port": "demo"}, "id"),
        ({"port": "demo", "colour": "red"}, "body"),
        ([], "body"),
    ],
)
def test_adding_a_bad_meter_is_400_and_changes_nothing(
    client: TestClient, body: object, field: str
) -> None:
    before = client.get("/api/meters").json()["meters"]
    details = assert_error(client.post("/api/meters", json=body), 400, "invalid_config")
    assert field in details["fields"]
    assert [m["id"] for m in client.get("/api/meters").json()["meters"]] == [
        m["id"] for m in before
    ]


def test_the_last_meter_cannot_be_removed(client: TestClient) -> None:
    assert client.delete("/api/meters/c").status_code == 204
    assert client.delete("/api/meters/b").status_code == 204
    assert_error(client.delete("/api/meters/a"), 400, "invalid_config")


def test_screen_commands_reach_the_meter_between_polls(
    client: TestClient, emulators: dict[str, EmulatorHost]
) -> None:
    page = emulators["b"].meter.screen_page
    response = client.post("/api/meters/b/screen", json={"action": "next"})
    assert response.status_code == 202, response.text
    wait_for(lambda: emulators["b"].meter.screen_page == (page + 1) % 6)
    client.post("/api/meters/b/screen", json={"action": "previous"})
    wait_for(lambda: emulators["b"].meter.screen_page == page)
    assert emulators["a"].meter.screen_page == 0


@pytest.mark.parametrize("body", [{"action": "explode"}, {}, {"action": "next", "x": 1}, [1]])
def test_bad_screen_command_is_400(client: TestClient, body: object) -> None:
    assert_error(client.post("/api/meters/a/screen", json=body), 400, "invalid_parameter")


def test_stream_carries_every_meters_events_and_filters_by_meter(client: TestClient) -> None:
    with client.stream("GET", "/api/stream?limit=9") as response:
        seen = _sample_meters(response.iter_lines())
    assert set(seen) == set(METER_IDS)
    with client.stream("GET", "/api/stream?limit=4&meter=b") as response:
        assert set(_sample_meters(response.iter_lines())) == {"b"}


def _sample_meters(lines: Iterator[str]) -> list[str]:
    meters: list[str] = []
    event = ""
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event in ("sample", "connection"):
            payload = orjson.loads(line[6:])
            if event == "sample":
                meters.append(payload["meter"])
            else:
                assert payload["meter"] in METER_IDS
    return meters
