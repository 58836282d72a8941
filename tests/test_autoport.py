"""Several meters on ``port: auto``: which detected TC66C each one takes.

The ordering is pure (:mod:`tc66c_server.autoport`); the exclusivity is the transport's lock
on the port, exercised here on real emulator ptys presented as detected USB meters.
"""

from __future__ import annotations

import functools
import pickle
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tc66c_server.api.payloads import usb_payload
from tc66c_server.autoport import AutoChoice, AutoPolicy, auto_candidates, auto_policies
from tc66c_server.bench_config import BenchConfig, MeterSpec
from tc66c_server.emulator import EmulatorHost, FaultKind
from tc66c_server.errors import PortBusyError, PortNotFoundError
from tc66c_server.meter_models import meter_factory
from tc66c_server.poller import LinkState, Poller
from tc66c_server.ports import PortInfo
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore
from tc66c_server.transport import SerialMeter


def meter(device: str, location: str | None, serial: str | None = None) -> PortInfo:
    return PortInfo(device, "TC66C", "RuiDeng", 0x28E9, 0x5000, True, serial, location)


OTHER = PortInfo("/dev/ttyUSB0", "FTDI", "FTDI", 0x0403, 0x6001, False, "FT1", "1-1.1")
#: Three meters, listed by the OS in device order, not in socket order.
ACM0 = meter("/dev/ttyACM0", "1-1.10:1.0", "B")
ACM1 = meter("/dev/ttyACM1", "1-1.2:1.0", "A")
ACM2 = meter("/dev/ttyACM2", "1-1.9:1.0", "C")
DETECTED = [OTHER, ACM0, ACM1, ACM2]


def devices(ports: list[PortInfo]) -> list[str]:
    return [p.device for p in ports]


def test_auto_meters_are_ordered_by_usb_location_with_numbers_compared_as_numbers() -> None:
    order = auto_candidates(DETECTED, AutoPolicy(rank=0))
    assert devices(order) == ["/dev/ttyACM1", "/dev/ttyACM2", "/dev/ttyACM0"]


def test_the_order_does_not_depend_on_how_the_os_lists_the_ports() -> None:
    assert auto_candidates(reversed(DETECTED), AutoPolicy(1)) == auto_candidates(
        DETECTED, AutoPolicy(1)
    )


def test_each_rank_prefers_its_own_meter_and_falls_back_on_the_others() -> None:
    firsts = [auto_candidates(DETECTED, AutoPolicy(rank))[0].device for rank in range(3)]
    assert firsts == ["/dev/ttyACM1", "/dev/ttyACM2", "/dev/ttyACM0"]
    assert devices(auto_candidates(DETECTED, AutoPolicy(1))) == [
        "/dev/ttyACM2",
        "/dev/ttyACM1",
        "/dev/ttyACM0",
    ]


def test_a_rank_beyond_the_meters_found_still_tries_every_one_in_order() -> None:
    assert devices(auto_candidates([ACM0, ACM1], AutoPolicy(5))) == [
        "/dev/ttyACM1",
        "/dev/ttyACM0",
    ]


def test_a_reconnecting_meter_prefers_the_port_it_had() -> None:
    order = auto_candidates(DETECTED, AutoPolicy(0), previous=ACM0)
    assert devices(order) == ["/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyACM2"]


def test_a_meter_replugged_under_another_device_name_is_recognised_by_its_usb_identity() -> None:
    was = meter("/dev/ttyACM7", "1-1.10:1.0", "B")  # ACM0 before it was replugged
    assert auto_candidates(DETECTED, AutoPolicy(1), previous=was)[0] == ACM0


def test_a_previous_port_that_is_gone_is_not_tried() -> None:
    order = auto_candidates([ACM1, ACM2], AutoPolicy(1), previous=ACM0)
    assert devices(order) == ["/dev/ttyACM2", "/dev/ttyACM1"]


def test_without_usb_location_meters_sort_by_usb_serial_then_device() -> None:
    ports = [meter("/dev/ttyACM3", None, None), meter("/dev/ttyACM4", None, "A")]
    assert devices(auto_candidates(ports, AutoPolicy())) == ["/dev/ttyACM4", "/dev/ttyACM3"]


def test_ports_named_by_other_meters_are_never_candidates() -> None:
    order = auto_candidates(DETECTED, AutoPolicy(0, reserved=("/dev/ttyACM1",)))
    assert devices(order) == ["/dev/ttyACM2", "/dev/ttyACM0"]


def test_only_likely_meters_are_candidates() -> None:
    assert auto_candidates([OTHER], AutoPolicy()) == []


def test_policies_rank_the_auto_meters_of_a_bench_and_reserve_the_explicit_ports() -> None:
    policies = auto_policies(["auto", "/dev/ttyACM5", "auto", "demo"])
    reserved = ("/dev/ttyACM5", "demo")
    assert policies == [AutoPolicy(0, reserved), None, AutoPolicy(1, reserved), None]


@pytest.fixture
def two_meters(tmp_path: Path) -> Iterator[list[EmulatorHost]]:
    hosts = [EmulatorHost(tmp_path / f"tty{i}", reply_delay_s=0.0, seed=i) for i in (1, 2)]
    for host in hosts:
        host.start()
    try:
        yield hosts
    finally:
        for host in hosts:
            host.stop()


