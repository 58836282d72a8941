"""UM meters over a real pty (the emulator speaking the UM protocol) and over a real socket."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tc66c_server import um_protocol as um
from tc66c_server.emulator import EmulatorHost, FaultKind
from tc66c_server.emulator.signal import BenchSession
from tc66c_server.emulator.um_device import VirtualUmMeter
from tc66c_server.errors import (
    BadReplyError,
    MeterDisconnectedError,
    MeterTimeoutError,
    PortBusyError,
    PortNotFoundError,
)
from tc66c_server.links import SocketLink
from tc66c_server.meter_models import AutoMeter, open_meter
from tc66c_server.transport import SerialMeter
from tc66c_server.um_transport import UmMeter


@pytest.fixture(params=["um24c", "um25c", "um34c"])
def um_emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmulatorHost]:
    host = EmulatorHost(tmp_path / "rfcomm0", reply_delay_s=0.0, seed=3, model=request.param)
    host.start()
    try:
        yield host
    finally:
        host.stop()


@pytest.fixture
def um25c(tmp_path: Path) -> Iterator[EmulatorHost]:
    host = EmulatorHost(tmp_path / "rfcomm0", reply_delay_s=0.0, seed=3, model="um25c")
    host.start()
    try:
        yield host
    finally:
        host.stop()


def open_um(host: EmulatorHost, model: str = "auto", timeout_s: float = 0.5) -> UmMeter:
    meter = UmMeter(str(host.link), model, timeout_s=timeout_s)
    meter.open()
    return meter


def test_each_model_reads_what_the_emulator_sent(um_emulator: EmulatorHost) -> None:
    meter = open_um(um_emulator, um_emulator.model)
    try:
        reading = meter.read()
        assert reading == um_emulator.meter.last_reading
        assert reading.product == um_emulator.model.upper()
        assert meter.model is um.MODELS[um_emulator.model]
    finally:
        meter.close()


def test_a_meter_of_another_model_than_configured_is_a_bad_reply(um25c: EmulatorHost) -> None:
    meter = open_um(um25c, "um24c")
    try:
        with pytest.raises(BadReplyError):
            meter.read()
    finally:
        meter.close()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FaultKind.RANDOM, BadReplyError),
        (FaultKind.TRUNCATE, MeterTimeoutError),
        (FaultKind.SILENCE, MeterTimeoutError),
    ],
)
def test_each_fault_is_reported_then_the_next_read_succeeds(
    um_emulator: EmulatorHost, fault: FaultKind, error: type[Exception]
) -> None:
    meter = open_um(um_emulator, timeout_s=0.3)
    try:
        um_emulator.inject(fault)
        with pytest.raises(error):
            meter.read()
        assert meter.read() == um_emulator.meter.last_reading
    finally:
        meter.close()


def test_extra_bytes_after_a_reply_do_not_corrupt_the_next_one(um25c: EmulatorHost) -> None:
    meter = open_um(um25c)
    try:
        um25c.inject(FaultKind.EXTRA, count=3)
        for _ in range(4):
            assert meter.read() == um25c.meter.last_reading
    finally:
        meter.close()


def test_unplug_is_a_disconnection_and_replug_reads_again(um25c: EmulatorHost) -> None:
    meter = open_um(um25c)
    assert meter.read() is not None
    um25c.unplug()
    with pytest.raises(MeterDisconnectedError):
        meter.read()
    assert not meter.is_open and not os.path.lexists(um25c.link)
    um25c.replug()
    meter.open()
    try:
        assert meter.read() == um25c.meter.last_reading
    finally:
        meter.close()


def test_group_screen_and_setting_commands_reach_the_meter(um25c: EmulatorHost) -> None:
    meter = open_um(um25c)
    try:
        meter.select_group(9)
        meter.next_page()
        meter.next_page()
        meter.previous_page()
        meter.rotate()
        meter.set_brightness(2)
        meter.set_screen_timeout(7)
        meter.set_threshold(0.25)
        meter.clear_group()
        reading = meter.read()  # the reply follows the commands: they were all handled
    finally:
        meter.close()
    state = um25c.meter
    assert isinstance(state, VirtualUmMeter)
    assert state.rotation == 1
    assert reading.um is not None
    assert (reading.um.selected_group, reading.um.screen_index) == (9, 1)
    assert (reading.um.screen_brightness, reading.um.screen_timeout_min) == (2, 7)
    assert reading.um.threshold_current == 0.25
    assert state.commands["clear_group"] == 1


def test_clearing_a_group_zeroes_it_and_selecting_keeps_the_others() -> None:
    clock = [0.0]
    device = VirtualUmMeter(BenchSession(5), lambda: clock[0], um.UM25C)
    clock[0] = 60.0  # a minute of charging into group 0
    device.feed(um.select_group(3))
    clock[0] = 90.0
    reading = um.decode_reply(device.feed(um.REQUEST_DATA)[0].data)
    assert reading.um is not None
    group0, group3 = reading.um.groups[0], reading.um.groups[3]
    assert group0[1] > 0 and group3[1] > 0
    device.feed(um.CLEAR_GROUP)
    reading = um.decode_reply(device.feed(um.REQUEST_DATA)[0].data)
    assert reading.um is not None
    assert reading.um.groups[3] == (0, 0) and reading.um.groups[0] == group0


def _serve_socket(sock: socket.socket, device: VirtualUmMeter, stop: threading.Event) -> None:
    sock.settimeout(0.05)
    while not stop.is_set():
        try:
            data = sock.recv(64)
        except TimeoutError:
            continue
        except OSError:
            return
        if not data:
            return
        for reply in device.feed(data):
            sock.sendall(reply.data[:50])  # RFCOMM may cut a reply anywhere
            sock.sendall(reply.data[50:])


def test_a_um_meter_reads_over_a_stream_socket_like_rfcomm() -> None:
    ours, theirs = socket.socketpair()
    device = VirtualUmMeter(BenchSession(2), lambda: 12.0, um.UM34C)
    stop = threading.Event()
    server = threading.Thread(target=_serve_socket, args=(theirs, device, stop), daemon=True)
    server.start()
    meter = UmMeter("bt:00:11:22:33:44:55", "um34c", timeout_s=1.0)
    meter.attach(SocketLink(ours, "bt:00:11:22:33:44:55"))
    try:
        assert meter.read() == device.last_reading
        meter.select_group(4)
        reading = meter.read()
        assert reading.um is not None and reading.um.selected_group == 4
        theirs.close()
        stop.set()
        with pytest.raises(MeterDisconnectedError):
            meter.read()
    finally:
        stop.set()
        meter.close()
        server.join(2)


def test_a_malformed_bluetooth_address_is_refused_clearly() -> None:
    with pytest.raises(PortNotFoundError) as caught:
        UmMeter("bt:12:34", timeout_s=0.2).open()
    assert "AA:BB:CC:DD:EE:FF" in caught.value.describe()


def test_a_bluetooth_address_without_bluetooth_here_is_a_clear_error() -> None:
    meter = UmMeter("bt:00:11:22:33:44:55", timeout_s=0.5)
    with pytest.raises((PortNotFoundError, PortBusyError)) as caught:
        meter.open()
    text = caught.value.describe()
    if not hasattr(socket, "AF_BLUETOOTH"):
        assert "rfcomm bind 0 00:11:22:33:44:55" in text
    assert "failed to open:bt:00:11:22:33:44:55" in text


def test_auto_detects_a_um_meter_on_a_serial_port(um25c: EmulatorHost) -> None:
    meter = AutoMeter(str(um25c.link), timeout_s=0.3)
    meter.open()
    try:
        assert isinstance(meter.inner, UmMeter)
        assert meter.read().product == "UM25C"
    finally:
        meter.close()


def test_auto_detects_a_tc66c(emulator: EmulatorHost) -> None:
    meter = AutoMeter(str(emulator.link), timeout_s=0.3)
    meter.open()
    try:
        assert isinstance(meter.inner, SerialMeter)
        meter.check_mode()
        assert meter.read() == emulator.meter.last_reading
    finally:
        meter.close()


def test_auto_on_a_missing_port_fails_at_once_with_the_seed_message(tmp_path: Path) -> None:
    meter = open_meter(str(tmp_path / "ttyACM9"))
    with pytest.raises(PortNotFoundError, match="failed to open:"):
        meter.open()


def test_a_port_where_nothing_answers_reports_the_tc66c_timeout() -> None:
    master, slave = os.openpty()
    try:
        meter = AutoMeter(os.ttyname(slave), timeout_s=0.2)
        with pytest.raises(MeterTimeoutError, match="query"):
            meter.open()
        assert meter.inner is None
    finally:
        os.close(master)
        os.close(slave)


def test_unknown_model_names_are_refused() -> None:
    with pytest.raises(ValueError, match="um24c"):
        open_meter("/dev/null", "um99")
