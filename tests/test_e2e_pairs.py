"""End to end: meter pairs through the real server process and two linked emulators.

One emulator process serves an input meter and an output meter across a converter or a
cable (``--output-link``); the server polls both (``--device in=... --device out=...
--pair in:out``). The expected figures come from the emulators' ``--log`` files alone.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from reliability.procs import Server

from .apihelpers import assert_error
from .benchprocs import Bench, Reply, bench, get, intact_replies, wait_for

pytestmark = pytest.mark.e2e

INTERVAL_S = 0.1
PAIR = "in-out"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Bench]:
    with bench(tmp_path) as b:
        yield b


def start_pair(lab: Bench, model: str, *extra: str, start_s: float) -> tuple[Server, Path, Path]:
    inp, out = lab.pair(model, *extra, start_s=start_s)
    devices = [f"in={inp.link}", f"out={out.link}"]
    server = lab.server(devices, "--pair", "in:out", interval_s=INTERVAL_S)
    return server, inp.log, out.log


def wait_samples(server: Server, count: int) -> None:
    def enough() -> bool:
        return all(
            get(f"{server.url}/api/meters/{m}/status")["data_count"] >= count for m in ("in", "out")
        )

    wait_for(enough, 60, f"{count} samples from both meters")


def energy_ws(replies: list[Reply], start: float, end: float) -> float:
    """Trapezoid integral of the logged power over Unix time start..end (W·s)."""
    total = 0.0
    for a, b in itertools.pairwise(replies):
        lo, hi = max(a.t, start), min(b.t, end)
        if hi > lo:
            pa, pb = a.reading["power"], b.reading["power"]
            slope = (pb - pa) / (b.t - a.t)
            total += (pa + slope * (lo - a.t) + pa + slope * (hi - a.t)) / 2 * (hi - lo)
    return total


def logged_efficiency(in_log: Path, out_log: Path, end: float) -> float:
    """ΔE_out / ΔE_in from both logs, over the time both meters were read up to ``end``."""
    inp, out = intact_replies(in_log), intact_replies(out_log)
    start = max(inp[0].t, out[0].t)
    return energy_ws(out, start, end) / energy_ws(inp, start, end)


def logged_resistance(in_log: Path, out_log: Path, end: float) -> float:
    """Mean of (V_in − V_out) / I over the output's replies with I ≥ 0.5 A, V_in taken
    from the input reply nearest in time (both meters are polled on the same cadence)."""
    inp = [r for r in intact_replies(in_log) if r.t <= end]
    drops = []
    for reply in intact_replies(out_log):
        amps = reply.reading["current"]
        if reply.t > end or amps < 0.5:
            continue
        nearest = min(inp, key=lambda r: abs(r.t - reply.t))
        if abs(nearest.t - reply.t) < INTERVAL_S / 2:
            drops.append((nearest.reading["voltage"] - reply.reading["voltage"]) / amps)
    assert len(drops) >= 20
    return statistics.mean(drops)


def pair_window(server: Server, period: str = "5m", **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = get(f"{server.url}/api/pairs/{PAIR}/{period}", **params)
    return body


def test_converter_pair_efficiency_is_within_1_percent_of_the_emulators_logs(lab: Bench) -> None:
    # 98 s into the bench session: 20 V at ~1.2 A, then a laptop wakes up (~2.9 A).
    server, in_log, out_log = start_pair(lab, "converter", start_s=98.0)
    assert get(f"{server.url}/api/pairs") == {
        "pairs": [{"id": PAIR, "input": "in", "output": "out", "calibration": None}]
    }
    wait_samples(server, 80)
    end = time.time() - 0.5  # samples of the window are all in the store by now
    body = pair_window(server, "1m", end=str(end), max_points=30)
    assert {
        "efficiency",
        "energy_in_wh",
        "energy_out_wh",
        "loss_w",
        "cable_resistance_ohm",
        "sample_count",
        "data",
    } <= set(body)
    assert body["calibration"]["applied"] is False
    assert body["efficiency"] == pytest.approx(logged_efficiency(in_log, out_log, end), rel=0.01)
    assert 0.80 < body["efficiency"] < 0.92
    assert body["energy_out_wh"] == pytest.approx(
        body["efficiency"] * body["energy_in_wh"], rel=1e-3
    )
    assert body["loss_w"] > 0 and body["sample_count"] >= 60
    assert 2 <= len(body["data"]) <= 30 and body["count"] == len(body["data"])
    for point in body["data"]:
        assert set(point) == {"timestamp", "power_in", "power_out", "efficiency", "loss_w"}
    full = pair_window(server, "1m", end=str(end))
    assert len(full["data"]) > len(body["data"])


def test_cable_pair_resistance_is_within_2_percent_of_the_emulators_logs(lab: Bench) -> None:
    # 26 s in: a phone charging at 9 V, its current ramping from ~0.8 A.
    server, in_log, out_log = start_pair(lab, "cable", "--cable-ohm", "0.25", start_s=26.0)
    wait_samples(server, 60)
    end = time.time() - 0.5
    body = pair_window(server, end=str(end))
    expected = logged_resistance(in_log, out_log, end)
    assert expected == pytest.approx(0.25, rel=0.01)
    assert body["cable_resistance_ohm"] == pytest.approx(expected, rel=0.02)
    assert body["efficiency"] == pytest.approx(logged_efficiency(in_log, out_log, end), rel=0.01)


def test_calibration_from_a_back_to_back_run_is_applied_then_cleared(lab: Bench) -> None:
    # A cable of 0 Ω is two meters back to back: what they disagree on is calibration.
    server, _, _ = start_pair(lab, "cable", "--cable-ohm", "0", start_s=26.0)
    wait_samples(server, 30)
    url = f"{server.url}/api/pairs/{PAIR}"
    response = httpx.post(f"{url}/calibrate", json={"period": "1m"}, timeout=5)
    assert response.status_code == 200, response.text
    calibration = response.json()["calibration"]
    assert calibration["apparent_efficiency"] == pytest.approx(1.0, abs=0.01)
    assert abs(calibration["voltage_offset_v"]) < 0.01 and calibration["sample_count"] >= 10
    assert get(f"{server.url}/api/pairs")["pairs"][0]["calibration"] == calibration
    shown = pair_window(server, "1m")["calibration"]
    assert shown == {
        "applied": True,
        "apparent_efficiency": calibration["apparent_efficiency"],
        "voltage_offset_v": calibration["voltage_offset_v"],
    }
    cleared = httpx.delete(f"{url}/calibration", timeout=5)
    assert cleared.status_code == 200 and cleared.json()["calibration"] is None
    assert pair_window(server, "1m")["calibration"]["applied"] is False


def test_pairs_are_validated_added_and_deleted_with_errors_in_the_error_shape(
    lab: Bench,
) -> None:
    server, _, _ = start_pair(lab, "converter", start_s=98.0)
    pairs = f"{server.url}/api/pairs"
    assert_error(httpx.get(f"{pairs}/nope/5m", timeout=5), 404, "unknown_pair")
    assert_error(httpx.delete(f"{pairs}/nope", timeout=5), 404, "unknown_pair")
    assert_error(httpx.post(f"{pairs}/nope/calibrate", json={}, timeout=5), 404, "unknown_pair")
    for bad in (
        {"input": "in"},
        {"input": "in", "output": "ghost"},
        {"input": "in", "output": "in"},
        {"input": "in", "output": "out", "colour": "red"},
        {"id": "", "input": "in", "output": "out"},
        ["in", "out"],
    ):
        response = httpx.post(pairs, json=bad, timeout=5)
        assert_error(response, 400, "invalid_config")
    broken = httpx.post(
        pairs, content=b"{", headers={"Content-Type": "application/json"}, timeout=5
    )
    assert_error(broken, 400, "invalid_config")
    assert len(get(pairs)["pairs"]) == 1
    added = httpx.post(pairs, json={"id": "back", "input": "out", "output": "in"}, timeout=5)
    assert added.status_code == 201, added.text
    assert added.json() == {"id": "back", "input": "out", "output": "in", "calibration": None}
    assert [p["id"] for p in get(pairs)["pairs"]] == [PAIR, "back"]
    assert httpx.delete(f"{pairs}/{PAIR}", timeout=5).status_code == 204
    assert [p["id"] for p in get(pairs)["pairs"]] == ["back"]
    assert_error(httpx.get(f"{pairs}/{PAIR}/5m", timeout=5), 404, "unknown_pair")
    assert "Traceback" not in server.output()
