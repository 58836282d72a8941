"""A TC66C over Bluetooth LE (``ble:AA:BB:CC:DD:EE:FF`` or ``ble:auto``), on ``bleak``.

``bleak`` is an optional extra (``pip install tc66c-server[ble]``), imported only when a
``ble:`` port is opened. The meter object has the same blocking surface as the USB one
(:class:`~tc66c_server.transport.SerialMeter`); bleak's coroutines run on an event loop
in a thread of this object's own. The bleak calls used go through a small seam
(:class:`BleClient`, :data:`Scan`) so tests drive a simulated GATT server instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar

from . import ble_protocol as bp
from .errors import (
    BadReplyError,
    MeterDisconnectedError,
    MeterError,
    MeterTimeoutError,
    PortBusyError,
    PortNotFoundError,
)
from .reading import Reading

BLE_PREFIX = "ble:"
INSTALL_HINT = "Bluetooth LE needs the optional bleak package: pip install tc66c-server[ble]"
#: One exchange takes 0.5-0.8 s (THIJS); this leaves room for a slow notification.
DEFAULT_TIMEOUT_S = 3.0
SCAN_S = 5.0
CONNECT_S = 15.0

T = TypeVar("T")
NotifyCallback = Callable[[Any, bytearray], None]


class BleClient(Protocol):
    """The part of ``bleak.BleakClient`` this module uses."""

    @property
    def is_connected(self) -> bool: ...
    @property
    def services(self) -> Any: ...  # iterable of services with .characteristics[].uuid
    async def connect(self) -> Any: ...
    async def disconnect(self) -> Any: ...
    async def start_notify(self, char_specifier: str, callback: NotifyCallback) -> None: ...
    async def write_gatt_char(self, char_specifier: str, data: bytes, response: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class Advert:
    """One advertising device seen by a scan."""

    address: str
    name: str | None
    rssi: int | None


ClientFactory = Callable[[str], BleClient]
Scan = Callable[[float], Coroutine[Any, Any, list[Advert]]]


def _bleak() -> Any:
    try:
        import bleak
    except ImportError:
        raise PortNotFoundError("Bluetooth LE is not available", INSTALL_HINT) from None
    return bleak


def bleak_client(address: str) -> BleClient:
    """A real ``bleak`` client for ``address``."""
    client: BleClient = _bleak().BleakClient(address, timeout=CONNECT_S)
    return client


async def bleak_scan(timeout_s: float) -> list[Advert]:
    """Advertising devices seen in ``timeout_s`` by a real ``bleak`` scan."""
    found = await _bleak().BleakScanner.discover(timeout=timeout_s, return_adv=True)
    return [
        Advert(device.address, adv.local_name or device.name, adv.rssi)
        for device, adv in found.values()
    ]


def meters_in(adverts: Sequence[Advert]) -> list[Advert]:
    """The adverts of TC66C meters, strongest signal first."""
    meters = [a for a in adverts if bp.is_meter_name(a.name)]
    return sorted(meters, key=lambda a: -(a.rssi if a.rssi is not None else -999))


def _characteristic_uuids(services: Any) -> list[str]:
    return [str(c.uuid) for s in services for c in s.characteristics]


class _Loop:
    """An asyncio event loop in its own daemon thread, for one meter's bleak calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="tc66c-ble", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout_s), self.loop)
        try:
            return future.result(timeout_s + 1.0)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(2.0)
        if not self._thread.is_alive():
            self.loop.close()


