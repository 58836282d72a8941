"""A UM24C / UM25C / UM34C on a serial port (9600 baud, e.g. ``/dev/rfcomm0``) or ``bt:ADDR``.

The same surface as :class:`~tc66c_server.transport.SerialMeter` (open, close, read,
check_mode, the screen commands), plus the UM's own commands (data groups, brightness,
screen timeout, recording threshold). One request at a time: stale input is dropped before
every command and a reply is read in full, or timed out, before the next one.
"""

from __future__ import annotations

from types import TracebackType

from . import um_protocol as um
from .errors import BadReplyError, MeterDisconnectedError, MeterTimeoutError, PortNotFoundError
from .links import BT_PREFIX, ByteLink, SerialLink, SocketLink
from .protocol import ProtocolError
from .reading import Reading

BAUDRATE = 9600
#: An RFCOMM link answers more slowly than USB (130 bytes at 9600 baud alone take 135 ms).
DEFAULT_TIMEOUT_S = 2.0
_TAIL_S = 0.05


class UmMeter:
    """One UM meter. ``model`` is ``"auto"`` (taken from the first reply) or a model name."""

    def __init__(self, port: str, model: str = "auto", *, timeout_s: float = DEFAULT_TIMEOUT_S):
        if model != "auto" and model not in um.MODELS:
            raise ValueError(f"unknown UM model {model!r}")
        self.requested_port = port
        self.port = port
        self.timeout_s = timeout_s
        self.expected: um.UmModel | None = None if model == "auto" else um.MODELS[model]
        #: The model seen in the replies (None before the first one).
        self.model: um.UmModel | None = self.expected
        self.resyncs = 0
        self._link: ByteLink | None = None

    # -- lifetime -------------------------------------------------------------------------
    def open(self) -> None:
        """Open the serial port or RFCOMM link; raises a MeterError on failure."""
        self.close()
        port = self.requested_port
        if port == "auto":
            raise PortNotFoundError(
                "failed to open:auto",
                "'auto' finds a TC66C on USB only: give the UM meter's port "
                "(/dev/rfcomm0 after `rfcomm bind`, or bt:AA:BB:CC:DD:EE:FF)",
            )
        if port.startswith(BT_PREFIX):
            self._link = SocketLink.rfcomm(port, self.timeout_s)
        else:
            self._link = SerialLink(port, BAUDRATE, self.timeout_s)

    def attach(self, link: ByteLink) -> None:
        """Use an already open link (a socket the caller connected)."""
        self.close()
        self._link = link

    def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()

    @property
    def is_open(self) -> bool:
        return self._link is not None

    def __enter__(self) -> UmMeter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _io(self) -> ByteLink:
        if self._link is None:
            raise MeterDisconnectedError(f"port {self.port} is not open")
        return self._link

    # -- commands -------------------------------------------------------------------------
    def send(self, command: bytes) -> None:
        """Send one command byte (or several) that has no reply."""
        try:
            self._io().write(command)
        except MeterDisconnectedError:
            self.close()
            raise

    def read(self) -> Reading:
        """Request (``F0``), read and decode one 130-byte reply.

        Raises MeterTimeoutError on no/short reply, BadReplyError on a corrupt one or one
        from another model than configured, MeterDisconnectedError if the link went away.
        """
        try:
            return self._exchange()
        except MeterDisconnectedError:
            self.close()
            raise

    def _exchange(self) -> Reading:
        link = self._io()
        link.write(um.REQUEST_DATA)
        data = link.read(um.REPLY_LEN, self.timeout_s)
        if len(data) < um.REPLY_LEN:
            link.read(4096, _TAIL_S)  # a late tail must not be taken for the next reply
            if not data:
                raise MeterTimeoutError(f"no reply from the meter on {self.port}")
            raise MeterTimeoutError(
                f"short reply from the meter on {self.port}: {len(data)} of {um.REPLY_LEN} bytes"
            )
        try:
            reading = um.decode_reply(data, self.expected)
        except ProtocolError as exc:
            tail = link.read(4096, _TAIL_S)
            reading_or_none, _ = um.find_reply(data + tail, self.expected)
            if reading_or_none is None:
                raise BadReplyError(f"corrupt reply from the meter: {exc}") from None
            self.resyncs += 1
            reading = reading_or_none
        if reading.um is not None:
            self.model = um.BY_ID[reading.um.model_id]
        return reading

    def check_mode(self) -> None:
        """Check the port answers as a UM meter (of the configured model): one reading."""
        self.read()

    def rotate(self) -> None:
        self.send(um.ROTATE)

    def next_page(self) -> None:
        self.send(um.NEXT_SCREEN)

    def previous_page(self) -> None:
        self.send(um.PREVIOUS_SCREEN)

    def clear_group(self) -> None:
        """Clear the selected data group's charge and energy."""
        self.send(um.CLEAR_GROUP)

    def select_group(self, group: int) -> None:
        self.send(um.select_group(group))

    def set_brightness(self, level: int) -> None:
        self.send(um.set_brightness(level))

    def set_screen_timeout(self, minutes: int) -> None:
        self.send(um.set_screen_timeout(minutes))

    def set_threshold(self, current_a: float) -> None:
        self.send(um.set_threshold(current_a))
