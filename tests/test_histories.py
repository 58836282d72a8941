"""Demo samples never enter a real store, whatever the order of port changes, and the real
history is there again after switching back or restarting with a real port.

The real meter is the emulator of ``conftest.py`` (seed 7), the demo the server's own
(seed 1): their serial numbers tell every stored sample's origin.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.emulator import BenchSession, EmulatorHost
from tc66c_server.histories import Histories, store_path
from tc66c_server.runtime import Runtime
from tc66c_server.store import SampleStore

from .apihelpers import BASE_URL, make_runtime
from .serverproc import start_server
from .storehelpers import T0, sample

REAL_SERIAL = BenchSession(7).serial
DEMO_SERIAL = BenchSession(1).serial


def wait_for(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def serials(path: Path) -> set[int]:
    """The serial numbers of the meters whose samples are stored in ``path``."""
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT serial FROM devices")}
    finally:
        conn.close()


def latest_serial(runtime: Runtime) -> int | None:
    latest = runtime.latest
    return latest.reading.serial if latest is not None else None


def switch(client: TestClient, runtime: Runtime, port: str) -> int:
    """Post the port change; return the serial its samples must carry."""
    response = client.post("/api/config", json={"port": port})
    assert response.status_code == 200, response.text
    expected = DEMO_SERIAL if port == "demo" else REAL_SERIAL
    # From the answer on, nothing of the other kind shows: no stale latest, no stale count.
    assert latest_serial(runtime) in (None, expected)
    assert client.get("/api/status").json()["demo"] is (port == "demo")
    return expected


def wait_until_samples_of(runtime: Runtime, kind: str) -> None:
    """Until the store in use holds a few samples and the latest is from ``kind``'s meter."""
    expected = DEMO_SERIAL if kind == "demo" else REAL_SERIAL
    wait_for(lambda: latest_serial(runtime) == expected)
    wait_for(lambda: runtime.store.summary()[0] >= 3)


ORDERS = [
    ["real", "demo", "real"],
    ["demo", "real", "demo"],
    ["real", "demo", "real", "demo"],
    ["demo", "real"],
]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
def test_each_kind_of_sample_goes_to_its_own_store_in_every_order(
    order: list[str], emulator: EmulatorHost, tmp_path: Path
) -> None:
    ports = {"real": str(emulator.link), "demo": "demo"}
    runtime = make_runtime(ports[order[0]], db=store_path(tmp_path, ports[order[0]]))
    real_counts: list[int] = []
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        for step, kind in enumerate(order):
            if step:
                switch(client, runtime, ports[kind])
            wait_until_samples_of(runtime, kind)
            if kind == "real":
                count = client.get("/api/status").json()["data_count"]
                assert count >= max(real_counts, default=0)  # the real history is back
                real_counts.append(count)
    assert serials(tmp_path / "samples.sqlite3") == {REAL_SERIAL}
    assert serials(tmp_path / "demo.sqlite3") == {DEMO_SERIAL}


def test_quick_port_changes_back_and_forth_never_mix_the_histories(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    real = str(emulator.link)
    runtime = make_runtime(real, db=tmp_path / "samples.sqlite3")
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        wait_for(lambda: latest_serial(runtime) == REAL_SERIAL)
        for port in ["demo", real, "demo", real, "demo"]:
            switch(client, runtime, port)
            time.sleep(0.05)  # samples of each in flight while the next change comes
        wait_for(lambda: latest_serial(runtime) == DEMO_SERIAL)
        switch(client, runtime, real)
        wait_for(lambda: latest_serial(runtime) == REAL_SERIAL)
    assert serials(tmp_path / "samples.sqlite3") == {REAL_SERIAL}
    assert serials(tmp_path / "demo.sqlite3") <= {DEMO_SERIAL}


def test_real_history_is_shown_after_a_restart_with_a_real_port(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    real = str(emulator.link)
    runtime = make_runtime(real, db=tmp_path / "samples.sqlite3")
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        wait_for(lambda: runtime.store.summary()[0] >= 3)
        switch(client, runtime, "demo")
        wait_for(lambda: latest_serial(runtime) == DEMO_SERIAL)
    with SampleStore(tmp_path / "samples.sqlite3") as real_store:
        real_count = real_store.summary()[0]

    again = make_runtime(real, db=store_path(tmp_path, real))
    with TestClient(create_app(again), base_url=BASE_URL) as client:
        assert client.get("/api/status").json()["data_count"] >= real_count >= 3
        assert latest_serial(again) == REAL_SERIAL


def test_in_memory_both_histories_are_kept_across_switches(emulator: EmulatorHost) -> None:
    real = str(emulator.link)
    runtime = make_runtime(real)  # a memory store: the demo gets its own memory store
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        wait_for(lambda: runtime.store.summary()[0] >= 3)
        real_store = runtime.store
        switch(client, runtime, "demo")
        wait_for(lambda: latest_serial(runtime) == DEMO_SERIAL)
        assert runtime.store is not real_store
        before = real_store.summary()[0]
        switch(client, runtime, real)
        assert runtime.store is real_store  # kept open, not lost
        assert client.get("/api/status").json()["data_count"] >= before
        assert latest_serial(runtime) == REAL_SERIAL


def test_switching_sets_the_retention_and_a_fresh_series_cache(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    runtime = make_runtime(str(emulator.link), db=tmp_path / "samples.sqlite3")
    with TestClient(create_app(runtime), base_url=BASE_URL) as client:
        cache = runtime.series_cache
        response = client.post("/api/config", json={"port": "demo", "data_retention_minutes": 42})
        assert response.status_code == 200
        assert runtime.store.retention_s == 42 * 60
        assert runtime.series_cache is not cache
        assert runtime.store.path == tmp_path / "demo.sqlite3"


def test_a_store_that_cannot_be_opened_is_replaced_by_one_in_memory(tmp_path: Path) -> None:
    def refuse(path: Path | None) -> SampleStore:
        raise OSError(f"cannot open {path}")

    with SampleStore(tmp_path / "samples.sqlite3") as real:
        histories = Histories(real, "/dev/ttyACM0", refuse)
        store = histories.switch("demo")
        assert store is not None and store.path is None
        store.add(sample(T0))
        store.flush()
        assert store.summary()[0] == 1
        histories.close()


@pytest.mark.e2e
def test_real_server_keeps_demo_samples_out_of_the_real_store(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    args = ["--device", str(emulator.link), "--interval", "0.1", "--data-dir", str(data)]
    server = start_server(*args)
    try:

        def latest() -> int | None:
            response = httpx.get(f"{server.url}/api/data/latest", timeout=5)
            return response.json()["serial"] if response.status_code == 200 else None

        wait_for(lambda: latest() == REAL_SERIAL)
        for port, serial in [("demo", DEMO_SERIAL), (str(emulator.link), REAL_SERIAL)] * 2:
            response = httpx.post(f"{server.url}/api/config", json={"port": port}, timeout=10)
            assert response.status_code == 200, response.text
            wait_for(lambda: latest() == serial)  # noqa: B023 (called at once)
    finally:
        server.stop()
    assert serials(data / "samples.sqlite3") == {REAL_SERIAL}
    assert serials(data / "demo.sqlite3") == {DEMO_SERIAL}
