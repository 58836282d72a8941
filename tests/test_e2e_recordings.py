"""End to end: recordings in the real server process against an emulated bench scene.

The emulator runs the bench scene (idle, a phone charging through 5/9/12/20 V, idle) at
``SPEED`` times real time and stops after one cycle, and logs the wall time of every
reading it serves, so the server's results are checked against the meter's own values.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tc66c_server.emulator import EmulatorHost
from tc66c_server.emulator.signal import BenchSession
from tc66c_server.reading import Reading
from tc66c_server.store import SampleStore
from tc66c_server.timefmt import parse_iso

from .recordinghelpers import PHONE_OFF_S, PHONE_ON_S
from .serverproc import ROOT, Server, start_server

pytestmark = pytest.mark.e2e
SPEED = 10.0
#: The scene stops after one cycle: the phone is gone and the charger idles for good.
SCENE_END_S = 179.9


class OneCharge:
    """The bench scene's first cycle, then idle; remembers when each reading was served."""

    def __init__(self) -> None:
        self.session = BenchSession(5)
        self.served: list[tuple[float, Reading]] = []
        self._lock = threading.Lock()

    def reading_at(self, t_s: float) -> Reading:
        reading = self.session.reading_at(min(t_s, SCENE_END_S))
        with self._lock:
            self.served.append((time.time(), reading))
        return reading

    def energy_wh(self, start: float, end: float) -> float:
        with self._lock:
            points = [(ts, r.power) for ts, r in self.served if start <= ts <= end + 0.05]
        return (
            sum((p0 + p1) / 2 * (t1 - t0) for (t0, p0), (t1, p1) in itertools.pairwise(points))
            / 3600
        )


class SceneClock:
    """The scene's clock: stands at 0 (idle) until :meth:`go`, then runs ``SPEED`` times
    faster than real time, so the scene starts once the server is up."""

    def __init__(self) -> None:
        self.origin: float | None = None
        self.wall0 = 0.0

    def __call__(self) -> float:
        return 0.0 if self.origin is None else (time.monotonic() - self.origin) * SPEED

    def go(self) -> float:
        self.origin, self.wall0 = time.monotonic(), time.time()
        return self.wall0


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[tuple[EmulatorHost, OneCharge, SceneClock]]:
    source = OneCharge()
    clock = SceneClock()
    host = EmulatorHost(tmp_path / "ttyScene", reply_delay_s=0.0, session=source, clock=clock)
    host.start()
    try:
        yield host, source, clock
    finally:
        host.stop()


def serve(link: Path, data_dir: Path, *extra: str) -> Server:
    data_dir.mkdir(exist_ok=True)
    config = data_dir / "config.json"
    if not config.exists():
        config.write_text(json.dumps({"auto_record_end_delay_s": 1.0}))
    return start_server(
        "--device", str(link), "--interval", "0.1", "--data-dir", str(data_dir), *extra
    )


def recordings(server: Server) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = httpx.get(f"{server.url}/api/recordings", timeout=5).json()[
        "recordings"
    ]
    return body


