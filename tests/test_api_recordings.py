"""Recordings and annotations through the HTTP API, in-process, against the emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.config import load_saved
from tc66c_server.emulator import EmulatorHost
from tc66c_server.reading import Sample
from tc66c_server.recordings.bench import AutoRecord
from tc66c_server.runtime import Runtime, ServerSettings

from .apihelpers import BASE_URL, assert_error, make_runtime
from .recordinghelpers import reading


def wait_for(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
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


def test_a_recording_lives_through_the_api(client: TestClient, runtime: Runtime) -> None:
    created = client.post("/api/recordings", json={"name": "charger A", "note": "USB-C 1 m"})
    assert created.status_code == 201, created.text
    body = created.json()
    rid = body["id"]
    assert (body["name"], body["meter"], body["note"], body["running"]) == (
        "charger A", "m1", "USB-C 1 m", True,
    )  # fmt: skip
    assert body["end"] is None and body["auto"] is False
    wait_for(lambda: client.get(f"/api/recordings/{rid}").json()["sample_count"] >= 10)
    renamed = client.patch(f"/api/recordings/{rid}", json={"name": "charger B", "note": ""})
    assert renamed.status_code == 200 and renamed.json()["name"] == "charger B"
    stopped = client.post(f"/api/recordings/{rid}/stop")
    assert stopped.status_code == 200
    summary = stopped.json()
    assert summary["end_reason"] == "manual" and summary["end"] is not None
    assert summary["energy_wh"] > 0 and summary["voltage"]["min"] > 4
    assert summary["meter_counters"]["group0"]["start"]["mwh"] >= 0
    assert_error(client.post(f"/api/recordings/{rid}/stop"), 409, "recording_not_running")
    listed = client.get("/api/recordings").json()["recordings"]
    assert [r["id"] for r in listed] == [rid]
    runtime.store.flush()
    data = client.get(f"/api/recordings/{rid}/data").json()
    assert set(data) == {"recording", "count", "start_time", "end_time", "data"}
    assert data["recording"] == rid and data["count"] == summary["sample_count"]
    buckets = client.get(f"/api/recordings/{rid}/data?max_points=4&fields=resistance").json()
    assert 1 <= buckets["count"] <= 4 and "resistance_max" in buckets["data"][0]
    csv = client.get(f"/api/recordings/{rid}/data?format=csv")
    assert csv.text.splitlines()[0] == "timestamp,voltage,current,power"
    assert len(csv.text.splitlines()) == summary["sample_count"] + 1
    assert client.delete(f"/api/recordings/{rid}").status_code == 204
    assert_error(client.get(f"/api/recordings/{rid}"), 404, "unknown_recording")
    assert_error(client.delete(f"/api/recordings/{rid}"), 404, "unknown_recording")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 3}, "name"),
        ({"name": "a", "colour": "red"}, "colour"),
        ({"name": "a", "note": 5}, "note"),
        ({"name": "a", "stop_rules": {"volts": 3}}, "stop_rules"),
        ({"name": "a", "stop_rules": {"duration_s": -1}}, "stop_rules"),
        ({"name": "a", "meter": 7}, "meter"),
        ([1, 2], "body"),
    ],
)
def test_a_bad_recording_body_is_400_naming_the_field(
    client: TestClient, body: Any, field: str
) -> None:
    details = assert_error(client.post("/api/recordings", json=body), 400, "invalid_parameter")
    assert field in details["fields"]
    assert client.get("/api/recordings").json()["recordings"] == []


def test_recording_errors_have_the_one_shape(client: TestClient) -> None:
    assert_error(
        client.post("/api/recordings", json={"name": "a", "meter": "zz"}), 404, "unknown_meter"
    )
    assert_error(client.get("/api/recordings/999"), 404, "unknown_recording")
    assert_error(client.get("/api/recordings/abc"), 400, "invalid_parameter")
    assert_error(client.post("/api/recordings/999/stop"), 404, "unknown_recording")
    assert_error(client.patch("/api/recordings/999", json={"name": "b"}), 404, "unknown_recording")
    assert_error(client.get("/api/recordings/999/data"), 404, "unknown_recording")
    bad = client.post(
        "/api/recordings", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and "error" in bad.json()
    first = client.post("/api/recordings", json={"name": "a"}).json()
    details = assert_error(
        client.post("/api/recordings", json={"name": "b"}), 409, "recording_busy"
    )
    assert details["recording"] == first["id"]
    assert_error(
        client.patch(f"/api/recordings/{first['id']}", json={"name": ""}), 400, "invalid_parameter"
    )
    assert_error(
        client.get(f"/api/recordings/{first['id']}/data?fields=nope"), 400, "invalid_parameter"
    )


def test_a_write_from_another_site_is_refused_by_the_guard(client: TestClient) -> None:
    response = client.post(
        "/api/recordings", json={"name": "a"}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403 and "error" in response.json()
    assert client.get("/api/recordings").json()["recordings"] == []


def test_a_duration_stop_rule_ends_the_recording_by_itself(client: TestClient) -> None:
    rid = client.post(
        "/api/recordings", json={"name": "short", "stop_rules": {"duration_s": 0.5}}
    ).json()["id"]
    wait_for(lambda: client.get(f"/api/recordings/{rid}").json()["end"] is not None)
    body = client.get(f"/api/recordings/{rid}").json()
    assert body["end_reason"] == "rule_duration" and body["duration_s"] == pytest.approx(0.5)
    assert body["stop_rules"] == {"duration_s": 0.5}


def test_notes_and_automatic_annotations_are_listed_by_period(client: TestClient) -> None:
    created = client.post("/api/annotations", json={"text": "phone at 80 %"})
    assert created.status_code == 201
    note = created.json()
    assert (note["kind"], note["text"], note["auto"], note["meter"]) == (
        "note", "phone at 80 %", False, "m1",
    )  # fmt: skip
    rid = client.post("/api/recordings", json={"name": "a"}).json()["id"]
    client.post(f"/api/recordings/{rid}/stop")
    found = client.get("/api/annotations?period=5m&meter=m1").json()
    kinds = [a["kind"] for a in found["annotations"]]
    assert {"note", "recording_started", "recording_stopped"} <= set(kinds)
    assert found["period"] == "5m"
    assert_error(client.get("/api/annotations?period=soon"), 400, "invalid_period")
    assert_error(client.get("/api/annotations?meter=zz"), 404, "unknown_meter")
    assert_error(client.post("/api/annotations", json={"text": ""}), 400, "invalid_parameter")
    assert_error(
        client.post("/api/annotations", json={"text": "a", "time": "x"}), 400, "invalid_parameter"
    )
    assert client.delete(f"/api/annotations/{note['id']}").status_code == 204
    assert_error(client.delete(f"/api/annotations/{note['id']}"), 404, "unknown_annotation")


def test_the_stream_carries_recording_start_summary_and_stop(
    client: TestClient, runtime: Runtime
) -> None:
    def start_then_stop() -> None:
        time.sleep(0.3)
        rid = runtime.recordings.start_recording("m1", "streamed", now=time.time())["id"]
        time.sleep(2.5)
        runtime.recordings.stop_recording(rid, time.time())

    worker = threading.Thread(target=start_then_stop)
    worker.start()
    seen: list[dict[str, Any]] = []
    with client.stream("GET", "/api/stream?limit=45") as response:
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == "recording":
                seen.append(orjson.loads(line[6:]))
    worker.join()
    types = [event["type"] for event in seen]
    assert types[0] == "started" and "summary" in types and types[-1] == "stopped"
    assert seen[-1]["recording"]["name"] == "streamed"


def test_recorded_samples_survive_a_one_minute_retention_while_others_are_pruned(
    emulator: EmulatorHost,
) -> None:
    runtime = make_runtime(str(emulator.link), retention_min=1)
    store = runtime.store
    now = time.time()
    old = [Sample(now - 600 + t, reading(current=1.0)) for t in range(0, 300)]
    store.add_many(old, meter="m1")
    rid = runtime.recordings.db.create(
        name="kept", meter="m1", start_ts=now - 500, state={}, end_ts=now - 400
    )
    assert store.prune_expired(now) == 300 - 101
    assert store.count(now - 600, now, meter="m1") == 101
    assert store.count(now - 500, now - 400, meter="m1") == 101
    runtime.recordings.db.delete(rid)
    store.prune_expired(now)
    assert store.count(now - 600, now, meter="m1") == 0
    runtime.stop()


def test_auto_record_settings_change_through_the_config_like_the_seeds_keys(
    client: TestClient,
) -> None:
    defaults = dict(zip(AUTO_KEYS, [False, 0.1, 60.0], strict=True))
    assert client.get("/api/auto-record").json() == {**defaults, "meters": {"m1": defaults}}
    seed = client.get("/api/config").json()
    changed = client.post("/api/config", json={"auto_record": True, "auto_record_end_delay_s": 5})
    assert changed.status_code == 200
    # The seed's three keys come first, unchanged, then the auto-record ones.
    assert list(changed.json()) == [*SEED_KEYS, *AUTO_KEYS]
    assert {k: changed.json()[k] for k in SEED_KEYS} == {k: seed[k] for k in SEED_KEYS}
    assert client.get("/api/auto-record").json()["meters"]["m1"]["auto_record_end_delay_s"] == 5.0
    for bad in (
        {"auto_record": "yes"},
        {"auto_record_threshold_a": 0},
        {"auto_record_end_delay_s": -1},
    ):
        assert_error(client.post("/api/config", json=bad), 400, "invalid_config")


SEED_KEYS = ["port", "polling_interval", "data_retention_minutes"]
AUTO_KEYS = ["auto_record", "auto_record_threshold_a", "auto_record_end_delay_s"]


def test_config_get_shows_the_seeds_keys_unchanged_then_the_auto_record_settings(
    client: TestClient, emulator: EmulatorHost
) -> None:
    body = client.get("/api/config").json()
    assert list(body) == [*SEED_KEYS, *AUTO_KEYS]
    assert body["port"] == str(emulator.link)
    assert body["polling_interval"] == 0.1 and body["data_retention_minutes"] == 10
    assert [body[k] for k in AUTO_KEYS] == [False, 0.1, 60.0]
    assert client.get("/api/meters/m1/config").json() == body


def test_auto_record_settings_posted_to_one_meter_are_saved_and_applied(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    saved = tmp_path / "config.json"
    runtime = make_runtime(str(emulator.link), settings=ServerSettings(saved_config_path=saved))
    change = {"auto_record": True, "auto_record_threshold_a": 0.25, "auto_record_end_delay_s": 30}
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        answer = client.post("/api/meters/m1/config", json=change)
        assert answer.status_code == 200, answer.text
        assert {k: answer.json()[k] for k in AUTO_KEYS} == {
            "auto_record": True,
            "auto_record_threshold_a": 0.25,
            "auto_record_end_delay_s": 30.0,
        }
        assert runtime.recordings.auto_of("m1") == AutoRecord(True, 0.25, 30.0)
        settings = client.get("/api/auto-record").json()
        assert settings["meters"]["m1"] == {k: answer.json()[k] for k in AUTO_KEYS}
    # Saved in the meter's entry; the defaults (top level) are untouched.
    (entry,) = load_saved(saved)["meters"]
    assert {k: entry[k] for k in AUTO_KEYS} == {k: answer.json()[k] for k in AUTO_KEYS}
    assert load_saved(saved)["auto_record"] is False


@pytest.mark.parametrize(
    ("change", "bad"),
    [
        ({"auto_record": 1}, ["auto_record"]),
        ({"auto_record_threshold_a": 0.009}, ["auto_record_threshold_a"]),
        ({"auto_record_threshold_a": 10.5}, ["auto_record_threshold_a"]),
        ({"auto_record_end_delay_s": 0.5}, ["auto_record_end_delay_s"]),
        ({"auto_record_end_delay_s": 3601}, ["auto_record_end_delay_s"]),
        (
            {"auto_record": "on", "auto_record_threshold_a": "x", "polling_interval": 0.2},
            ["auto_record", "auto_record_threshold_a"],
        ),
    ],
)
def test_config_post_with_a_bad_auto_record_field_names_it_and_changes_nothing(
    client: TestClient, change: dict[str, Any], bad: list[str]
) -> None:
    before = client.get("/api/config").json()
    details = assert_error(client.post("/api/config", json=change), 400, "invalid_config")
    assert sorted(details["fields"]) == sorted(bad)
    assert client.get("/api/config").json() == before


def test_auto_record_defaults_posted_to_the_alias_apply_to_a_meter_without_its_own(
    client: TestClient, runtime: Runtime
) -> None:
    answer = client.post("/api/auto-record", json={"auto_record": True})
    assert answer.status_code == 200
    settings = dict(zip(AUTO_KEYS, [True, 0.1, 60.0], strict=True))
    assert answer.json() == {**settings, "meters": {"m1": settings}}
    assert client.get("/api/config").json()["auto_record"] is True
    refused = client.post("/api/auto-record", json={"polling_interval": 0.5})
    assert_error(refused, 400, "invalid_config")
    assert client.get("/api/config").json()["polling_interval"] == 0.1


def test_an_unplug_and_replug_of_the_meter_are_annotated(
    client: TestClient, emulator: EmulatorHost
) -> None:
    emulator.unplug()
    wait_for(lambda: not client.get("/api/status").json()["connected"])
    emulator.replug()
    wait_for(lambda: client.get("/api/status").json()["connected"])

    def kinds() -> list[str]:
        found = client.get("/api/annotations?period=5m").json()["annotations"]
        return [a["kind"] for a in found]

    wait_for(lambda: "back" in kinds())
    assert kinds().index("unplugged") < kinds().index("back")


def test_the_meters_own_recording_is_downloaded_through_the_api(
    client: TestClient, emulator: EmulatorHost
) -> None:
    expected = emulator.meter.recording()
    created = client.post(
        "/api/meters/m1/gtrec", json={"interval_s": 1, "name": "offline", "end": "1732000020"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["imported"], body["end_reason"]) == ("offline", True, "imported")
    assert body["sample_count"] >= len(expected) and body["meter_counters"] is None
    assert body["end"].startswith("2024-11-19")
    data = client.get(f"/api/recordings/{body['id']}/data").json()["data"]
    got = [(p["voltage"], p["current"]) for p in data]
    assert got[: len(expected)] == [(p.voltage, p.current) for p in expected]


def test_a_bad_gtrec_request_is_refused_before_the_meter_is_asked(client: TestClient) -> None:
    for bad in (
        {},
        {"interval_s": 0},
        {"interval_s": 61},
        {"interval_s": 1.5},
        {"interval_s": "5"},
    ):
        assert_error(client.post("/api/meters/m1/gtrec", json=bad), 400, "invalid_parameter")
    assert_error(
        client.post("/api/meters/m1/gtrec", json={"interval_s": 5, "end": "soon"}),
        400,
        "invalid_parameter",
    )
    assert_error(client.post("/api/meters/zz/gtrec", json={"interval_s": 5}), 404, "unknown_meter")
    assert client.get("/api/recordings").json()["recordings"] == []
