"""A real Prometheus scraping two real servers (two benches) every second.

What Prometheus stored is checked against what each server measured: the voltage of a
scrape is the voltage of the sample that scrape saw (``tc66c_last_sample_timestamp_seconds``
of the same scrape names it), and ``rate()`` of the energy counter over a window is the
average power of the server's own samples over the same window.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx2 as httpx
import pytest

from tc66c_server import quantities as q
from tests.promhelpers import Prometheus, promtool_check
from tests.serverproc import Server, start_server

pytestmark = pytest.mark.e2e

RATE_WINDOW_S = 8


@dataclass
class Fleet:
    benches: dict[str, Server]
    prometheus: Prometheus


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fleet")
    benches: dict[str, Server] = {}
    prometheus = None
    try:
        # Bench a at 10 Hz (the figures checked), bench b at the default 1 Hz.
        benches["a"] = start_server("--demo", "--interval", "0.1", "--data-dir", str(root / "a"))
        benches["b"] = start_server("--demo", "--data-dir", str(root / "b"))
        targets = {name: server.url.removeprefix("http://") for name, server in benches.items()}
        prometheus = Prometheus(root, targets)
        # Two scrapes of both benches with a sample, and enough history for the rate window.
        prometheus.wait(
            f"count_over_time(tc66c_voltage_volts[{RATE_WINDOW_S + 3}s]) >= {RATE_WINDOW_S + 2}",
            lambda result: {r["metric"]["bench"] for r in result} == {"a", "b"},
        )
        yield Fleet(benches, prometheus)
    finally:
        if prometheus is not None:
            prometheus.stop()
        for server in benches.values():
            server.stop()


def samples_of(server: Server, meter: str) -> list[tuple[float, float, float]]:
    """(Unix time, voltage, power) of the meter's samples of the last minute, oldest first."""
    time.sleep(1.5)  # the store commits once a second: let the newest samples land
    points = httpx.get(f"{server.url}/api/meters/{meter}/data/1m", timeout=10).json()["data"]
    return [
        (datetime.fromisoformat(p["timestamp"]).timestamp(), p["voltage"], p["power"])
        for p in points
    ]


def test_both_benches_appear_with_their_labels(fleet: Fleet) -> None:
    info = fleet.prometheus.query("tc66c_meter_info")
    seen = {(r["metric"]["bench"], r["metric"]["meter"]) for r in info}
    assert seen == {("a", "in"), ("a", "out"), ("b", "in"), ("b", "out")}
    instances = {r["metric"]["bench"]: r["metric"]["instance"] for r in info}
    assert instances == {k: s.url.removeprefix("http://") for k, s in fleet.benches.items()}
    assert all(r["metric"]["transport"] == "demo" and r["metric"]["serial"] for r in info)
    pairs = fleet.prometheus.query("tc66c_pair_efficiency_ratio")
    assert {r["metric"]["bench"] for r in pairs} == {"a", "b"}
    assert all(0.5 < float(r["value"][1]) < 1.0 for r in pairs)


def test_the_stored_voltage_is_the_voltage_of_the_sample_that_scrape_saw(fleet: Fleet) -> None:
    selector = '{bench="a",meter="in"}[6s]'
    volts = fleet.prometheus.query(f"tc66c_voltage_volts{selector}")[0]["values"]
    stamps = fleet.prometheus.query(f"tc66c_last_sample_timestamp_seconds{selector}")[0]["values"]
    by_scrape = {t: float(v) for t, v in volts}
    pairs = [(by_scrape[t], float(ts)) for t, ts in stamps if t in by_scrape]
    assert len(pairs) >= 4
    served = samples_of(fleet.benches["a"], "in")
    for volt, ts in pairs:
        same = [v for t, v, _ in served if abs(t - ts) < 2e-6]  # ISO times are to the µs
        assert len(same) == 1, f"no sample at {ts}"
        assert abs(volt - same[0]) <= 1 / q.VOLTAGE.scale


def trapezoid_ws(samples: list[tuple[float, float, float]], start: float, end: float) -> float:
    """The integral of power (W·s) over ``start..end``, power linear between samples."""
    total = 0.0
    for (t0, _, p0), (t1, _, p1) in itertools.pairwise(samples):
        lo, hi = max(t0, start), min(t1, end)
        if hi <= lo:
            continue
        slope = (p1 - p0) / (t1 - t0)
        total += (2 * p0 + slope * (lo - t0 + hi - t0)) / 2 * (hi - lo)
    return total


def test_rate_of_the_energy_counter_is_the_average_power_over_the_window(fleet: Fleet) -> None:
    series = '{bench="a",meter="in"}'
    raw = fleet.prometheus.query(f"tc66c_energy_joules_total{series}[{RATE_WINDOW_S}s]")
    scrapes = [float(t) for t, _ in raw[0]["values"]]
    at = scrapes[-1]  # evaluate at the last scrape: the window holds exactly these scrapes
    rate = fleet.prometheus.query(f"rate(tc66c_energy_joules_total{series}[{RATE_WINDOW_S}s])", at)
    first, last = scrapes[0], scrapes[-1]
    assert last - first >= RATE_WINDOW_S - 2
    average_w = trapezoid_ws(samples_of(fleet.benches["a"], "in"), first, last) / (last - first)
    assert average_w > 0
    assert float(rate[0]["value"][1]) == pytest.approx(average_w, rel=0.05)


def test_the_live_exposition_passes_promtool(fleet: Fleet) -> None:
    for server in fleet.benches.values():
        response = httpx.get(f"{server.url}/metrics", timeout=5)
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        result = promtool_check(response.text)
        assert result.returncode == 0, result.stdout + result.stderr
