"""Byte links to a meter: a serial port at a given baud rate, or a Bluetooth RFCOMM socket.

Each link owns its port or socket, maps library and OS failures to the project's
exceptions (:mod:`tc66c_server.errors`) and always closes on the way out. The meters'
protocols (``um_transport``) are written against :class:`ByteLink` only.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import time
from typing import Protocol

import serial

from .errors import MeterDisconnectedError, PortBusyError, PortNotFoundError
from .transport import _open_error

BT_PREFIX = "bt:"
#: RFCOMM channel of the UM meters' serial port profile (the only service they offer).
RFCOMM_CHANNEL = 1
_BT_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


class ByteLink(Protocol):
    """An open two-way byte stream to one meter."""

    name: str

    def write(self, data: bytes) -> None:
        """Send bytes (stale input is dropped first); MeterDisconnectedError if gone."""
        ...

    def read(self, size: int, timeout_s: float) -> bytes:
        """Up to ``size`` bytes; fewer only when ``timeout_s`` passes first."""
        ...

    def close(self) -> None:
        """Close; never raises."""
        ...


class SerialLink:
    """A serial port (``/dev/rfcomm0``, a USB adapter, the emulator's pty) at ``baudrate``."""

    def __init__(self, port: str, baudrate: int, timeout_s: float) -> None:
        self.name = port
        try:
            self._serial: serial.Serial | None = serial.Serial(
                port, baudrate, timeout=timeout_s, write_timeout=timeout_s
            )
        except (serial.SerialException, OSError) as exc:
            raise _open_error(port, exc) from None

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise MeterDisconnectedError(f"port {self.name} is not open")
        return self._serial

    def _lost(self, exc: BaseException) -> MeterDisconnectedError:
        self.close()
        return MeterDisconnectedError(
            f"lost the meter on {self.name}",
            f"the port stopped answering ({exc.__class__.__name__}): out of range or off?",
        )

    def write(self, data: bytes) -> None:
        ser = self._port()
        try:
            if ser.in_waiting:
                ser.reset_input_buffer()
            ser.write(data)
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from None

    def read(self, size: int, timeout_s: float) -> bytes:
        ser = self._port()
        try:
            if ser.timeout != timeout_s:
                ser.timeout = timeout_s
            return bytes(ser.read(size))
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from None

    def close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                ser.close()


def bt_address(port: str) -> str:
    """The ``AA:BB:CC:DD:EE:FF`` of a ``bt:`` port; PortNotFoundError when malformed."""
    address = port[len(BT_PREFIX) :]
    if not _BT_ADDRESS.match(address):
        raise PortNotFoundError(
            f"failed to open:{port}",
            "a Bluetooth port is bt:AA:BB:CC:DD:EE:FF (six hex pairs, the meter's address)",
        )
    return address.upper()


class SocketLink:
    """A connected stream socket: an RFCOMM link to a UM meter (or, in tests, a socketpair)."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.name = name
        self._sock: socket.socket | None = sock
        sock.setblocking(False)

    @classmethod
    def rfcomm(cls, port: str, timeout_s: float) -> SocketLink:
        """Connect to ``bt:AA:BB:CC:DD:EE:FF`` on RFCOMM channel 1 (no ``rfcomm bind``)."""
        address = bt_address(port)
        family = getattr(socket, "AF_BLUETOOTH", None)
        proto = getattr(socket, "BTPROTO_RFCOMM", None)
        if family is None or proto is None:
            raise PortNotFoundError(
                f"failed to open:{port}",
                "this Python has no Bluetooth sockets (socket.AF_BLUETOOTH; Linux with BlueZ "
                f"has them): bind the meter with `rfcomm bind 0 {address}` and use /dev/rfcomm0",
            )
        try:
            sock = socket.socket(family, socket.SOCK_STREAM, proto)
        except OSError as exc:
            raise PortNotFoundError(
                f"failed to open:{port}",
                f"Bluetooth is not available here ({exc.strerror or exc}): is an adapter "
                "present and the bluetooth service running?",
            ) from None
        try:
            sock.settimeout(timeout_s)
            sock.connect((address, RFCOMM_CHANNEL))
        except OSError as exc:
            sock.close()
            raise PortBusyError(
                f"failed to open:{port}",
                f"no RFCOMM connection ({exc.strerror or exc.__class__.__name__}): is the meter "
                "on, paired (PIN 1234) and not connected to another device?",
            ) from None
        return cls(sock, port)

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise MeterDisconnectedError(f"link {self.name} is not open")
        return self._sock

    def _lost(self, why: str) -> MeterDisconnectedError:
        self.close()
        return MeterDisconnectedError(f"lost the meter on {self.name}", why)

    def write(self, data: bytes) -> None:
        sock = self._socket()
        try:
            while select.select([sock], [], [], 0)[0]:  # drop stale input
                if not sock.recv(4096):
                    raise self._lost("the meter closed the link")
            sock.sendall(data)
        except (BlockingIOError, InterruptedError):
            raise self._lost("the link is not accepting data") from None
        except OSError as exc:
            raise self._lost(f"the link failed ({exc.__class__.__name__})") from None

    def read(self, size: int, timeout_s: float) -> bytes:
        sock = self._socket()
        buf = bytearray()
        deadline = time.monotonic() + timeout_s
        try:
            while len(buf) < size:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([sock], [], [], left)[0]:
                    break
                chunk = sock.recv(size - len(buf))
                if not chunk:
                    raise self._lost("the meter closed the link")
                buf += chunk
        except OSError as exc:
            raise self._lost(f"the link failed ({exc.__class__.__name__})") from None
        return bytes(buf)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
