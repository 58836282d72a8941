"""The one adapter over pyserial: owns the port, speaks the USB commands, maps errors.

Every pyserial or OS failure leaves this module as one of the exceptions in
:mod:`tc66c_server.errors`; the port is always closed on the way out.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from types import TracebackType

import serial

from . import protocol
from .autoport import AutoChoice, auto_candidates
from .errors import (
    BadReplyError,
    MeterDisconnectedError,
    MeterError,
    MeterTimeoutError,
    PermissionDeniedError,
    PortBusyError,
    PortNotFoundError,
    WrongModeError,
)
from .ports import PortInfo, list_serial_ports
from .reading import Reading

BAUDRATE = 115200
DEFAULT_TIMEOUT_S = 1.0
#: How long the line must stay quiet before a ``gtrec`` download is considered complete.
RECORDING_QUIET_S = 0.5


def _open_error(port: str, exc: BaseException) -> MeterError:
    """Map an open failure to the seed's ``failed to open:<port>`` plus a precise hint."""
    code = getattr(exc, "errno", None)
    message = f"failed to open:{port}"
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return PortNotFoundError(
            message,
            "the port does not exist: check the USB cable goes to the meter's micro-USB port "
            "and list ports with `tc66c-server ports` (or use port 'auto')",
        )
    if code in (errno.EACCES, errno.EPERM):
        return PermissionDeniedError(
            message,
            "permission denied: add yourself to the 'dialout' group "
            "(sudo usermod -aG dialout $USER, then log in again)",
        )
    if code == errno.EBUSY:
        return PortBusyError(message, "the port is busy: close the other program using it")
    return PortBusyError(message, str(exc))


