"""End to end: several meters in the real server process, each on its own emulator process.

``python api_server.py PORT --device a=LINK --device b=LINK ...`` against emulators over
real ptys: per-meter routes, the live stream's ``meter`` ids and filter, eight meters at
once, one meter unplugged while the others keep their cadence, and the seed's routes the
same with one meter and with three.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
import pytest

from reliability.procs import Emulator, Server

from .benchprocs import Bench, bench, get, intact_replies, wait_for

pytestmark = pytest.mark.e2e

SEED_ROUTES = ("data/5m", "data/latest", "stats/1h", "status")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Bench]:
    with bench(tmp_path) as b:
        yield b


def start_meters(
    lab: Bench, ids: tuple[str, ...], interval_s: float
) -> tuple[Server, dict[str, Emulator]]:
    """One emulator process per meter (seeds differ, so readings and serials do) and a
    server polling them all; returns once every meter has a sample."""
    emulators = {m: lab.emulator(f"tty-{m}", seed=seed) for seed, m in enumerate(ids, start=3)}
    server = lab.server([f"{m}={e.link}" for m, e in emulators.items()], interval_s=interval_s)
    for m in ids:
        wait_for(lambda m=m: count(server, m) > 0, 30, f"a first sample from meter {m}")
    return server, emulators


def count(server: Server, meter: str) -> int:
    data_count: int = get(f"{server.url}/api/meters/{meter}/status")["data_count"]
    return data_count


def served_serial(emulator: Emulator) -> int:
    serial: int = intact_replies(emulator.log)[0].reading["serial"]
    return serial


def key(point: dict[str, Any]) -> tuple[float, float, float]:
    return round(point["voltage"], 4), round(point["current"], 5), round(point["power"], 4)


def own_share(server: Server, meter: str, emulator: Emulator) -> float:
    """The share of the meter's stored samples that its own emulator served."""
    points = get(f"{server.url}/api/meters/{meter}/data/5m")["data"]
    served = {key(r.reading) for r in intact_replies(emulator.log)}
    assert points
    return sum(key(p) in served for p in points) / len(points)


def stream_events(server: Server, query: str) -> list[tuple[str, dict[str, Any]]]:
    """The events of ``/api/stream?QUERY`` (with a ``limit``, so the server closes it)."""
    events: list[tuple[str, dict[str, Any]]] = []
    name = ""
    with httpx.stream("GET", f"{server.url}/api/stream?{query}", timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, orjson.loads(line.removeprefix("data: "))))
    return events


