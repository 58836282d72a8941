"""The serial transport over a real pty, against the emulator, faults included."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tc66c_server.emulator import EmulatorHost, FaultKind
from tc66c_server.errors import (
    BadReplyError,
    MeterDisconnectedError,
    MeterTimeoutError,
    PermissionDeniedError,
    PortNotFoundError,
)
from tc66c_server.transport import SerialMeter, _open_error


def meter_for(host: EmulatorHost, timeout_s: float = 0.3) -> SerialMeter:
    meter = SerialMeter(str(host.link), timeout_s=timeout_s)
    meter.open()
    return meter


def test_reading_matches_what_the_emulator_sent(emulator: EmulatorHost) -> None:
    with SerialMeter(str(emulator.link), timeout_s=1.0) as meter:
        for _ in range(5):
            reading = meter.read()
            assert reading == emulator.meter.last_reading
    assert emulator.meter.commands["getva"] == 5


def test_chunked_replies_are_reassembled(tmp_path: Path) -> None:
    with (
        EmulatorHost(tmp_path / "tty", reply_delay_s=0.01, chunked=True) as host,
        SerialMeter(str(host.link)) as meter,
    ):
        assert meter.read() == host.meter.last_reading


def test_query_reports_the_firmware_mode(emulator: EmulatorHost) -> None:
    with SerialMeter(str(emulator.link)) as meter:
        assert meter.query() == "firm"
        meter.check_mode()


def test_page_and_rotate_commands_reach_the_meter(emulator: EmulatorHost) -> None:
    with SerialMeter(str(emulator.link)) as meter:
        meter.next_page()
        meter.next_page()
        meter.previous_page()
        meter.rotate()
        meter.query()  # a round trip, so the commands before it have been handled
    assert emulator.meter.screen_page == 1
    assert emulator.meter.rotation == 1


def test_recording_download_reads_until_the_line_is_quiet(emulator: EmulatorHost) -> None:
    with SerialMeter(str(emulator.link)) as meter:
        recording = meter.download_recording(quiet_s=0.2)
    assert recording.trailing_bytes == 0
    assert len(recording.points) >= 1
    assert 4.0 < recording.points[0].voltage < 21.0


def test_missing_port_fails_with_the_seed_message(tmp_path: Path) -> None:
    path = tmp_path / "ttyACM0"
    with pytest.raises(PortNotFoundError) as info:
        SerialMeter(str(path)).open()
    assert str(info.value) == f"failed to open:{path}"
    assert "USB" in info.value.hint


def test_permission_error_maps_to_a_dialout_hint() -> None:
    error = _open_error("/dev/ttyACM0", OSError(errno.EACCES, "Permission denied"))
    assert isinstance(error, PermissionDeniedError)
    assert str(error) == "failed to open:/dev/ttyACM0"
    assert "dialout" in error.hint


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FaultKind.FLIP, BadReplyError),
        (FaultKind.RANDOM, BadReplyError),
        (FaultKind.TRUNCATE, MeterTimeoutError),
        (FaultKind.SILENCE, MeterTimeoutError),
    ],
)
def test_each_fault_is_reported_then_the_next_read_succeeds(
    emulator: EmulatorHost, fault: FaultKind, error: type[Exception]
) -> None:
    meter = meter_for(emulator)
    try:
        emulator.inject(fault)
        with pytest.raises(error):
            meter.read()
        assert meter.read() == emulator.meter.last_reading
    finally:
        meter.close()


def test_extra_bytes_after_a_reply_do_not_corrupt_the_next_one(emulator: EmulatorHost) -> None:
    meter = meter_for(emulator)
    try:
        emulator.inject(FaultKind.EXTRA, count=3)
        for _ in range(4):
            assert meter.read() == emulator.meter.last_reading
    finally:
        meter.close()


def test_unplug_raises_disconnected_and_replug_reads_again(emulator: EmulatorHost) -> None:
    meter = meter_for(emulator)
    assert meter.read() is not None
    emulator.unplug()
    assert not os.path.lexists(emulator.link)
    with pytest.raises(MeterDisconnectedError):
        meter.read()
    assert not meter.is_open
    with pytest.raises(PortNotFoundError):
        meter.open()
    emulator.replug()
    meter.open()
    try:
        assert meter.read() == emulator.meter.last_reading
    finally:
        meter.close()


def test_read_on_a_closed_meter_is_a_disconnected_error(emulator: EmulatorHost) -> None:
    with pytest.raises(MeterDisconnectedError):
        SerialMeter(str(emulator.link)).read()
