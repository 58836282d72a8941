"""The emulator as a real serial peer: pyserial on the pty, faults, unplug and replug."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from tc66c_server import protocol
from tc66c_server.emulator import EmulatorHost, FaultKind

BAUD = 115200


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "ttyTC66"


@pytest.fixture
def host(emulator: EmulatorHost) -> EmulatorHost:
    """The shared emulator of conftest (no reply delay)."""
    return emulator


@pytest.fixture
def client(host: EmulatorHost) -> Iterator[serial.Serial]:
    port = serial.Serial(str(host.link), BAUD, timeout=1)
    yield port
    port.close()


def getva(port: serial.Serial) -> bytes:
    port.write(b"getva")
    return bytes(port.read(protocol.PACKET_LEN))


def test_link_points_to_the_pty_behind_it(host: EmulatorHost) -> None:
    assert host.link.is_symlink()
    assert os.readlink(host.link) == host.pts_path
    assert host.pts_path is not None and host.pts_path.startswith("/dev/pts/")


def test_getva_over_the_pty_returns_a_packet_that_decodes(client: serial.Serial) -> None:
    reading = protocol.decode_packet(getva(client))
    assert reading.product == "TC66"
    assert 4.5 <= reading.voltage <= 21


def test_getva_with_crlf_is_answered_too(client: serial.Serial) -> None:
    client.write(b"getva\r\n")
    protocol.decode_packet(client.read(protocol.PACKET_LEN))


def test_query_over_the_pty_answers_firm(client: serial.Serial) -> None:
    client.write(b"query")
    assert client.read(4) == b"firm"


def test_page_and_rotate_commands_change_the_meter_silently(
    host: EmulatorHost, client: serial.Serial
) -> None:
    client.write(b"nextpnextprotat")
    client.write(b"query")  # its reply proves the earlier commands were handled
    assert client.read(4) == b"firm"
    assert (host.meter.screen_page, host.meter.rotation) == (2, 1)
    assert host.requests_served == 4


def test_gtrec_streams_records_then_goes_quiet(host: EmulatorHost, client: serial.Serial) -> None:
    client.write(b"gtrec")
    client.timeout = 0.3
    data = client.read(100_000)  # returns when the line stays quiet for the timeout
    recording = protocol.decode_recording(data)
    assert recording.trailing_bytes == 0
    assert len(recording.points) >= 1
    assert all(4.5 <= p.voltage <= 21 for p in recording.points)


def test_reply_comes_after_the_configured_delay(link: Path) -> None:
    with EmulatorHost(link, reply_delay_s=0.15) as _, serial.Serial(str(link), BAUD) as port:
        port.timeout = 1
        started = time.monotonic()
        assert len(getva(port)) == protocol.PACKET_LEN
        assert time.monotonic() - started >= 0.15


def test_chunked_reply_arrives_as_64_byte_usb_packets(link: Path) -> None:
    with (
        EmulatorHost(link, reply_delay_s=0, chunk_gap_s=0.3) as _,
        serial.Serial(str(link), BAUD, timeout=1) as port,
    ):
        port.write(b"getva")
        assert len(port.read(64)) == 64
        assert port.in_waiting == 0  # the next packet is still 0.3 s away
        assert len(port.read(128)) == 128


def test_unchunked_reply_arrives_in_one_piece(link: Path) -> None:
    with (
        EmulatorHost(link, reply_delay_s=0, chunked=False, chunk_gap_s=0.3) as _,
        serial.Serial(str(link), BAUD, timeout=1) as port,
    ):
        port.write(b"getva")
        assert len(port.read(1)) == 1
        time.sleep(0.05)
        assert port.in_waiting == protocol.PACKET_LEN - 1


def test_flip_fault_makes_the_client_see_a_corrupt_packet(
    host: EmulatorHost, client: serial.Serial
) -> None:
    host.inject(FaultKind.FLIP)
    data = getva(client)
    assert len(data) == protocol.PACKET_LEN
    with pytest.raises((protocol.ChecksumError, protocol.BadMagicError)):
        protocol.decode_packet(data)
    protocol.decode_packet(getva(client))  # only one reply was hit
    assert host.stats.faults["flip"] == 1


def test_truncate_fault_gives_a_short_read(host: EmulatorHost, client: serial.Serial) -> None:
    host.inject(FaultKind.TRUNCATE)
    client.timeout = 0.3
    assert 0 < len(getva(client)) < protocol.PACKET_LEN
    assert host.stats.faults["truncate"] == 1


def test_silence_fault_gives_nothing_before_the_timeout(
    host: EmulatorHost, client: serial.Serial
) -> None:
    host.inject(FaultKind.SILENCE)
    client.timeout = 0.3
    assert getva(client) == b""
    assert host.stats.faults["silence"] == 1


def test_extra_fault_leaves_garbage_pending_after_a_good_reply(
    host: EmulatorHost, client: serial.Serial
) -> None:
    host.inject(FaultKind.EXTRA)
    protocol.decode_packet(getva(client))
    client.timeout = 0.3
    assert len(client.read(100)) > 0
    assert host.stats.faults["extra"] == 1


def test_random_fault_gives_bytes_that_do_not_decode(
    host: EmulatorHost, client: serial.Serial
) -> None:
    host.inject(FaultKind.RANDOM)
    data = getva(client)
    assert len(data) == protocol.PACKET_LEN
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_packet(data)


def test_faults_apply_to_getva_replies_only(host: EmulatorHost, client: serial.Serial) -> None:
    host.inject(FaultKind.SILENCE)
    client.write(b"query")
    assert client.read(4) == b"firm"
    client.timeout = 0.3
    assert getva(client) == b""


def test_unplug_makes_client_io_fail_and_the_link_vanish(
    host: EmulatorHost, client: serial.Serial
) -> None:
    protocol.decode_packet(getva(client))
    host.unplug()
    assert not os.path.lexists(host.link)
    assert not host.plugged
    with pytest.raises(serial.SerialException):
        client.read(1)
    with pytest.raises(serial.SerialException):
        client.write(b"getva")


def test_unplug_fault_pulls_the_cable_instead_of_answering(
    host: EmulatorHost, client: serial.Serial
) -> None:
    host.inject(FaultKind.UNPLUG)
    client.write(b"getva")
    with pytest.raises(serial.SerialException):
        client.read(protocol.PACKET_LEN)
    assert not os.path.lexists(host.link)
    assert host.stats.faults["unplug"] == 1


def test_replug_puts_a_new_pty_behind_the_same_link(
    host: EmulatorHost, client: serial.Serial
) -> None:
    host.unplug()
    host.replug()
    assert os.readlink(host.link) == host.pts_path
    with pytest.raises(serial.SerialException):
        client.read(1)  # the old handle stays dead, as with a real cable
    with serial.Serial(str(host.link), BAUD, timeout=1) as fresh:
        protocol.decode_packet(getva(fresh))


def test_replug_while_plugged_swaps_the_pty(host: EmulatorHost, client: serial.Serial) -> None:
    host.replug()
    with serial.Serial(str(host.link), BAUD, timeout=1) as fresh:
        protocol.decode_packet(getva(fresh))


def test_clients_may_close_and_reopen_between_requests(host: EmulatorHost) -> None:
    for _ in range(3):
        with serial.Serial(str(host.link), BAUD, timeout=1) as port:
            protocol.decode_packet(getva(port))
    # The counter moves just after the last byte is written: give the host thread a moment.
    deadline = time.monotonic() + 2
    while host.stats.replies_sent < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert host.stats.replies_sent == 3


def test_stop_removes_the_link_and_may_be_called_twice(link: Path) -> None:
    host = EmulatorHost(link, reply_delay_s=0).start()
    host.stop()
    host.stop()
    assert not os.path.lexists(link)


def test_start_refuses_to_replace_a_regular_file(link: Path) -> None:
    link.write_text("precious")
    with pytest.raises(FileExistsError):
        EmulatorHost(link).start()
    assert link.read_text() == "precious"


def test_start_replaces_a_stale_link(link: Path) -> None:
    link.symlink_to("/dev/pts/nonexistent")
    with EmulatorHost(link, reply_delay_s=0) as host:
        assert os.readlink(link) == host.pts_path


def test_many_start_stop_cycles_leak_no_fds_or_threads(link: Path) -> None:
    fds_before = len(os.listdir("/proc/self/fd"))
    threads_before = threading.active_count()
    for _ in range(25):
        with EmulatorHost(link, reply_delay_s=0) as host:
            host.unplug()
            host.replug()
            with serial.Serial(str(link), BAUD, timeout=1) as port:
                port.write(b"query")
                assert port.read(4) == b"firm"
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert threading.active_count() == threads_before


def test_stop_is_prompt_even_during_a_long_reply_delay(link: Path) -> None:
    host = EmulatorHost(link, reply_delay_s=5.0).start()
    with serial.Serial(str(link), BAUD, timeout=1) as port:
        port.write(b"getva")
        time.sleep(0.05)
        started = time.monotonic()
        host.stop()
    assert time.monotonic() - started < 1.0