class BleMeter:
    """A TC66C reached over Bluetooth LE; one request at a time, like the USB meter."""

    def __init__(
        self,
        port: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        client_factory: ClientFactory | None = None,
        scan: Scan | None = None,
    ) -> None:
        if not port.startswith(BLE_PREFIX):
            raise ValueError(f"not a ble: port: {port!r}")
        self.requested_port = port
        self.port = port
        self.timeout_s = timeout_s
        self._client_factory = client_factory
        self._scan = scan
        self.generation: bp.Generation | None = None
        self._client: BleClient | None = None
        self._loop: _Loop | None = None
        self._assembler = bp.Reassembler()
        self._lock = threading.Lock()
        self._reply = threading.Event()
        self._reading: Reading | None = None

    @property
    def resyncs(self) -> int:
        return self._assembler.resyncs

    @property
    def is_open(self) -> bool:
        return self._client is not None

    # -- lifetime -------------------------------------------------------------------------
    def open(self) -> None:
        """Find (``ble:auto``), connect, tell the generation and subscribe to replies."""
        self.close()
        factory = self._client_factory or bleak_client
        scan = self._scan or bleak_scan
        if self._client_factory is None:
            _bleak()  # a clear message before anything else when bleak is missing
        self._loop = _Loop()
        try:
            address = self.requested_port[len(BLE_PREFIX) :]
            if address.lower() == "auto":
                address = self._find(scan)
            client = factory(address)
            self._client = client
            self._run(client.connect(), CONNECT_S, "connect")
            self.generation = bp.generation_of(_characteristic_uuids(client.services))
            self._run(client.start_notify(self.generation.notify_uuid, self._notified), 5.0, "")
        except bp.UnknownGattError as exc:
            self.close()
            raise BadReplyError(f"{self.requested_port} is not a TC66C", str(exc)) from None
        except MeterError:
            self.close()
            raise
        self.port = BLE_PREFIX + address

    def _find(self, scan: Scan) -> str:
        adverts = self._run(scan(SCAN_S), SCAN_S + 5.0, "scan")
        meters = meters_in(adverts)
        if not meters:
            raise PortNotFoundError(
                "failed to open:ble:auto",
                "no TC66C advertising (names TC66C, BT24-M): is it on and in range? A meter "
                "connected to another app or device stops advertising",
            )
        return meters[0].address

    def _run(self, coro: Coroutine[Any, Any, T], timeout_s: float, what: str) -> T:
        """Run one bleak call; its failures as the project's exceptions."""
        assert self._loop is not None
        try:
            return self._loop.run(coro, timeout_s)
        except TimeoutError:
            raise MeterTimeoutError(f"Bluetooth LE {what or 'request'} timed out") from None
        except MeterError:
            raise
        except Exception as exc:  # bleak raises BleakError, OSError, EOFError, DBus errors...
            name = exc.__class__.__name__
            if what in ("connect", "scan"):
                raise PortBusyError(
                    f"failed to open:{self.requested_port}",
                    f"Bluetooth LE {what} failed ({name}): is Bluetooth up here (an adapter, "
                    "the bluetooth service running), the meter on, in range and not connected "
                    "to another device?",
                ) from None
            raise MeterDisconnectedError(
                f"lost the meter on {self.port}", f"the Bluetooth LE link failed ({name})"
            ) from None

    def close(self) -> None:
        """Disconnect and stop the event loop; never raises."""
        client, self._client = self._client, None
        loop, self._loop = self._loop, None
        if client is not None and loop is not None:
            with contextlib.suppress(Exception):
                loop.run(client.disconnect(), 5.0)
        if loop is not None:
            loop.stop()

    def __enter__(self) -> BleMeter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- notifications (event-loop thread) ------------------------------------------------
    def _notified(self, sender: Any, data: bytearray) -> None:
        with self._lock:
            reading = self._assembler.feed(bytes(data))
            if reading is not None and self._reading is None:
                self._reading = reading
                self._reply.set()

    # -- commands -------------------------------------------------------------------------
    def _client_or_lost(self) -> BleClient:
        client = self._client
        if client is None or not client.is_connected:
            raise MeterDisconnectedError(
                f"lost the meter on {self.port}",
                "the Bluetooth LE link dropped: out of range or switched off?",
            )
        return client

    def _write(self, command: str) -> None:
        client = self._client_or_lost()
        generation = self.generation
        assert generation is not None
        self._run(
            client.write_gatt_char(
                generation.write_uuid, bp.COMMANDS[command], generation.write_with_response
            ),
            self.timeout_s,
            "",
        )

    def read(self) -> Reading:
        """Write ``bgetva`` and wait for the reassembled 192-byte reply."""
        with self._lock:
            self._assembler.clear()
            self._reading = None
            self._reply.clear()
        self._write("getva")
        if not self._reply.wait(self.timeout_s):
            self._client_or_lost()  # a dropped link is a disconnection, not a timeout
            with self._lock:
                pending = self._assembler.pending
            if not pending:
                raise MeterTimeoutError(f"no reply from the meter on {self.port}")
            raise MeterTimeoutError(
                f"incomplete reply from the meter on {self.port}: no valid 192-byte packet "
                f"in {pending} bytes"
            )
        with self._lock:
            reading = self._reading
        assert reading is not None
        return reading

    def check_mode(self) -> None:
        """Nothing to ask over BLE (no ``query`` there): the link is checked to be up."""
        self._client_or_lost()

    def rotate(self) -> None:
        self._write("rotate")

    def next_page(self) -> None:
        self._write("next")

    def previous_page(self) -> None:
        self._write("previous")


def scan_command(timeout_s: float = SCAN_S, scan: Scan | None = None) -> int:
    """``tc66c-server scan``: the TC66C meters advertising nearby, with their RSSI."""
    import sys

    try:
        if scan is None:
            _bleak()
        adverts = asyncio.run(asyncio.wait_for((scan or bleak_scan)(timeout_s), timeout_s + 5))
    except MeterError as exc:
        print(f"error: {exc.describe()}", file=sys.stderr)
        return 1
    except Exception as exc:  # no adapter, BlueZ not running...
        print(
            f"error: Bluetooth LE scan failed ({exc.__class__.__name__}): is there an adapter, "
            "and is the bluetooth service running?",
            file=sys.stderr,
        )
        return 1
    meters = meters_in(adverts)
    if not meters:
        print("no TC66C advertising (a meter connected elsewhere does not advertise)")
        return 0
    for advert in meters:
        rssi = f"{advert.rssi} dBm" if advert.rssi is not None else "? dBm"
        print(f"ble:{advert.address}\t{advert.name}\t{rssi}")
    return 0
