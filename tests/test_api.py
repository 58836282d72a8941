"""The HTTP API in-process against the emulator: every endpoint and every error path."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tc66c_server import quantities as q
from tc66c_server.api import data as data_api
from tc66c_server.api import stream as stream_api
from tc66c_server.api.app import create_app
from tc66c_server.config import load_saved
from tc66c_server.emulator import EmulatorHost
from tc66c_server.reading import Sample
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.timefmt import parse_iso

from .apihelpers import BASE_URL, assert_error, make_runtime


def wait_for(condition: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def runtime(emulator: EmulatorHost) -> Runtime:
    return make_runtime(str(emulator.link))


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url=BASE_URL) as test_client:
        wait_for(lambda: runtime.latest is not None)
        yield test_client


def test_latest_has_the_seed_shape_and_every_field(client: TestClient) -> None:
    body = client.get("/api/data/latest").json()
    for key in ("timestamp", "voltage", "current", "power"):
        assert key in body
    for key in ("resistance", "temperature", "d_plus", "d_minus", "group0_mah", "product"):
        assert key in body
    assert body["timestamp"][10] == "T" and body["timestamp"][26] in "+-"


def test_latest_equals_what_the_emulator_sent(emulator: EmulatorHost, tmp_path: Path) -> None:
    runtime = make_runtime(str(emulator.link), interval_s=30.0)
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        wait_for(lambda: runtime.latest is not None)
        body = client.get("/api/data/latest").json()
    sent = emulator.meter.last_reading
    assert sent is not None
    for key, value in sent.as_dict().items():
        assert body[key] == value, key


def test_latest_without_data_is_503(tmp_path: Path) -> None:
    runtime = make_runtime(str(tmp_path / "absent"))
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        assert_error(client.get("/api/data/latest"), 503, "no_data")


def test_data_period_has_the_seed_shape(client: TestClient, runtime: Runtime) -> None:
    wait_for(lambda: runtime.poller.counters.samples >= 5)
    runtime.store.flush()
    body = client.get("/api/data/30s").json()
    assert set(body) == {"period", "count", "start_time", "end_time", "data"}
    assert body["period"] == "30s"
    assert body["count"] == len(body["data"]) >= 5
    assert set(body["data"][0]) == {"timestamp", "voltage", "current", "power"}
    stamps = [p["timestamp"] for p in body["data"]]
    assert stamps == sorted(stamps)


def test_data_fields_adds_the_requested_quantities(client: TestClient, runtime: Runtime) -> None:
    runtime.store.flush()
    point = client.get("/api/data/1m?fields=temperature,d_plus").json()["data"][0]
    assert set(point) == {"timestamp", "voltage", "current", "power", "temperature", "d_plus"}
    point = client.get("/api/data/1m?fields=all").json()["data"][0]
    assert "group1_mwh" in point and "resistance" in point


def test_max_points_buckets_keep_extremes(client: TestClient, runtime: Runtime) -> None:
    wait_for(lambda: runtime.poller.counters.samples >= 12)
    runtime.store.flush()
    raw = client.get("/api/data/1m").json()["data"]
    body = client.get("/api/data/1m?max_points=3").json()
    assert 1 <= body["count"] <= 3
    assert body["bucket_seconds"] >= 20
    top = max(p["current_max"] for p in body["data"])
    assert top == max(p["current"] for p in raw if p["timestamp"] >= body["data"][0]["timestamp"])


def test_csv_export_downloads_the_window(client: TestClient, runtime: Runtime) -> None:
    runtime.store.flush()
    response = client.get("/api/data/1m?format=csv&fields=temperature")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = response.text.strip().splitlines()
    assert lines[0] == "timestamp,voltage,current,power,temperature"
    assert len(lines) >= 2


@pytest.mark.parametrize(
    "period", ["0s", "-5m", "5x", "abc", "5", "m", "1m1h", "99999d", "1.5h", "5m%20"]
)
def test_bad_period_is_400_naming_the_accepted_forms(client: TestClient, period: str) -> None:
    for path in (f"/api/data/{period}", f"/api/stats/{period}"):
        details = assert_error(client.get(path), 400, "invalid_period")
        assert "period" in details
        assert "30s" in client.get(path).json()["error"]["message"]


@pytest.mark.parametrize(
    "query",
    ["fields=bogus", "max_points=1", "max_points=abc", "format=xml", "end=yesterday"],
)
def test_bad_query_parameter_is_400(client: TestClient, query: str) -> None:
    assert_error(client.get(f"/api/data/5m?{query}"), 400, "invalid_parameter")


def test_stats_have_the_seed_shape_plus_energy(client: TestClient, runtime: Runtime) -> None:
    wait_for(lambda: runtime.poller.counters.samples >= 5)
    runtime.store.flush()
    body = client.get("/api/stats/1h").json()
    assert body["period"] == "1h"
    assert body["sample_count"] >= 5
    for key in ("voltage", "current", "power"):
        assert set(body[key]) == {"min", "max", "avg"}
        assert body[key]["min"] <= body[key]["avg"] <= body[key]["max"]
    assert body["energy_wh"] > 0
    assert body["charge_mah"] > 0


def test_status_reports_the_seed_fields_and_the_link(client: TestClient) -> None:
    body = client.get("/api/status").json()
    for key in (
        "running",
        "data_count",
        "oldest_data",
        "newest_data",
        "retention_minutes",
        "polling_interval",
    ):
        assert key in body
    assert body["running"] is True
    assert body["connected"] is True
    assert body["device"]["product"] == "TC66"
    assert body["last_error"] is None
    assert body["counters"]["samples"] >= 1
    assert body["version"]


def test_config_get_and_post_apply_at_once(client: TestClient, runtime: Runtime) -> None:
    assert client.get("/api/config").json()["polling_interval"] == 0.1
    response = client.post(
        "/api/config", json={"polling_interval": 0.2, "data_retention_minutes": 30}
    )
    assert response.status_code == 200
    assert response.json()["data_retention_minutes"] == 30
    assert runtime.poller.interval_s == 0.2
    assert runtime.store.retention_s == 30 * 60


BAD_CONFIGS = [
    ({"polling_interval": -1}, ["polling_interval"]),
    ({"polling_interval": "fast"}, ["polling_interval"]),
    ({"data_retention_minutes": 0}, ["data_retention_minutes"]),
    ({"port": "ttyUSB0"}, ["port"]),
    ({"port": "/dev/ttyACM1", "polling_interval": 0}, ["polling_interval"]),
    ({"unknown": 1, "data_retention_minutes": 5}, ["unknown"]),
    ([], ["body"]),
]


@pytest.mark.parametrize(("payload", "fields"), BAD_CONFIGS)
def test_config_post_with_bad_values_returns_400_and_changes_nothing(
    client: TestClient, payload: object, fields: list[str]
) -> None:
    before = client.get("/api/config").json()
    details = assert_error(client.post("/api/config", json=payload), 400, "invalid_config")
    assert sorted(details["fields"]) == sorted(fields)
    assert client.get("/api/config").json() == before


def test_config_post_with_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/api/config", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_config")


def test_writes_beyond_loopback_need_a_token(emulator: EmulatorHost) -> None:
    runtime = make_runtime(str(emulator.link), settings=ServerSettings(host="0.0.0.0"))
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        assert_error(client.post("/api/config", json={"polling_interval": 2}), 403, "forbidden")
        assert client.get("/api/config").status_code == 200


def test_token_is_checked_when_configured(emulator: EmulatorHost) -> None:
    settings = ServerSettings(host="0.0.0.0", token="s3cret")
    runtime = make_runtime(str(emulator.link), settings=settings)
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        wrong = {"Authorization": "Bearer nope"}
        assert_error(
            client.post("/api/config", json={"polling_interval": 2}, headers=wrong),
            403,
            "forbidden",
        )
        right = {"Authorization": "Bearer s3cret"}
        response = client.post("/api/config", json={"polling_interval": 2}, headers=right)
        assert response.status_code == 200


def test_config_change_of_port_reconnects(
    client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    with EmulatorHost(tmp_path / "other", reply_delay_s=0.0, seed=99) as other:
        response = client.post("/api/config", json={"port": str(other.link)})
        assert response.status_code == 200
        wait_for(
            lambda: runtime.poller.state.port == str(other.link) and runtime.poller.state.connected
        )


def test_unknown_endpoint_and_method_use_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/api/nope"), 404, "not_found")
    assert_error(client.delete("/api/config"), 405, "method_not_allowed")


def test_ports_lists_serial_ports(client: TestClient) -> None:
    body = client.get("/api/ports").json()
    assert isinstance(body["ports"], list)


def test_stream_sends_connection_then_samples(client: TestClient) -> None:
    events: list[str] = []
    with client.stream("GET", "/api/stream?limit=3") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                events.append(line[7:])
    assert events[0] == "connection"
    assert events.count("sample") == 3


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/data/{period}" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_dashboard_is_served_at_the_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_unplug_then_replug_shows_disconnected_then_fresh_samples(
    client: TestClient, runtime: Runtime, emulator: EmulatorHost
) -> None:
    emulator.unplug()
    wait_for(lambda: not client.get("/api/status").json()["connected"])
    status = client.get("/api/status").json()
    assert status["last_error"]["code"] in ("disconnected", "port_not_found")
    emulator.replug()
    wait_for(lambda: client.get("/api/status").json()["connected"], timeout_s=3.0)
    first = client.get("/api/data/latest").json()["timestamp"]
    wait_for(lambda: client.get("/api/data/latest").json()["timestamp"] != first)


def test_samples_persist_across_a_restart(emulator: EmulatorHost, tmp_path: Path) -> None:
    db = tmp_path / "samples.sqlite3"
    runtime = make_runtime(str(emulator.link), db=db)
    with TestClient(create_app(runtime), base_url=BASE_URL):
        wait_for(lambda: runtime.poller.counters.samples >= 5)
    count = runtime.poller.counters.samples
    again = make_runtime(str(tmp_path / "absent"), db=db)
    with TestClient(create_app(again), base_url=BASE_URL) as client:
        assert client.get("/api/status").json()["data_count"] == count
        assert client.get("/api/data/latest").status_code == 200


def test_retention_change_prunes_old_samples_at_once(client: TestClient, runtime: Runtime) -> None:
    latest = runtime.latest
    assert latest is not None
    now = time.time()
    old = [Sample(now - 3600 - k, latest.reading) for k in range(100)]
    runtime.store.add_many(old)
    runtime.store.flush()
    assert client.get("/api/data/2h").json()["count"] >= 100
    response = client.post("/api/config", json={"data_retention_minutes": 30})
    assert response.status_code == 200
    assert client.get("/api/data/2h").json()["count"] < 100
    oldest = client.get("/api/status").json()["oldest_data"]
    assert parse_iso(oldest) > now - 30 * 60 - 5


def test_config_changes_are_saved_for_the_next_start(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    saved = tmp_path / "config.json"
    runtime = make_runtime(str(emulator.link), settings=ServerSettings(saved_config_path=saved))
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        assert client.post("/api/config", json={"data_retention_minutes": 45}).status_code == 200
        assert client.post("/api/config", json={"data_retention_minutes": -4}).status_code == 400
    assert load_saved(saved)["data_retention_minutes"] == 45


@pytest.mark.parametrize(
    "end",
    [
        "nan",
        "inf",
        "-inf",
        "1e12",
        "-99999999999",
        "0",
        "1e400",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59",
        "1999-12-31T23:59:59Z",
    ],
)
def test_end_out_of_range_is_400_never_500(client: TestClient, end: str) -> None:
    for query in (f"end={end}", f"end={end}&format=csv", f"end={end}&max_points=10"):
        details = assert_error(client.get(f"/api/data/5m?{query}"), 400, "invalid_parameter")
        assert details["end"] == end


def test_end_accepts_unix_seconds_and_iso_within_range(client: TestClient) -> None:
    now = time.time()
    for end in (f"{now - 60:.3f}", "2000-01-01T00:00:00Z", f"{now + 3600:.0f}"):
        response = client.get(f"/api/data/5m?end={end}")
        assert response.status_code == 200, (end, response.text)


def test_raw_window_over_the_cap_is_400_too_many_points(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    latest = runtime.latest
    assert latest is not None
    now = time.time()
    runtime.store.add_many(Sample(now - 1800 - k, latest.reading) for k in range(300))
    runtime.store.flush()
    monkeypatch.setattr(data_api, "MAX_RAW_SAMPLES", 250)
    for query in ("", "?format=csv", "?fields=all"):
        details = assert_error(client.get(f"/api/data/1h{query}"), 400, "too_many_points")
        assert details["samples"] > details["limit"]
        message = client.get(f"/api/data/1h{query}").json()["error"]["message"]
        assert "max_points" in message and "shorter window" in message
    assert client.get("/api/data/1h?max_points=50").status_code == 200
    assert client.get("/api/data/1m").status_code == 200
    # The values budget: the same window passes with 3 quantities, not with all 13.
    monkeypatch.setattr(data_api, "MAX_RAW_SAMPLES", 10_000)
    monkeypatch.setattr(data_api, "MAX_RAW_VALUES", 3 * 400)
    assert client.get("/api/data/1h").status_code == 200
    assert_error(client.get("/api/data/1h?fields=all"), 400, "too_many_points")


def test_raw_cap_lets_a_day_at_1_hz_with_every_field_through() -> None:
    assert 86_400 * len(q.ALL) <= min(
        data_api.MAX_RAW_SAMPLES * len(q.ALL), data_api.MAX_RAW_VALUES
    )


def test_stream_clients_beyond_the_cap_get_503(client: TestClient, runtime: Runtime) -> None:
    held = [runtime.hub.open_queue() for _ in range(stream_api.MAX_STREAM_CLIENTS)]
    details = assert_error(client.get("/api/stream?limit=1"), 503, "too_many_streams")
    assert details["limit"] == stream_api.MAX_STREAM_CLIENTS
    runtime.hub.close_queue(held.pop())
    with client.stream("GET", "/api/stream?limit=1") as response:
        assert response.status_code == 200
    for queue in held:
        runtime.hub.close_queue(queue)


@pytest.mark.parametrize("port", ["/etc/passwd", "/tmp", "/dev/null", "/dev/zero", "tty0"])
def test_config_port_that_is_not_a_serial_device_is_400_and_changes_nothing(
    client: TestClient, runtime: Runtime, port: str
) -> None:
    before = client.get("/api/config").json()
    device = runtime.poller.state.port
    details = assert_error(client.post("/api/config", json={"port": port}), 400, "invalid_config")
    assert set(details["fields"]) == {"port"}
    assert client.get("/api/config").json() == before
    assert runtime.poller.state.port == device


def test_config_port_accepts_a_pty_link_and_a_path_not_there_yet(
    client: TestClient, tmp_path: Path
) -> None:
    with EmulatorHost(tmp_path / "other", reply_delay_s=0.0) as other:
        assert client.post("/api/config", json={"port": str(other.link)}).status_code == 200
    absent = str(tmp_path / "ttyACM7")
    assert client.post("/api/config", json={"port": absent}).json()["port"] == absent


def test_config_change_whose_save_fails_is_503_and_changes_nothing(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings = ServerSettings(saved_config_path=blocker / "config.json")
    runtime = make_runtime(str(emulator.link), settings=settings)
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        wait_for(lambda: runtime.latest is not None)
        latest = runtime.latest
        assert latest is not None
        runtime.store.add_many(Sample(time.time() - 3600 - k, latest.reading) for k in range(50))
        runtime.store.flush()
        before = (client.get("/api/config").json(), runtime.store.retention_s)
        count = client.get("/api/data/2h").json()["count"]
        changes = {"data_retention_minutes": 1, "polling_interval": 2, "port": "demo"}
        response = client.post("/api/config", json=changes)
        assert_error(response, 503, "config_not_saved")
        assert "nothing was changed" in response.json()["error"]["message"]
        assert (client.get("/api/config").json(), runtime.store.retention_s) == before
        assert runtime.poller.interval_s == 0.1
        assert runtime.poller.state.port == str(emulator.link)
        assert runtime.demo_link is None
        assert client.get("/api/data/2h").json()["count"] >= count
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_parameters_are_not_echoed_at_length(client: TestClient) -> None:
    for query in ("fields=" + "z" * 5000, "end=" + "9" * 5000, "end=" + "x" * 5000):
        response = client.get(f"/api/data/5m?{query}")
        assert_error(response, 400, "invalid_parameter")
        assert len(response.content) < 1000, query
