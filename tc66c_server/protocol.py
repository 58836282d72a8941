"""The TC66C ``getva`` packet and ``gtrec`` recording, as pure functions over bytes.

Facts and their sources are in ``docs/protocol.md``. Nothing here does I/O.

A reply is 192 bytes, AES-256-ECB encrypted with a published static key. Decrypted, it is
three 64-byte blocks ``pac1``/``pac2``/``pac3``, each ending with a CRC-16/MODBUS of its
first 60 bytes stored as a little-endian u32. All integers are little-endian u32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import quantities as q
from .reading import Reading

PACKET_LEN = 192
BLOCK_LEN = 64
RECORD_LEN = 8
MAGICS = (b"pac1", b"pac2", b"pac3")

#: The static AES-256 key published by Ben V. Brown (sigrok wiki, libsigrok rdtech-tc).
KEY = bytes.fromhex("5821fa5601b2f02687ff1204622a4fb086f40260816f9a0ba7f106619ab87288")

#: pac1 bytes 16-43 have no known meaning; the emulator sends those of a real capture.
PAC1_OPAQUE = bytes.fromhex("62854a4a3632350c3536373241508520ce4c3e6d83c40bc4b36b3159")

_U32 = struct.Struct("<I")
_PAC1 = struct.Struct("<4s4s4sI28sIIIII")  # magic product fw serial opaque runs V I P crc
_PAC2 = struct.Struct("<4sIIIIIIIII20sI")  # magic R g0mAh g0mWh g1mAh g1mWh sign T D+ D- zeros crc
_PAC3 = struct.Struct("<4s56sI")
_U32_MAX = 0xFFFFFFFF


class ProtocolError(ValueError):
    """A reply that is not a valid TC66C packet."""


class ShortPacketError(ProtocolError):
    """Fewer bytes than a whole packet."""


class BadMagicError(ProtocolError):
    """A block does not start with its ``pacN`` magic (wrong key, garbage or misaligned)."""


class ChecksumError(ProtocolError):
    """A block's CRC-16/MODBUS does not match its content."""


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF, no final xor)."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


_CIPHER = Cipher(algorithms.AES(KEY), modes.ECB())


def decrypt(data: bytes) -> bytes:
    """AES-256-ECB decrypt (length must be a multiple of 16)."""
    dec = _CIPHER.decryptor()
    return dec.update(data) + dec.finalize()


def encrypt(data: bytes) -> bytes:
    """AES-256-ECB encrypt (length must be a multiple of 16)."""
    enc = _CIPHER.encryptor()
    return enc.update(data) + enc.finalize()


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("latin-1")


def check_blocks(plain: bytes) -> None:
    """Raise the right :class:`ProtocolError` unless all three blocks are valid."""
    if len(plain) < PACKET_LEN:
        raise ShortPacketError(f"packet has {len(plain)} bytes, expected {PACKET_LEN}")
    for index, magic in enumerate(MAGICS):
        block = plain[index * BLOCK_LEN : (index + 1) * BLOCK_LEN]
        if block[:4] != magic:
            raise BadMagicError(f"block {index + 1} does not start with {magic.decode()}")
        stored = _U32.unpack_from(block, 60)[0]
        computed = crc16_modbus(block[:60])
        if stored != computed:
            # The stored value is not quoted: error texts never carry bytes from the device.
            raise ChecksumError(f"block {index + 1} ({magic.decode()}) checksum mismatch")


def decode_plaintext(plain: bytes) -> Reading:
    """Decode a decrypted 192-byte packet, checking magics and checksums."""
    check_blocks(plain)
    _, product, firmware, serial, _, runs, v, i, p, _ = _PAC1.unpack_from(plain, 0)
    _, r, g0a, g0w, g1a, g1w, sign, temp, dp, dm, _, _ = _PAC2.unpack_from(plain, 64)
    return Reading(
        product=_text(product),
        firmware=_text(firmware),
        serial=serial,
        runs=runs,
        voltage=q.VOLTAGE.from_raw(v),
        current=q.CURRENT.from_raw(i),
        power=q.POWER.from_raw(p),
        resistance=q.RESISTANCE.from_raw(r),
        group0_mah=g0a,
        group0_mwh=g0w,
        group1_mah=g1a,
        group1_mwh=g1w,
        temperature=-temp if sign else temp,
        d_plus=q.D_PLUS.from_raw(dp),
        d_minus=q.D_MINUS.from_raw(dm),
    )


