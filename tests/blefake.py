"""A simulated TC66C GATT server at the bleak seam: the bleak calls ``tc66c_server.ble`` uses.

``FakeTC66C`` is the peripheral (its generation's GATT table, how it chunks notifications,
whether it answers, whether it advertises); ``FakeClient`` is what ``bleak.BleakClient``
would be for it. Both generations behave as docs/protocol.md section 4 says: the older
module ignores a write without response, the BT24-M refuses a write with response.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tc66c_server.ble import Advert
from tc66c_server.ble_protocol import BT24M, PW0316, Generation, uuid16


@dataclass
class FakeCharacteristic:
    uuid: str


@dataclass
class FakeService:
    uuid: str
    characteristics: list[FakeCharacteristic] = field(default_factory=list)


def gatt_table(generation: Generation) -> list[FakeService]:
    """The GATT table of a unit of ``generation`` (generic services included)."""
    generic = [
        FakeService(uuid16(0x1801), [FakeCharacteristic(uuid16(0x2A05))]),  # Service Changed
        FakeService(uuid16(0x180A), [FakeCharacteristic(uuid16(0x2A29))]),  # Device Information
    ]
    if generation is PW0316:
        return [
            *generic,
            FakeService(uuid16(0xFFE5), [FakeCharacteristic(uuid16(0xFFE9))]),
            FakeService(uuid16(0xFFE0), [FakeCharacteristic(uuid16(0xFFE4))]),
            FakeService(uuid16(0xFFC0), [FakeCharacteristic(uuid16(0xFFC1))]),
        ]
    return [
        *generic,
        FakeService(
            uuid16(0xFFE0),
            [FakeCharacteristic(uuid16(0xFFE1)), FakeCharacteristic(uuid16(0xFFE2))],
        ),
    ]


class FakeTC66C:
    """The peripheral: answers ``bgetva`` with the next reply, in ``chunk``-byte notifications."""

    def __init__(
        self,
        generation: Generation = BT24M,
        *,
        replies: Iterable[bytes],
        chunk: int = 20,
        address: str = "AA:BB:CC:DD:EE:01",
        services: list[FakeService] | None = None,
    ) -> None:
        self.generation = generation
        self.address = address
        self.services = services if services is not None else gatt_table(generation)
        self.chunk = chunk
        self._replies = itertools.cycle(list(replies))
        self.silent = False
        self.advertising = True
        self.connected = False
        self.connections = 0
        self.writes: list[tuple[str, bytes, bool]] = []
        self.ignored_writes = 0
        self._notify: Callable[[Any, bytearray], None] | None = None

    @property
    def name(self) -> str:
        return "BT24-M" if self.generation is BT24M else "TC66C"

    def drop(self) -> None:
        """The link breaks (out of range); the module advertises again."""
        self.connected = False
        self.advertising = True

    def client(self, address: str) -> FakeClient:
        """What the meter's client factory returns."""
        assert address == self.address, address
        return FakeClient(self)

    async def scan(self, timeout_s: float) -> list[Advert]:
        adverts = [Advert("11:22:33:44:55:66", "Phone", -40)]
        if self.advertising:
            adverts.append(Advert(self.address, self.name, -70))
        return adverts

    def answer(self, data: bytes, response: bool) -> None:
        write_uuid = self.generation.write_uuid
        self.writes.append((write_uuid, data, response))
        if self.generation is PW0316 and not response:
            self.ignored_writes += 1  # the older module ignores a write without response
            return
        if self.generation is BT24M and response:
            raise RuntimeError("DBusError: Write not permitted")
        if data != b"bgetva\r\n" or self.silent or self._notify is None:
            return
        reply = next(self._replies)
        loop = asyncio.get_running_loop()
        notify = self._notify
        for index, start in enumerate(range(0, len(reply), self.chunk)):
            piece = bytearray(reply[start : start + self.chunk])
            loop.call_later(0.001 * (index + 1), notify, self.generation.notify_uuid, piece)


class FakeClient:
    """The bleak client seam for one :class:`FakeTC66C`."""

    def __init__(self, peripheral: FakeTC66C) -> None:
        self.peripheral = peripheral
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected and self.peripheral.connected

    @property
    def services(self) -> list[FakeService]:
        return self.peripheral.services

    async def connect(self) -> bool:
        if not self.peripheral.advertising:
            raise OSError("device not found (not advertising)")
        self.peripheral.advertising = False  # a connected module stops advertising
        self.peripheral.connected = True
        self.peripheral.connections += 1
        self._connected = True
        return True

    async def disconnect(self) -> bool:
        if self._connected and self.peripheral.connected:
            self.peripheral.drop()
        self._connected = False
        return True

    async def start_notify(self, char_specifier: str, callback: Any) -> None:
        ours = {c.uuid for s in self.peripheral.services for c in s.characteristics}
        if char_specifier not in ours:
            raise ValueError(f"no characteristic {char_specifier}")
        self.peripheral._notify = callback

    async def write_gatt_char(self, char_specifier: str, data: bytes, response: bool) -> None:
        if not self.is_connected:
            raise EOFError("not connected")
        if char_specifier != self.peripheral.generation.write_uuid:
            raise ValueError(f"cannot write {char_specifier}")
        self.peripheral.answer(bytes(data), response)
