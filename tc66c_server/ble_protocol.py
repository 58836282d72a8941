"""The TC66C's Bluetooth LE side, as pure data and functions: no I/O, no ``bleak``.

Two hardware generations exist (docs/protocol.md section 4): older units (PW0316 module,
advertised as ``TC66C``) write FFE9 with response and notify on FFE4; units shipped with
firmware 1.15 and later (``BT24-M``) write FFE2 without response and notify on FFE1. Which
one a meter is comes from its GATT table. Commands are the USB ones prefixed with ``b`` and
ended by CR LF; the 192-byte ``getva`` reply (the same encrypted packet as over USB) arrives
in notifications of any size and is reassembled here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import protocol
from .reading import Reading


def uuid16(short: int) -> str:
    """The full 128-bit form of a 16-bit Bluetooth SIG UUID, lower case (bleak's form)."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


@dataclass(frozen=True, slots=True)
class Generation:
    """One BLE hardware generation: where to write commands, where replies come, how."""

    name: str
    write_uuid: str
    notify_uuid: str
    write_with_response: bool


#: Older units: a write without response is silently ignored (THIJS).
PW0316 = Generation("PW0316", uuid16(0xFFE9), uuid16(0xFFE4), write_with_response=True)
#: Newer units: a write with response fails with "Write not permitted" (THIJS).
BT24M = Generation("BT24-M", uuid16(0xFFE2), uuid16(0xFFE1), write_with_response=False)
#: Names the meters advertise (RALIM, SIGROK-BT; JEDIE, AUDRAIN, TFELS).
ADVERTISED_NAMES = ("TC66C", "BT24-M")

COMMANDS = {
    "getva": b"bgetva\r\n",
    "rotate": b"brotat\r\n",
    "next": b"bnextp\r\n",
    "previous": b"blastp\r\n",
}
#: Bytes kept while waiting for a reply: a little over two replies, so a reply shifted by
#: stray bytes can still be found and an endless stream of garbage stays bounded.
MAX_BUFFER = 2 * protocol.PACKET_LEN + 64


class UnknownGattError(ValueError):
    """The GATT table has neither generation's characteristics (not a TC66C?)."""


def generation_of(characteristic_uuids: Iterable[str]) -> Generation:
    """The generation a GATT table belongs to: FFE9 present → PW0316, else FFE2 → BT24-M."""
    uuids = {u.lower() for u in characteristic_uuids}
    if PW0316.write_uuid in uuids and PW0316.notify_uuid in uuids:
        return PW0316
    if BT24M.write_uuid in uuids and BT24M.notify_uuid in uuids:
        return BT24M
    raise UnknownGattError(
        "the device has neither FFE9/FFE4 (older TC66C) nor FFE2/FFE1 (BT24-M) characteristics"
    )


def is_meter_name(name: str | None) -> bool:
    """True for a name a TC66C advertises."""
    return (name or "").strip() in ADVERTISED_NAMES


class Reassembler:
    """Collects notification payloads until they hold one valid 192-byte reply."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        #: Replies found after dropping bytes before them (a shifted or polluted stream).
        self.resyncs = 0

    @property
    def pending(self) -> int:
        """Bytes received and not yet part of a reply."""
        return len(self._buffer)

    def clear(self) -> None:
        self._buffer.clear()

    def feed(self, chunk: bytes) -> Reading | None:
        """Add one notification's bytes; the reading once a whole valid reply is in."""
        self._buffer += chunk
        if len(self._buffer) < protocol.PACKET_LEN:
            return None
        reading, end = protocol.find_packet(bytes(self._buffer))
        if reading is None:
            # ``end`` bytes cannot start a reply; keep the rest, bounded.
            del self._buffer[:end]
            if len(self._buffer) > MAX_BUFFER:
                del self._buffer[: len(self._buffer) - MAX_BUFFER]
            return None
        if end != protocol.PACKET_LEN:
            self.resyncs += 1
        del self._buffer[:end]
        return reading