def detected(hosts: list[EmulatorHost]) -> list[PortInfo]:
    """The emulators' ptys as the OS would list two USB meters (socket 2 before socket 1)."""
    return [meter(h.pts_path, f"1-1.{2 - i}", f"U{i}") for i, h in enumerate(hosts)]


def auto_meter(rank: int, ports: list[PortInfo]) -> SerialMeter:
    """A transport on ``auto`` of this rank, which finds ``ports`` detected."""
    return SerialMeter("auto", auto=AutoChoice(AutoPolicy(rank)), lister=lambda: ports)


def test_two_auto_meters_open_two_different_meters_and_a_third_finds_none_free(
    two_meters: list[EmulatorHost],
) -> None:
    ports = detected(two_meters)
    opened = [
        SerialMeter("auto", auto=AutoChoice(AutoPolicy(0)), lister=lambda: ports) for _ in range(3)
    ]
    try:
        # All three prefer the same port (rank 0): the lock sends the second elsewhere.
        opened[0].open()
        opened[1].open()
        assert opened[0].port == two_meters[1].pts_path  # location 1-1.1 comes first
        assert opened[1].port == two_meters[0].pts_path
        serials = {m.read().serial for m in opened[:2]}
        assert len(serials) == 2
        assert opened[0].usb is not None and opened[0].usb.usb_serial == "U1"
        with pytest.raises(PortBusyError) as busy:
            opened[2].open()
        assert str(busy.value) == "failed to open:auto"
        assert "in use by another meter" in busy.value.hint
        # One lets go: the waiting one takes that port, and only that one.
        opened[0].close()
        opened[2].open()
        assert opened[2].port == two_meters[1].pts_path
    finally:
        for m in opened:
            m.close()


def test_an_auto_meter_reopens_the_port_it_had_after_a_replug(
    two_meters: list[EmulatorHost],
) -> None:
    ports = detected(two_meters)
    second = auto_meter(1, ports)
    try:
        second.open()
        assert second.port == two_meters[0].pts_path
        second.close()
        # Its rank now points elsewhere (the bench changed): it still goes back to its own.
        second.auto.policy = AutoPolicy(0)
        second.open()
        assert second.port == two_meters[0].pts_path
    finally:
        second.close()


def test_auto_with_no_meter_plugged_says_failed_to_open_auto() -> None:
    with pytest.raises(PortNotFoundError) as info:
        SerialMeter("auto", lister=lambda: [OTHER]).open()
    assert str(info.value) == "failed to open:auto"


def test_an_explicit_port_reports_no_usb_identity_for_a_pty(
    two_meters: list[EmulatorHost],
) -> None:
    with SerialMeter(str(two_meters[0].link)) as port:
        assert port.usb is None and port.read().product == "TC66"


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_poller_on_auto_reports_the_usb_identity_and_keeps_its_meter_on_reconnect(
    two_meters: list[EmulatorHost],
) -> None:
    ports = [detected(two_meters)[0]]  # only the meter in socket 1-1.2 is plugged in
    states: list[LinkState] = []
    choice = AutoChoice(AutoPolicy(0))
    poller = Poller(
        "auto",
        0.1,
        on_sample=lambda sample: None,
        on_state=states.append,
        meter_factory=functools.partial(SerialMeter, auto=choice, lister=lambda: ports),
    )
    poller.start()
    try:
        wait_until(lambda: poller.state.connected)
        state = poller.state
        assert state.port == two_meters[0].pts_path
        assert (state.usb_serial, state.usb_location) == ("U0", "1-1.2")
        assert usb_payload(state) == {"serial": "U0", "location": "1-1.2"}
        # The meter of socket 1-1.1, which rank 0 prefers, is plugged in; then the first
        # meter stops answering and the poller reopens: it goes back to the meter it had.
        ports[:] = detected(two_meters)
        two_meters[0].inject(FaultKind.SILENCE, 4)
        wait_until(lambda: poller.counters.reconnects >= 1 and poller.state.connected)
        assert poller.state.port == two_meters[0].pts_path
        assert poller.state.usb_serial == "U0"
    finally:
        poller.stop()
    assert usb_payload(LinkState()) is None


def test_the_bench_gives_auto_meters_their_rank_and_updates_it_when_ports_change() -> None:
    bench = BenchConfig(meters=(MeterSpec("a", "auto", 1.0), MeterSpec("b", "auto", 1.0)))
    runtime = Runtime(ServerSettings(), bench, SampleStore(None))
    try:
        assert [m.auto for m in runtime] == [AutoPolicy(0), AutoPolicy(1)]
        runtime.apply_config({"port": "/dev/ttyACM7"}, "a")
        assert [m.auto for m in runtime] == [None, AutoPolicy(0, ("/dev/ttyACM7",))]
        runtime.add_meter({"id": "c", "port": "auto"})
        assert runtime.meter("c").auto == AutoPolicy(1, ("/dev/ttyACM7",))
    finally:
        runtime.stop()


@pytest.mark.parametrize("model", ["auto", "tc66c"])
def test_a_pollers_links_share_one_auto_choice_whatever_the_model(model: str) -> None:
    choice = AutoChoice(AutoPolicy(1))
    factory = meter_factory(model, auto=choice)
    links = [factory("auto"), factory("auto")]
    assert all(getattr(link, "auto", None) is choice for link in links)
    assert pickle.loads(pickle.dumps(factory)).auto == choice  # it crosses into the child
