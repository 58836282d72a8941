"""The pure protocol: real captures, round trips and every kind of corruption."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tc66c_server import protocol
from tc66c_server.protocol import (
    BadMagicError,
    ChecksumError,
    ProtocolError,
    RecordPoint,
    ShortPacketError,
)
from tc66c_server.reading import Reading

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


CAPTURE_A = load("captureA.json")
CAPTURE_B = load("captureB.json")
CIPHER_A = bytes.fromhex(CAPTURE_A["ciphertext_hex"])


def test_real_capture_decodes_to_the_published_values() -> None:
    expected = CAPTURE_A["expected"]
    reading = protocol.decode_packet(CIPHER_A)
    assert reading == Reading(
        product=expected["product_name"],
        firmware=expected["firmware_version"],
        serial=expected["serial_number"],
        runs=expected["run_count"],
        voltage=expected["voltage_V"],
        current=expected["current_A"],
        power=expected["power_W"],
        resistance=expected["resistance_ohm"],
        group0_mah=expected["group0_mAh"],
        group0_mwh=expected["group0_mWh"],
        group1_mah=expected["group1_mAh"],
        group1_mwh=expected["group1_mWh"],
        temperature=expected["temperature_C"],
        d_plus=expected["d_plus_V"],
        d_minus=expected["d_minus_V"],
    )


def test_values_keep_the_device_resolution_exactly() -> None:
    reading = protocol.decode_packet(CIPHER_A)
    assert repr(reading.voltage) == "5.1609"
    assert repr(reading.current) == "0.0199"
    assert repr(reading.resistance) == "259.3"


def test_real_capture_decrypts_to_the_published_plaintext() -> None:
    assert protocol.decrypt(CIPHER_A).hex() == CAPTURE_A["plaintext_hex"]


def test_second_real_capture_decodes() -> None:
    reading = protocol.decode_packet(bytes.fromhex(CAPTURE_B["ciphertext_hex"]))
    assert (reading.voltage, reading.current, reading.runs) == (5.1625, 0.02001, 36)
    assert (reading.group0_mah, reading.group0_mwh, reading.temperature) == (11, 59, 25)


def test_encoding_the_real_reading_gives_the_real_ciphertext_back() -> None:
    assert protocol.encode_packet(protocol.decode_packet(CIPHER_A)) == CIPHER_A


def test_crc16_modbus_check_value() -> None:
    assert protocol.crc16_modbus(b"123456789") == 0x4B37


def test_pac3_ciphertext_is_the_known_constant() -> None:
    assert CIPHER_A[128:].hex().startswith("4231f411e56f5c203c590b4a68fd5b09")


readings = st.builds(
    Reading,
    product=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=4),
    firmware=st.sampled_from(["1.14", "1.15", "1.18"]),
    serial=st.integers(0, 2**32 - 1),
    runs=st.integers(0, 2**32 - 1),
    voltage=st.integers(0, 400_000).map(lambda r: r / 10_000),
    current=st.integers(0, 600_000).map(lambda r: r / 100_000),
    power=st.integers(0, 2_000_000).map(lambda r: r / 10_000),
    resistance=st.integers(0, 9_999_999).map(lambda r: r / 10),
    group0_mah=st.integers(0, 2**32 - 1),
    group0_mwh=st.integers(0, 2**32 - 1),
    group1_mah=st.integers(0, 2**32 - 1),
    group1_mwh=st.integers(0, 2**32 - 1),
    temperature=st.integers(-40, 125),
    d_plus=st.integers(0, 500).map(lambda r: r / 100),
    d_minus=st.integers(0, 500).map(lambda r: r / 100),
)


@given(readings)
def test_encode_then_decode_gives_the_same_reading(reading: Reading) -> None:
    assert protocol.decode_packet(protocol.encode_packet(reading)) == reading


def test_negative_temperature_uses_the_sign_word() -> None:
    reading = protocol.decode_packet(CIPHER_A)
    cold = Reading(**{**reading.as_dict(), "temperature": -7})
    plain = protocol.encode_plaintext(cold)
    assert plain[88:92] == b"\x01\x00\x00\x00"
    assert protocol.decode_plaintext(plain).temperature == -7


def test_every_single_flipped_byte_of_the_real_capture_is_rejected() -> None:
    packet = bytearray(CIPHER_A)
    for index in range(len(packet)):
        original = packet[index]
        for mask in range(1, 256):
            packet[index] = original ^ mask
            with pytest.raises((BadMagicError, ChecksumError)):
                protocol.decode_packet(bytes(packet))
        packet[index] = original


@pytest.mark.parametrize("length", [0, 1, 63, 64, 128, 191])
def test_truncated_packet_raises_short_packet(length: int) -> None:
    with pytest.raises(ShortPacketError):
        protocol.decode_packet(CIPHER_A[:length])


@settings(max_examples=300)
@given(st.binary(min_size=192, max_size=192))
def test_random_bytes_are_rejected_never_decoded(data: bytes) -> None:
    with pytest.raises(BadMagicError):
        protocol.decode_packet(data)


def test_flipped_plaintext_byte_fails_the_checksum() -> None:
    plain = bytearray(protocol.decrypt(CIPHER_A))
    plain[50] ^= 0x01  # voltage
    with pytest.raises(ChecksumError, match="pac1"):
        protocol.decode_plaintext(bytes(plain))


def test_nonzero_upper_crc_bytes_are_rejected() -> None:
    plain = bytearray(protocol.decrypt(CIPHER_A))
    plain[62] = 0x01
    with pytest.raises(ChecksumError):
        protocol.decode_plaintext(bytes(plain))


def test_extra_bytes_after_a_packet_are_ignored() -> None:
    assert protocol.decode_packet(CIPHER_A + b"\x00junk").voltage == 5.1609


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_find_packet_resynchronises_on_a_shifted_stream(before: bytes, after: bytes) -> None:
    reading, end = protocol.find_packet(before + CIPHER_A + after)
    assert reading == protocol.decode_packet(CIPHER_A)
    # It finds the first valid window; junk before can't contain one (random bytes).
    assert end == len(before) + 192


def test_find_packet_without_a_packet_says_how_much_to_discard() -> None:
    junk = os.urandom(250)
    reading, skip = protocol.find_packet(junk)
    assert reading is None
    assert skip == 250 - 192 + 1


def test_find_packet_on_a_short_buffer_keeps_everything() -> None:
    assert protocol.find_packet(CIPHER_A[:100]) == (None, 0)


def test_recording_decodes_records_and_reports_a_cut_tail() -> None:
    points = [RecordPoint(5.1609, 0.0199), RecordPoint(9.0012, 1.25)]
    data = protocol.encode_recording(points)
    assert protocol.decode_recording(data).points == tuple(points)
    cut = protocol.decode_recording(data + b"\x01\x02\x03")
    assert cut.points == tuple(points) and cut.trailing_bytes == 3


def test_encoding_rejects_values_that_do_not_fit() -> None:
    reading = protocol.decode_packet(CIPHER_A)
    with pytest.raises(ValueError, match="voltage"):
        protocol.encode_packet(Reading(**{**reading.as_dict(), "voltage": -1.0}))
    with pytest.raises(ValueError, match="product"):
        protocol.encode_packet(Reading(**{**reading.as_dict(), "product": "TC66C"}))


def test_protocol_errors_share_one_base() -> None:
    assert issubclass(ShortPacketError, ProtocolError)
    assert issubclass(ProtocolError, ValueError)