def shape(value: Any) -> Any:
    """The keys of a JSON value, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_two_meters_have_their_own_routes_and_stream_events(lab: Bench) -> None:
    server, emulators = start_meters(lab, ("a", "b"), 0.2)
    meters = get(f"{server.url}/api/meters")["meters"]
    assert [m["id"] for m in meters] == ["a", "b"]
    for entry in meters:
        emulator = emulators[entry["id"]]
        assert entry["port"] == str(emulator.link) and entry["connected"] is True
        assert entry["model"] == "TC66" and entry["serial"] == served_serial(emulator)
        assert entry["usb"] is None  # a pty: no USB serial or location
        assert entry["last_sample"]["serial"] == entry["serial"]
        assert entry["counters"]["samples"] >= 1
    assert meters[0]["serial"] != meters[1]["serial"]
    wait_for(lambda: count(server, "a") >= 3 and count(server, "b") >= 3, 20, "3 samples each")
    for route in SEED_ROUTES:
        seed = get(f"{server.url}/api/{route}")
        for meter in ("a", "b"):
            assert shape(get(f"{server.url}/api/meters/{meter}/{route}")) == shape(seed), route
    for meter in ("a", "b"):
        latest = get(f"{server.url}/api/meters/{meter}/data/latest")
        assert latest["serial"] == served_serial(emulators[meter])
        assert get(f"{server.url}/api/meters/{meter}/status")["meter"] == meter
        assert own_share(server, meter, emulators[meter]) == 1.0
    only_b = stream_events(server, "meter=b&limit=4")
    assert {event["meter"] for _, event in only_b} == {"b"}
    assert sum(name == "sample" for name, _ in only_b) == 4
    both = stream_events(server, "limit=10")
    assert {event["meter"] for name, event in both if name == "sample"} == {"a", "b"}
    assert {event["meter"] for name, event in both if name == "connection"} == {"a", "b"}
    for name, event in both:
        if name == "sample":
            assert event["serial"] == served_serial(emulators[event["meter"]])


def test_eight_meters_at_10_hz_each_get_their_own_samples(lab: Bench) -> None:
    ids = tuple(f"m{i}" for i in range(1, 9))
    server, emulators = start_meters(lab, ids, 0.1)
    before = {m: count(server, m) for m in ids}
    time.sleep(3.0)
    grown = {m: count(server, m) - before[m] for m in ids}
    # 30 slots each in 3 s; half is a floor that still tells a stalled meter on a busy host.
    assert min(grown.values()) >= 15, grown
    serials = {m: served_serial(emulators[m]) for m in ids}
    assert len(set(serials.values())) == len(ids)
    for entry in get(f"{server.url}/api/meters")["meters"]:
        assert entry["serial"] == serials[entry["id"]]
        assert entry["last_sample"]["serial"] == serials[entry["id"]]
    for m in ids:
        assert own_share(server, m, emulators[m]) == 1.0, m
    assert "Traceback" not in server.output()


def test_an_unplugged_meter_never_slows_the_others_and_comes_back(lab: Bench) -> None:
    server, emulators = start_meters(lab, ("a", "b", "c"), 0.2)
    emulators["b"].unplug()
    status = wait_for(
        lambda: (s := get(f"{server.url}/api/meters/b/status"))["connected"] is False and s,
        10,
        "meter b reported disconnected",
    )
    assert status["last_error"] is not None
    assert get(f"{server.url}/api/meters")["meters"][1]["connected"] is False
    before = {m: count(server, m) for m in ("a", "b", "c")}
    time.sleep(3.0)
    after = {m: count(server, m) for m in ("a", "b", "c")}
    for m in ("a", "c"):
        # 15 slots in 3 s at 0.2 s; at least two thirds of them while b is gone.
        assert after[m] - before[m] >= 10, (m, before, after)
        assert get(f"{server.url}/api/meters/{m}/status")["connected"] is True
    # Nothing from b arrived after its cable was pulled (the store may still have been
    # writing the last samples taken before: compare times, not counts).
    unplugged_at = emulators["b"].wait_event("unplug", after=0.0)
    newest = get(f"{server.url}/api/meters/b/status")["newest_data"]
    assert datetime.fromisoformat(newest).timestamp() <= unplugged_at + 0.5
    assert after["b"] - before["b"] <= 1
    emulators["b"].plug()
    wait_for(lambda: get(f"{server.url}/api/meters/b/status")["connected"], 15, "b back")
    back = count(server, "b")
    wait_for(lambda: count(server, "b") >= back + 3, 10, "samples from b again")
    assert get(f"{server.url}/api/meters/b/status")["counters"]["reconnects"] >= 1


def test_seed_routes_have_the_same_keys_with_one_meter_and_three_and_mean_the_first(
    lab: Bench,
) -> None:
    solo_emulator = lab.emulator("tty-solo", seed=2)
    solo = lab.server([str(solo_emulator.link)], interval_s=0.2)  # the seed's --device PORT
    trio, emulators = start_meters(lab, ("x", "y", "z"), 0.2)
    for server in (solo, trio):
        wait_for(lambda s=server: get(f"{s.url}/api/status")["data_count"] >= 3, 20, "3 samples")
    for route in (*SEED_ROUTES, "config"):
        one, three = get(f"{solo.url}/api/{route}"), get(f"{trio.url}/api/{route}")
        assert shape(one) == shape(three), route
    assert get(f"{solo.url}/api/status")["meter"] == "m1"
    assert get(f"{trio.url}/api/status")["meter"] == "x"
    assert get(f"{trio.url}/api/config")["port"] == str(emulators["x"].link)
    assert get(f"{trio.url}/api/data/latest")["serial"] == served_serial(emulators["x"])
    assert get(f"{solo.url}/api/data/latest")["serial"] == served_serial(solo_emulator)
    before = get(f"{trio.url}/api/meters/x/stats/1h")["sample_count"]
    seed = get(f"{trio.url}/api/stats/1h")["sample_count"]
    assert before <= seed <= get(f"{trio.url}/api/meters/x/stats/1h")["sample_count"]
    served = {key(r.reading) for r in intact_replies(emulators["x"].log)}
    assert all(key(p) in served for p in get(f"{trio.url}/api/data/5m")["data"])