def wait(condition: Any, timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_auto_record_makes_exactly_one_recording_of_a_charge(
    scene: tuple[EmulatorHost, OneCharge, SceneClock], tmp_path: Path
) -> None:
    host, source, clock = scene
    server = serve(host.link, tmp_path / "data", "--auto-record")
    try:
        wait(lambda: httpx.get(f"{server.url}/api/status").json()["connected"])
        wall0 = clock.go()
        done = wait(lambda: [r for r in recordings(server) if r["end"] is not None], 30)
        time.sleep(1.0)
        assert len(recordings(server)) == 1
        (rec,) = done
        start, end = parse_iso(rec["start"]), parse_iso(rec["end"])
        assert start == pytest.approx(wall0 + PHONE_ON_S / SPEED, abs=2.0)
        assert end == pytest.approx(wall0 + PHONE_OFF_S / SPEED, abs=2.0)
        assert rec["auto"] is True and rec["end_reason"] == "current_below_threshold"
        assert rec["energy_wh"] == pytest.approx(source.energy_wh(start, end), rel=0.01)
        assert rec["pd_levels"] == [5, 9, 12, 20]
        notes = httpx.get(f"{server.url}/api/annotations?period=5m").json()["annotations"]
        kinds = [a["kind"] for a in notes]
        assert kinds.count("pd_level") == 4
        assert {"recording_started", "recording_stopped"} <= set(kinds)
    finally:
        server.stop()


def test_a_restart_in_the_middle_resumes_the_recording(
    scene: tuple[EmulatorHost, OneCharge, SceneClock], tmp_path: Path
) -> None:
    host, _, clock = scene
    data = tmp_path / "data"
    server = serve(host.link, data, "--auto-record")
    try:
        wait(lambda: httpx.get(f"{server.url}/api/status").json()["connected"])
        wall0 = clock.go()
        (running,) = wait(lambda: [r for r in recordings(server) if r["sample_count"] > 5], 30)
    finally:
        server.stop()
    server = serve(host.link, data, "--auto-record")
    try:
        (rec,) = wait(lambda: [r for r in recordings(server) if r["end"] is not None], 30)
        assert rec["id"] == running["id"]
        assert rec["end_reason"] == "current_below_threshold"
        assert parse_iso(rec["end"]) == pytest.approx(wall0 + PHONE_OFF_S / SPEED, abs=2.0)
        assert rec["sample_count"] > running["sample_count"]
    finally:
        server.stop()


def test_an_open_recording_left_too_long_is_closed_as_interrupted(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = serve(emulator.link, data)
    try:
        started = httpx.post(f"{server.url}/api/recordings", json={"name": "left"}).json()
        wait(lambda: recordings(server)[0]["sample_count"] > 3)
    finally:
        server.stop()
    # As if the server had been stopped twenty minutes ago: nothing stored since then.
    with SampleStore(data / "samples.sqlite3") as store:
        store.prune(time.time() + 60)
    with sqlite3.connect(data / "recordings.sqlite3") as conn:
        (state,) = conn.execute("SELECT state FROM recordings").fetchone()
        moved = json.loads(state)
        for key in ("start_ts", "last_ts", "load_ts"):
            if moved[key] is not None:
                moved[key] -= 1200
        conn.execute(
            "UPDATE recordings SET state = ?, start_ts = start_ts - 1200", (json.dumps(moved),)
        )
    server = serve(emulator.link, data)
    try:
        (rec,) = wait(lambda: [r for r in recordings(server) if r["end"] is not None])
        assert rec["id"] == started["id"] and rec["end_reason"] == "interrupted"
    finally:
        server.stop()


def test_record_start_and_stop_from_the_command_line(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    server = serve(emulator.link, tmp_path / "data")
    try:

        def record(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "tc66c_server", "record", *args, "--url", server.url],
                cwd=ROOT, capture_output=True, text=True, timeout=30,
            )  # fmt: skip

        started = record("start", "--name", "from the shell", "--stop-after-s", "600")
        assert started.returncode == 0, started.stderr
        assert "“from the shell” on m1" in started.stdout and "running" in started.stdout
        again = record("start", "--name", "twice")
        assert again.returncode == 1 and "recording already" in again.stderr
        time.sleep(0.5)
        stopped = record("stop")
        assert stopped.returncode == 0, stopped.stderr
        assert "ended (manual)" in stopped.stdout
        none = record("stop")
        assert none.returncode == 1 and "no recording is running" in none.stderr
    finally:
        server.stop()


def test_the_meters_own_recording_is_downloaded_placed_in_time_and_listed(
    tmp_path: Path,
) -> None:
    meter_time = [0.0]
    with EmulatorHost(
        tmp_path / "ttyRec", reply_delay_s=0.0, seed=5, record_interval_s=10.0,
        clock=lambda: meter_time[0],
    ) as host:  # fmt: skip
        meter_time[0] = 100.0  # the meter has recorded for 100 s: 11 records
        data = tmp_path / "data"
        done = subprocess.run(
            [sys.executable, "-m", "tc66c_server", "download-recording", "--device",
             str(host.link), "--interval", "10", "--end", "1732000020", "--name", "offline",
             "--data-dir", str(data)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        expected = host.meter.recording()
    assert done.returncode == 0, done.stderr
    assert f"{len(expected)} records every 10 s" in done.stdout
    server = start_server("--device", str(tmp_path / "absent"), "--data-dir", str(data))
    try:
        (rec,) = recordings(server)
        assert (rec["name"], rec["imported"], rec["end_reason"]) == ("offline", True, "imported")
        assert rec["sample_count"] == len(expected)
        assert parse_iso(rec["end"]) == 1732000020.0
        assert rec["duration_s"] == 10 * (len(expected) - 1)
        assert rec["meter_counters"] is None
        rows = httpx.get(f"{server.url}/api/recordings/{rec['id']}/data").json()["data"]
        assert [r["voltage"] for r in rows] == [p.voltage for p in expected]
        assert [r["current"] for r in rows] == [p.current for p in expected]
    finally:
        server.stop()


def test_download_recording_refuses_a_bad_interval(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tc66c_server", "download-recording", "--device",
         str(tmp_path / "absent"), "--interval", "0", "--data-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2 and "interval_s must be 1 to 60 s" in done.stderr


def test_the_meters_own_recording_comes_through_the_servers_poller_process(
    emulator: EmulatorHost, tmp_path: Path
) -> None:
    server = serve(emulator.link, tmp_path / "data")
    try:
        wait(lambda: httpx.get(f"{server.url}/api/status").json()["connected"])
        url = f"{server.url}/api/meters/m1/gtrec"
        created = httpx.post(url, json={"interval_s": 2, "name": "offline"}, timeout=90)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["imported"] is True and body["sample_count"] >= 1
        emulator.unplug()
        wait(lambda: not httpx.get(f"{server.url}/api/status").json()["connected"])
        refused = httpx.post(url, json={"interval_s": 2}, timeout=30)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "meter_offline"
    finally:
        server.stop()