class SerialMeter:
    """A TC66C on a serial port (a real meter, or the emulator's pty).

    One request at a time: every command flushes stale input first, and a reply is read in
    full (or timed out) before the next command is sent.
    """

    def __init__(
        self,
        port: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        auto: AutoChoice | None = None,
        lister: Callable[[], list[PortInfo]] = list_serial_ports,
    ) -> None:
        self.requested_port = port
        self.port = port
        self.timeout_s = timeout_s
        #: How ``auto`` chooses among several meters, and what it chose last (``autoport``).
        self.auto = auto or AutoChoice()
        self._lister = lister
        #: The USB identity of the port open (or last open), when the OS reports one.
        self.usb: PortInfo | None = None
        self._serial: serial.Serial | None = None
        #: Replies recovered by re-synchronising on a shifted byte stream.
        self.resyncs = 0

    # -- lifetime -------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port (resolving ``auto``); raises a :class:`MeterError` on failure."""
        self.close()
        if self.requested_port == "auto":
            self._open_auto()
            return
        port = self.requested_port
        self._serial = self._connect(port, exclusive=None)
        self.port = port
        self.usb = self._usb_of(port)

    def _connect(self, port: str, *, exclusive: bool | None) -> serial.Serial:
        try:
            return serial.Serial(
                port,
                BAUDRATE,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=self.timeout_s,
                write_timeout=self.timeout_s,
                exclusive=exclusive,
            )
        except (serial.SerialException, OSError) as exc:
            raise _open_error(port, exc) from None

    def _open_auto(self) -> None:
        """Open the first free detected meter in :func:`auto_candidates` order, locked so
        that no other meter (in this process or another) opens it while we hold it."""
        candidates = auto_candidates(self._lister(), self.auto.policy, self.auto.previous)
        if not candidates:
            raise PortNotFoundError(
                "failed to open:auto",
                "no TC66C found among serial ports (looked for USB vendor 0x28E9 / "
                "manufacturer RuiDeng); check the cable goes to the meter's micro-USB port",
            )
        last: MeterError | None = None
        for candidate in candidates:
            try:
                self._serial = self._connect(candidate.device, exclusive=True)
            except MeterError as exc:
                last = exc
                continue
            self.port, self.usb = candidate.device, candidate
            self.auto.previous = candidate
            return
        assert last is not None
        raise PortBusyError(
            "failed to open:auto",
            f"every TC66C found ({len(candidates)}) is in use by another meter or program "
            f"(last: {last.describe()})",
        )

    def _usb_of(self, port: str) -> PortInfo | None:
        """The OS's USB identity of ``port`` (None for a pty or a port it does not list)."""
        real = os.path.realpath(port)
        try:
            listed = self._lister()
        except Exception:  # discovery is a nicety here: the port is open and works
            return None
        return next((p for p in listed if os.path.realpath(p.device) == real), None)

    def close(self) -> None:
        """Close the port; never raises."""
        ser, self._serial = self._serial, None
        if ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                ser.close()

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def __enter__(self) -> SerialMeter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- low level ------------------------------------------------------------------------
    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise MeterDisconnectedError(f"port {self.port} is not open")
        return self._serial

    def _io_error(self, exc: BaseException) -> MeterDisconnectedError:
        self.close()
        return MeterDisconnectedError(
            f"lost the meter on {self.port}",
            f"the port stopped answering ({exc.__class__.__name__}): unplugged?",
        )

    def _send(self, command: bytes) -> None:
        ser = self._port()
        try:
            if ser.in_waiting:
                ser.reset_input_buffer()
            ser.write(command)
        except (serial.SerialException, OSError) as exc:
            raise self._io_error(exc) from None

    def _set_timeout(self, ser: serial.Serial, timeout_s: float) -> None:
        # Each change reconfigures the tty (tcsetattr): only touch it when it differs.
        if ser.timeout != timeout_s:
            ser.timeout = timeout_s

    def _read(self, size: int, timeout_s: float) -> bytes:
        """Read up to ``size`` bytes; fewer only when ``timeout_s`` passes first."""
        ser = self._port()
        try:
            self._set_timeout(ser, timeout_s)
            return bytes(ser.read(size))  # pyserial loops until size or its deadline
        except (serial.SerialException, OSError) as exc:
            raise self._io_error(exc) from None

    def _read_pending(self, quiet_s: float) -> bytes:
        """Read until nothing more arrives for ``quiet_s``."""
        ser = self._port()
        buf = bytearray()
        try:
            self._set_timeout(ser, quiet_s)
            while True:
                chunk = ser.read(max(ser.in_waiting, 1))
                if not chunk:
                    return bytes(buf)
                buf += chunk
        except (serial.SerialException, OSError) as exc:
            raise self._io_error(exc) from None

    # -- commands -------------------------------------------------------------------------
    def read(self) -> Reading:
        """Poll one reading (``getva``): flush, request, read 192 bytes, decode.

        Raises :class:`MeterTimeoutError` on no/short reply, :class:`BadReplyError` on a
        corrupt one, :class:`MeterDisconnectedError` if the port went away.
        """
        self._send(b"getva")
        data = self._read(protocol.PACKET_LEN, self.timeout_s)
        if len(data) < protocol.PACKET_LEN:
            # A late tail must not be mistaken for the next reply.
            self._read_pending(0.02)
            if not data:
                raise MeterTimeoutError(f"no reply from the meter on {self.port}")
            raise MeterTimeoutError(
                f"short reply from the meter on {self.port}: {len(data)} of "
                f"{protocol.PACKET_LEN} bytes"
            )
        try:
            return protocol.decode_packet(data)
        except protocol.ProtocolError as exc:
            tail = self._read_pending(0.02)
            reading, _ = protocol.find_packet(data + tail)
            if reading is not None:
                self.resyncs += 1
                return reading
            raise BadReplyError(f"corrupt reply from the meter: {exc}") from None

    def query(self) -> str:
        """Ask the mode: ``"firm"`` (normal firmware) or ``"boot"`` (bootloader)."""
        self._send(b"query")
        data = self._read(4, self.timeout_s)
        if len(data) < 4:
            raise MeterTimeoutError(f"no answer to 'query' on {self.port}")
        return data.decode("latin-1")

    def check_mode(self) -> None:
        """Raise :class:`WrongModeError` unless the meter runs its normal firmware."""
        mode = self.query()
        if mode == "boot":
            raise WrongModeError(
                "the meter is in its bootloader",
                "unplug it and plug it back without holding the K1 button",
            )
        if mode != "firm":
            # Never echo what came back: the port may be any tty, with anyone's text on it.
            raise BadReplyError(
                f"unexpected answer to 'query' on {self.port}: expected 'firm' or 'boot'",
                "is this port the meter?",
            )

    def rotate(self) -> None:
        """Rotate the meter's screen (no reply)."""
        self._send(b"rotat")

    def next_page(self) -> None:
        """Show the next screen page (no reply)."""
        self._send(b"nextp")

    def previous_page(self) -> None:
        """Show the previous screen page (no reply)."""
        self._send(b"lastp")

    def download_recording(self, quiet_s: float = RECORDING_QUIET_S) -> protocol.Recording:
        """Download the on-device recording (``gtrec``): read until the line goes quiet."""
        self._send(b"gtrec")
        first = self._read(1, self.timeout_s)
        data = first + self._read_pending(quiet_s) if first else b""
        return protocol.decode_recording(data)
