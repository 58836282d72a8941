"""Auto-record per meter, in-process against emulators: each meter's own setting (saved in
its entry of ``meters``), the defaults (``--auto-record``, ``POST /api/auto-record``) for
the others, and the seed's ``/api/config`` as the first meter's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tc66c_server import bench_config
from tc66c_server.api.app import create_app
from tc66c_server.bench_config import BenchConfig, MeterSpec
from tc66c_server.config import load_saved
from tc66c_server.emulator import EmulatorHost
from tc66c_server.emulator.signal import BenchSession
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore

from .apihelpers import BASE_URL, assert_error
from .recordinghelpers import PHONE_OFF_S

METER_IDS = ("a", "b")
#: The bench scene (idle, a phone charging from 20 s to 172 s, idle) runs this much faster
#: than real time once started, and stops after its first cycle.
SPEED = 40.0
SCENE_END_S = 179.9
AUTO_KEYS = ("auto_record", "auto_record_threshold_a", "auto_record_end_delay_s")


class SceneClock:
    """Stands at 0 (idle) until :meth:`go`, then runs ``SPEED`` times real time."""

    def __init__(self) -> None:
        self.origin: float | None = None

    def __call__(self) -> float:
        if self.origin is None:
            return 0.0
        return min((time.monotonic() - self.origin) * SPEED, SCENE_END_S)

    def go(self) -> None:
        self.origin = time.monotonic()


def wait_for(condition: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def clock() -> SceneClock:
    return SceneClock()


@pytest.fixture
def emulators(tmp_path: Path, clock: SceneClock) -> Iterator[dict[str, EmulatorHost]]:
    hosts = {
        meter_id: EmulatorHost(
            tmp_path / f"tty-{meter_id}", reply_delay_s=0.0, session=BenchSession(5), clock=clock
        )
        for meter_id in METER_IDS
    }
    for host in hosts.values():
        host.start()
    try:
        yield hosts
    finally:
        for host in hosts.values():
            host.stop()


def bench(emulators: dict[str, EmulatorHost], **defaults: Any) -> BenchConfig:
    meters = tuple(MeterSpec(i, str(emulators[i].link), 0.1) for i in METER_IDS)
    return BenchConfig(meters=meters, **defaults)


@pytest.fixture
def runtime(emulators: dict[str, EmulatorHost], tmp_path: Path) -> Runtime:
    settings = ServerSettings(saved_config_path=tmp_path / "config.json")
    return Runtime(settings, bench(emulators), SampleStore(None))


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url=BASE_URL) as test_client:
        wait_for(lambda: all(m.counters.samples >= 3 for m in runtime))
        yield test_client


def auto_of(client: TestClient, meter_id: str) -> dict[str, Any]:
    body = client.get(f"/api/meters/{meter_id}/config").json()
    return {k: body[k] for k in AUTO_KEYS}


def test_a_charge_on_two_meters_is_recorded_only_on_the_one_with_auto_record_on(
    client: TestClient, clock: SceneClock
) -> None:
    change = {"auto_record": True, "auto_record_end_delay_s": 1}
    answer = client.post("/api/meters/a/config", json=change)
    assert answer.status_code == 200, answer.text
    assert answer.json()["auto_record"] is True
    assert auto_of(client, "b")["auto_record"] is False
    clock.go()
    ended = wait_for(
        lambda: [r for r in client.get("/api/recordings").json()["recordings"] if r["end"]],
        timeout_s=PHONE_OFF_S / SPEED + 10,
    )
    time.sleep(0.5)
    listed = client.get("/api/recordings").json()["recordings"]
    assert [(r["meter"], r["auto"]) for r in listed] == [("a", True)]
    assert ended[0]["end_reason"] == "current_below_threshold"
    assert client.get("/api/recordings?meter=b").json()["recordings"] == []


def test_a_meters_auto_record_is_saved_in_its_entry_and_survives_a_restart(
    emulators: dict[str, EmulatorHost], tmp_path: Path
) -> None:
    saved = tmp_path / "config.json"
    settings = ServerSettings(saved_config_path=saved)
    change = {"auto_record": True, "auto_record_threshold_a": 0.25}
    runtime = Runtime(settings, bench(emulators), SampleStore(None))
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        assert client.post("/api/meters/b/config", json=change).status_code == 200
    on_disk = load_saved(saved)
    assert [m.get("auto_record") for m in on_disk["meters"]] == [None, True]
    assert on_disk["meters"][1]["auto_record_threshold_a"] == 0.25
    assert on_disk["auto_record"] is False  # the defaults are untouched
    restarted = Runtime(settings, bench_config.resolve(on_disk), SampleStore(None))
    with TestClient(create_app(restarted), base_url=BASE_URL) as client:
        assert auto_of(client, "b") == {
            "auto_record": True,
            "auto_record_threshold_a": 0.25,
            "auto_record_end_delay_s": 60.0,
        }
        assert auto_of(client, "a")["auto_record"] is False
        assert restarted.recordings.auto_of("b").enabled
        assert not restarted.recordings.auto_of("a").enabled


def test_the_seed_route_sets_the_first_meters_auto_record_like_its_interval(
    client: TestClient, runtime: Runtime
) -> None:
    answer = client.post("/api/config", json={"auto_record": True, "polling_interval": 0.5})
    assert answer.status_code == 200, answer.text
    first = client.get("/api/meters/a/config").json()
    second = client.get("/api/meters/b/config").json()
    assert (first["auto_record"], first["polling_interval"]) == (True, 0.5)
    assert (second["auto_record"], second["polling_interval"]) == (False, 0.1)
    assert client.get("/api/config").json() == first
    assert runtime.recordings.auto_of("a").enabled
    assert not runtime.recordings.auto_of("b").enabled
    view = client.get("/api/auto-record").json()
    assert view["auto_record"] is False
    assert {i: m["auto_record"] for i, m in view["meters"].items()} == {"a": True, "b": False}


def test_posted_defaults_apply_to_every_meter_without_its_own(
    client: TestClient, runtime: Runtime
) -> None:
    assert client.post("/api/meters/a/config", json={"auto_record": False}).status_code == 200
    change = {"auto_record": True, "auto_record_end_delay_s": 5}
    answer = client.post("/api/auto-record", json=change)
    assert answer.status_code == 200, answer.text
    assert answer.json() == client.get("/api/auto-record").json()
    each = {"auto_record_threshold_a": 0.1, "auto_record_end_delay_s": 5.0}
    assert answer.json() == {
        "auto_record": True,
        **each,
        "meters": {"a": {"auto_record": False, **each}, "b": {"auto_record": True, **each}},
    }
    assert not runtime.recordings.auto_of("a").enabled
    assert runtime.recordings.auto_of("b").end_delay_s == 5.0
    refused = client.post("/api/auto-record", json={"auto_record": True, "port": "auto"})
    assert sorted(assert_error(refused, 400, "invalid_config")["fields"]) == ["port"]
