"""``GET /metrics`` in-process against emulators: the format, the counters, pairs, removal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.bench_config import BenchConfig, MeterSpec, PairSpec
from tc66c_server.emulator import EmulatorHost
from tc66c_server.exporters.prometheus import CONTENT_TYPE
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore
from tests.apihelpers import BASE_URL, assert_error
from tests.promhelpers import parse, promtool_check, value


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[dict[str, EmulatorHost]]:
    hosts = {
        meter_id: EmulatorHost(tmp_path / f"tty-{meter_id}", reply_delay_s=0.0, seed=seed)
        for seed, meter_id in ((5, "a"), (6, "b"))
    }
    for host in hosts.values():
        host.start()
    yield hosts
    for host in hosts.values():
        host.stop()


@pytest.fixture
def runtime(emulators: dict[str, EmulatorHost], tmp_path: Path) -> Runtime:
    bench = BenchConfig(
        meters=tuple(MeterSpec(i, str(host.link), 0.1) for i, host in emulators.items()),
        pairs=(PairSpec("a-b", "a", "b"),),
    )
    settings = ServerSettings(saved_config_path=tmp_path / "config.json")
    return Runtime(settings, bench, SampleStore(None))


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url=BASE_URL) as test_client:
        wait_for(lambda: all(m.latest is not None and m.state.connected for m in runtime))
        wait_for(lambda: all(m.counters.samples >= 5 for m in runtime))
        yield test_client


def scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    return response.text


def test_metrics_is_the_text_format_that_promtool_accepts(client: TestClient) -> None:
    text = scrape(client)
    result = promtool_check(text)
    assert result.returncode == 0, result.stdout + result.stderr
    samples = parse(text)
    for meter_id in ("a", "b"):
        assert value(samples, "tc66c_link_up", meter=meter_id, model="TC66") == 1
        assert 4 < (value(samples, "tc66c_voltage_volts", meter=meter_id) or 0) < 21


def test_the_exposed_reading_is_the_meter_s_last_sample(
    client: TestClient, runtime: Runtime
) -> None:
    for meter in runtime:
        meter.stop()  # nothing changes between the two reads below
    latest = runtime.meter("a").latest
    assert latest is not None
    samples = parse(scrape(client))
    assert value(samples, "tc66c_voltage_volts", meter="a") == latest.reading.voltage
    assert value(samples, "tc66c_last_sample_timestamp_seconds", meter="a") == latest.ts


def test_the_energy_counter_is_the_store_s_energy_of_the_same_samples(
    client: TestClient, runtime: Runtime
) -> None:
    time.sleep(0.5)
    for meter in runtime:
        meter.stop()
    runtime.store.flush()
    stats = client.get("/api/meters/a/stats/1h").json()
    joules = value(parse(scrape(client)), "tc66c_energy_joules_total", meter="a")
    coulombs = value(parse(scrape(client)), "tc66c_charge_coulombs_total", meter="a")
    assert joules is not None and coulombs is not None and joules > 0
    assert joules / 3600 == pytest.approx(stats["energy_wh"], abs=2e-6)
    assert coulombs / 3.6 == pytest.approx(stats["charge_mah"], abs=2e-6)


def test_every_exchange_is_in_the_poll_duration_histogram(
    client: TestClient, runtime: Runtime
) -> None:
    for meter in runtime:
        meter.stop()
    samples = parse(scrape(client))
    polls = runtime.meter("a").counters.polls
    assert value(samples, "tc66c_poll_duration_seconds_count", meter="a") == polls
    assert value(samples, "tc66c_poll_duration_seconds_bucket", meter="a", le="+Inf") == polls
    assert value(samples, "tc66c_polls_total", meter="a", result="ok") == (
        runtime.meter("a").counters.samples
    )


def test_a_pair_shows_its_efficiency_over_the_last_minute(client: TestClient) -> None:
    time.sleep(1.2)  # a second of both meters in the store
    efficiency = value(parse(scrape(client)), "tc66c_pair_efficiency_ratio", pair="a-b")
    expected = client.get("/api/pairs/a-b/1m").json()["efficiency"]
    assert efficiency is not None and expected is not None
    assert efficiency == pytest.approx(expected, rel=0.05)


def test_a_removed_meter_leaves_the_exposition(client: TestClient) -> None:
    assert client.delete("/api/meters/b").status_code == 204
    samples = parse(scrape(client))
    assert not [labels for (_, labels) in samples if ("meter", "b") in labels]
    assert value(samples, "tc66c_pair_efficiency_ratio", pair="a-b") is None


def test_metrics_refuses_writes_in_the_error_shape(client: TestClient) -> None:
    assert_error(client.post("/metrics"), 405, "method_not_allowed")


def test_metrics_answers_only_names_the_server_accepts(client: TestClient) -> None:
    response = client.get("/metrics", headers={"Host": "attacker.example"})
    assert_error(response, 421, "host_not_allowed")
