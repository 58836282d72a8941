"""A pair's recording through the HTTP API, in-process, against two emulators."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.bench_config import BenchConfig, MeterSpec, PairSpec
from tc66c_server.emulator import EmulatorHost
from tc66c_server.pairs import pair_result
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore

from .apihelpers import BASE_URL, assert_error

FIGURES = ("efficiency", "energy_in_wh", "energy_out_wh", "loss_w", "cable_resistance_ohm")


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    hosts = [
        EmulatorHost(tmp_path / f"tty-{meter_id}", reply_delay_s=0.0, seed=seed)
        for seed, meter_id in ((5, "a"), (6, "b"))
    ]
    for host in hosts:
        host.start()
    bench = BenchConfig(
        meters=tuple(MeterSpec(i, str(h.link), 0.1) for i, h in zip("ab", hosts, strict=True)),
        pairs=(PairSpec("a-b", "a", "b"),),
    )
    try:
        yield Runtime(ServerSettings(), bench, SampleStore(None))
    finally:
        for host in hosts:
            host.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url=BASE_URL) as test_client:
        wait_for(lambda: all(m.latest is not None and m.state.connected for m in runtime))
        yield test_client


def test_a_pair_recording_keeps_both_meters_and_adds_the_pairs_figures(
    client: TestClient, runtime: Runtime
) -> None:
    created = client.post("/api/recordings", json={"name": "converter X", "pair": "a-b"})
    assert created.status_code == 201, created.text
    body = created.json()
    rid = body["id"]
    assert (body["pair"], body["meter"], body["meters"], body["running"]) == (
        "a-b", "a", ["a", "b"], True,
    )  # fmt: skip
    assert set(FIGURES) <= set(body["pair_result"])
    wait_for(lambda: client.get(f"/api/recordings/{rid}").json()["sample_count"] >= 15)
    stopped = client.post(f"/api/recordings/{rid}/stop")
    assert stopped.status_code == 200
    runtime.store.flush()
    summary = client.get(f"/api/recordings/{rid}").json()
    row = runtime.recordings.row(rid)
    start, end = row.start_ts, row.end_ts
    assert end is not None
    store = runtime.store
    rows = [
        [(r[0], r[1], r[2], r[3]) for r in store.range(start, end, meter=m)] for m in ("a", "b")
    ]
    assert len(rows[0]) >= 15 and len(rows[1]) >= 15
    expected = pair_result(
        rows[0], rows[1], start_ts=start, end_ts=end, gap_s=2.0, align_s=0.1, max_points=2
    )
    figures = summary["pair_result"]
    for name in FIGURES:
        assert figures[name] == getattr(expected, name), name
    assert figures["energy_in_wh"] > 0 and figures["energy_out_wh"] > 0
    # Both meters' spans are kept beyond retention, and it is listed under either meter.
    assert ("a", start, end) in runtime.recordings.kept_spans(time.time())
    assert ("b", start, end) in runtime.recordings.kept_spans(time.time())
    for meter in ("a", "b"):
        listed = client.get(f"/api/recordings?meter={meter}").json()["recordings"]
        assert [(r["id"], r["pair"]) for r in listed] == [(rid, "a-b")]
        assert listed[0]["pair_result"] == figures


def test_a_pair_recording_survives_a_retention_prune_on_both_meters(
    client: TestClient, runtime: Runtime
) -> None:
    rid = client.post("/api/recordings", json={"name": "cable Y", "pair": "a-b"}).json()["id"]
    wait_for(lambda: client.get(f"/api/recordings/{rid}").json()["sample_count"] >= 5)
    client.post(f"/api/recordings/{rid}/stop")
    runtime.store.flush()
    row = runtime.recordings.row(rid)
    assert row.end_ts is not None
    kept = {m: runtime.store.count(row.start_ts, row.end_ts, meter=m) for m in ("a", "b")}
    assert min(kept.values()) >= 5
    # An hour later, with a 1 minute retention: the recording's samples stay on both meters.
    runtime.store.retention_s = 60
    runtime.store.prune_expired(time.time() + 3600)
    assert {m: runtime.store.count(row.start_ts, row.end_ts, meter=m) for m in "ab"} == kept


def test_a_meters_recording_has_no_pair(client: TestClient) -> None:
    body = client.post("/api/recordings", json={"name": "alone", "meter": "b"}).json()
    assert body["pair"] is None and "pair_result" not in body and "meters" not in body


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "x", "pair": "nope"}, 404, "unknown_pair"),
        ({"name": "x", "pair": 3}, 400, "invalid_parameter"),
        ({"name": "x", "pair": "a-b", "meter": "a"}, 400, "invalid_parameter"),
    ],
)
def test_a_bad_pair_is_refused_in_the_error_shape_and_starts_nothing(
    client: TestClient, body: dict[str, object], status: int, code: str
) -> None:
    assert_error(client.post("/api/recordings", json=body), status, code)
    assert client.get("/api/recordings").json()["recordings"] == []


def test_a_pair_recording_is_busy_while_its_input_meter_records(client: TestClient) -> None:
    first = client.post("/api/recordings", json={"name": "in", "meter": "a"}).json()["id"]
    details = assert_error(
        client.post("/api/recordings", json={"name": "pair", "pair": "a-b"}), 409, "recording_busy"
    )
    assert details["recording"] == first
