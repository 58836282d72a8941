"""The TC66C over Bluetooth LE, against a simulated GATT server at the bleak seam.

No Bluetooth adapter and no ``bleak`` are needed: the meter is driven through the same
calls bleak offers (``tests/blefake.py``), and the real captures go through the BLE path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tc66c_server import ble_protocol as bp
from tc66c_server import protocol
from tc66c_server.bench_config import BLE_MIN_INTERVAL_S, parse_meter_entry
from tc66c_server.ble import BleMeter, scan_command
from tc66c_server.config import ConfigError
from tc66c_server.errors import (
    BadReplyError,
    MeterDisconnectedError,
    MeterTimeoutError,
    PortBusyError,
    PortNotFoundError,
)
from tc66c_server.poller import LinkState, Poller
from tc66c_server.reading import Reading, Sample

from .blefake import FakeService, FakeTC66C

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]
CAPTURE_A = json.loads((DATA / "captureA.json").read_text())
CAPTURE_B = json.loads((DATA / "captureB.json").read_text())
CIPHER_A = bytes.fromhex(CAPTURE_A["ciphertext_hex"])
CIPHER_B = bytes.fromhex(CAPTURE_B["ciphertext_hex"])


def assert_is_capture(reading: Reading, capture: dict[str, object]) -> None:
    expected = capture["expected"]
    assert isinstance(expected, dict)
    assert reading.voltage == expected["voltage_V"]
    assert reading.current == pytest.approx(expected["current_A"])
    assert reading.power == expected["power_W"]
    assert reading.resistance == expected["resistance_ohm"]
    assert reading.serial == expected["serial_number"]
    assert (reading.group0_mah, reading.group0_mwh) == (
        expected["group0_mAh"],
        expected["group0_mWh"],
    )


def meter_for(peripheral: FakeTC66C, port: str | None = None, timeout_s: float = 1.0) -> BleMeter:
    meter = BleMeter(
        port or f"ble:{peripheral.address}",
        timeout_s=timeout_s,
        client_factory=peripheral.client,
        scan=peripheral.scan,
    )
    meter.open()
    return meter


# -- pure: generation and reassembly ---------------------------------------------------------
def test_the_gatt_table_tells_the_generation() -> None:
    older = FakeTC66C(bp.PW0316, replies=[CIPHER_A]).services
    newer = FakeTC66C(bp.BT24M, replies=[CIPHER_A]).services
    assert bp.generation_of(c.uuid for s in older for c in s.characteristics) is bp.PW0316
    assert bp.generation_of(c.uuid.upper() for s in newer for c in s.characteristics) is bp.BT24M
    with pytest.raises(bp.UnknownGattError):
        bp.generation_of([bp.uuid16(0x2A05), bp.uuid16(0xFFE1)])


@pytest.mark.parametrize("size", [1, 20, 64, 100, 192])
def test_a_reply_in_pieces_of_any_size_is_reassembled(size: int) -> None:
    assembler = bp.Reassembler()
    readings = [assembler.feed(CIPHER_A[i : i + size]) for i in range(0, 192, size)]
    assert all(r is None for r in readings[:-1])
    last = readings[-1]
    assert last is not None
    assert_is_capture(last, CAPTURE_A)
    assert assembler.pending == 0 and assembler.resyncs == 0


def test_stray_bytes_before_a_reply_are_skipped_and_counted() -> None:
    assembler = bp.Reassembler()
    assert assembler.feed(b"\x00garbage" + CIPHER_B[:100]) is None
    reading = assembler.feed(CIPHER_B[100:])
    assert reading is not None and reading.runs == 36
    assert assembler.resyncs == 1


def test_endless_garbage_keeps_the_buffer_bounded() -> None:
    assembler = bp.Reassembler()
    for _ in range(50):
        assert assembler.feed(bytes(range(200))) is None
    assert assembler.pending <= bp.MAX_BUFFER


def test_commands_are_b_prefixed_and_crlf_terminated() -> None:
    assert bp.COMMANDS == {
        "getva": b"bgetva\r\n",
        "rotate": b"brotat\r\n",
        "next": b"bnextp\r\n",
        "previous": b"blastp\r\n",
    }


# -- the meter over the seam -------------------------------------------------------------------
def test_bt24m_writes_ffe2_without_response_and_reads_a_single_192_byte_notification() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A], chunk=192)
    meter = meter_for(peripheral)
    try:
        assert meter.generation is bp.BT24M
        assert_is_capture(meter.read(), CAPTURE_A)
    finally:
        meter.close()
    assert peripheral.writes == [(bp.uuid16(0xFFE2), b"bgetva\r\n", False)]


def test_older_unit_writes_ffe9_with_response_and_reads_20_byte_notifications() -> None:
    peripheral = FakeTC66C(bp.PW0316, replies=[CIPHER_A, CIPHER_B], chunk=20)
    meter = meter_for(peripheral)
    try:
        assert meter.generation is bp.PW0316
        assert_is_capture(meter.read(), CAPTURE_A)
        assert_is_capture(meter.read(), CAPTURE_B)
    finally:
        meter.close()
    assert {w[:1] + w[2:] for w in peripheral.writes} == {(bp.uuid16(0xFFE9), True)}
    assert peripheral.ignored_writes == 0


def test_screen_commands_are_written_to_the_generations_characteristic() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A])
    meter = meter_for(peripheral)
    try:
        meter.rotate()
        meter.next_page()
        meter.previous_page()
    finally:
        meter.close()
    assert [w[1] for w in peripheral.writes] == [b"brotat\r\n", b"bnextp\r\n", b"blastp\r\n"]


def test_a_silent_meter_is_a_timeout_and_answers_again_later() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A])
    meter = meter_for(peripheral, timeout_s=0.2)
    try:
        peripheral.silent = True
        with pytest.raises(MeterTimeoutError, match="no reply"):
            meter.read()
        peripheral.silent = False
        assert_is_capture(meter.read(), CAPTURE_A)
    finally:
        meter.close()


def test_a_cut_reply_is_a_timeout_that_says_so() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A[:150]], chunk=20)
    meter = meter_for(peripheral, timeout_s=0.2)
    try:
        with pytest.raises(MeterTimeoutError, match="incomplete"):
            meter.read()
    finally:
        meter.close()


def test_a_lost_connection_is_a_disconnection_and_the_meter_reconnects() -> None:
    peripheral = FakeTC66C(bp.PW0316, replies=[CIPHER_A])
    meter = meter_for(peripheral, timeout_s=0.3)
    try:
        assert not peripheral.advertising  # connected modules stop advertising
        peripheral.drop()
        with pytest.raises(MeterDisconnectedError):
            meter.read()
        meter.open()
        assert_is_capture(meter.read(), CAPTURE_A)
        assert peripheral.connections == 2
    finally:
        meter.close()


def test_connecting_to_a_meter_that_does_not_advertise_fails_clearly() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A])
    peripheral.advertising = False  # connected to another app
    with pytest.raises(PortBusyError) as caught:
        meter_for(peripheral)
    assert "another device" in caught.value.describe()


def test_ble_auto_connects_to_the_meter_the_scan_finds() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_B])
    meter = meter_for(peripheral, "ble:auto")
    try:
        assert meter.port == f"ble:{peripheral.address}"
        assert meter.read().runs == 36
    finally:
        meter.close()
    peripheral.advertising = False
    with pytest.raises(PortNotFoundError, match="ble:auto"):
        meter_for(peripheral, "ble:auto")


def test_a_device_without_the_tc66c_characteristics_is_refused() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A], services=[FakeService(bp.uuid16(0x180A))])
    with pytest.raises(BadReplyError, match="not a TC66C"):
        meter_for(peripheral)


def test_the_poller_keeps_link_state_and_counters_across_a_lost_link() -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A], chunk=20)
    samples: list[Sample] = []
    states: list[LinkState] = []
    arrived = threading.Event()

    def on_sample(sample: Sample) -> None:
        samples.append(sample)
        arrived.set()

    poller = Poller(
        f"ble:{peripheral.address}",
        0.05,
        on_sample=on_sample,
        on_state=states.append,
        meter_factory=lambda port: BleMeter(
            port, timeout_s=0.3, client_factory=peripheral.client, scan=peripheral.scan
        ),
    )
    poller.start()
    try:
        assert arrived.wait(5)
        assert_is_capture(samples[0].reading, CAPTURE_A)
        peripheral.drop()
        deadline = time.monotonic() + 5
        while poller.counters.reconnects < 1:
            assert time.monotonic() < deadline, (poller.counters, states)
            time.sleep(0.02)
    finally:
        poller.stop()
    assert [s.connected for s in states][:3] == [True, False, True]
    assert states[1].error_code == "disconnected"


def test_scan_lists_meters_with_their_rssi(capsys: pytest.CaptureFixture[str]) -> None:
    peripheral = FakeTC66C(bp.BT24M, replies=[CIPHER_A])
    assert scan_command(0.1, scan=peripheral.scan) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"ble:{peripheral.address}\tBT24-M\t-70 dBm"
    assert "Phone" not in out


def test_a_ble_meter_polled_faster_than_the_floor_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_meter_entry({"port": "ble:auto", "polling_interval": 0.5}, 0, 1.0)
    assert "meters[0].polling_interval" in caught.value.fields
    assert parse_meter_entry("ble:auto", 0, BLE_MIN_INTERVAL_S).polling_interval == 1.0


def test_without_bleak_a_ble_port_says_what_to_install() -> None:
    # A real "not installed": the import of bleak fails in a fresh interpreter.
    script = (
        "import sys; sys.modules['bleak'] = None\n"
        "from tc66c_server.cli import main\n"
        "sys.exit(main(['read', '--device', 'ble:AA:BB:CC:DD:EE:FF']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "pip install tc66c-server[ble]" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_ble_path_decodes_like_the_usb_path() -> None:
    assembler = bp.Reassembler()
    reading = None
    for start in range(0, 192, 20):
        reading = assembler.feed(CIPHER_B[start : start + 20]) or reading
    assert reading == protocol.decode_packet(CIPHER_B)