def decode_packet(data: bytes) -> Reading:
    """Decrypt and decode one 192-byte ``getva`` reply.

    Raises :class:`ShortPacketError`, :class:`BadMagicError` or :class:`ChecksumError`;
    never returns a reading from a corrupt packet. Extra bytes beyond 192 are ignored.
    """
    if len(data) < PACKET_LEN:
        raise ShortPacketError(f"packet has {len(data)} bytes, expected {PACKET_LEN}")
    return decode_plaintext(decrypt(bytes(data[:PACKET_LEN])))


def _u32(name: str, value: int) -> int:
    if not 0 <= value <= _U32_MAX:
        raise ValueError(f"{name}={value} does not fit the packet's u32 field")
    return value


def _ascii4(name: str, value: str) -> bytes:
    raw = value.encode("latin-1")
    if len(raw) > 4:
        raise ValueError(f"{name}={value!r} is longer than 4 bytes")
    return raw.ljust(4, b"\x00")


def _with_crc(block60: bytes) -> bytes:
    return block60 + _U32.pack(crc16_modbus(block60))


def encode_plaintext(reading: Reading, opaque: bytes = PAC1_OPAQUE) -> bytes:
    """Lay a reading out as the 192 decrypted bytes the meter would send."""
    pac1 = _PAC1.pack(
        b"pac1",
        _ascii4("product", reading.product),
        _ascii4("firmware", reading.firmware),
        _u32("serial", reading.serial),
        opaque,
        _u32("runs", reading.runs),
        _u32("voltage", q.VOLTAGE.to_raw(reading.voltage)),
        _u32("current", q.CURRENT.to_raw(reading.current)),
        _u32("power", q.POWER.to_raw(reading.power)),
        0,
    )[:60]
    pac2 = _PAC2.pack(
        b"pac2",
        _u32("resistance", q.RESISTANCE.to_raw(reading.resistance)),
        _u32("group0_mah", reading.group0_mah),
        _u32("group0_mwh", reading.group0_mwh),
        _u32("group1_mah", reading.group1_mah),
        _u32("group1_mwh", reading.group1_mwh),
        1 if reading.temperature < 0 else 0,
        _u32("temperature", abs(reading.temperature)),
        _u32("d_plus", q.D_PLUS.to_raw(reading.d_plus)),
        _u32("d_minus", q.D_MINUS.to_raw(reading.d_minus)),
        bytes(20),
        0,
    )[:60]
    pac3 = _PAC3.pack(b"pac3", bytes(56), 0)[:60]
    return _with_crc(pac1) + _with_crc(pac2) + _with_crc(pac3)


def encode_packet(reading: Reading, opaque: bytes = PAC1_OPAQUE) -> bytes:
    """Encode a reading into a valid encrypted 192-byte ``getva`` reply."""
    return encrypt(encode_plaintext(reading, opaque))


def find_packet(stream: bytes) -> tuple[Reading | None, int]:
    """Re-synchronise on a byte stream: find the first 192-byte window that is a valid packet.

    Returns ``(reading, end)`` where ``end`` is the index just past the packet, or
    ``(None, skip)`` where ``skip`` bytes can be discarded because no packet can start there.
    """
    last_start = len(stream) - PACKET_LEN
    for start in range(max(last_start + 1, 0)):
        first = decrypt(bytes(stream[start : start + 16]))
        if first[:4] != b"pac1":
            continue
        try:
            reading = decode_packet(stream[start : start + PACKET_LEN])
        except ProtocolError:
            continue
        return reading, start + PACKET_LEN
    return None, max(last_start + 1, 0)


@dataclass(frozen=True, slots=True)
class RecordPoint:
    """One ``gtrec`` record: voltage and current, no timestamp (the meter keeps none)."""

    voltage: float
    current: float


@dataclass(frozen=True, slots=True)
class Recording:
    """A decoded ``gtrec`` download."""

    points: tuple[RecordPoint, ...]
    trailing_bytes: int  # bytes after the last whole 8-byte record (a cut-off transfer)


def decode_recording(data: bytes) -> Recording:
    """Decode a ``gtrec`` stream: unencrypted 8-byte records of u32 V (0.1 mV) and I (10 uA)."""
    whole = len(data) - len(data) % RECORD_LEN
    points = tuple(
        RecordPoint(q.VOLTAGE.from_raw(v), q.CURRENT.from_raw(i))
        for v, i in struct.iter_unpack("<II", bytes(data[:whole]))
    )
    return Recording(points, len(data) - whole)


def encode_recording(points: list[RecordPoint] | tuple[RecordPoint, ...]) -> bytes:
    """Encode recording points the way the meter streams them."""
    return b"".join(
        struct.pack(
            "<II",
            _u32("voltage", q.VOLTAGE.to_raw(p.voltage)),
            _u32("current", q.CURRENT.to_raw(p.current)),
        )
        for p in points
    )
