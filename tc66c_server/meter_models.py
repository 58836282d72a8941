"""Which meter model a port holds: chosen (``--model``) or detected, and its link object.

Every link object has the surface the poller uses (:class:`MeterLink`). ``auto`` detects:
a TC66C answers ``query`` with ``firm`` or ``boot``; a UM meter answers ``F0`` with a reply
that starts with its model id (docs/protocol.md section 10.2).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from . import protocol
from .autoport import AutoChoice
from .errors import MeterDisconnectedError, MeterError, MeterTimeoutError, PortNotFoundError
from .links import BT_PREFIX
from .ports import PortInfo
from .reading import Reading
from .transport import DEFAULT_TIMEOUT_S, SerialMeter
from .um_protocol import MODELS as UM_MODELS
from .um_transport import UmMeter

MODELS = ("auto", "tc66c", *UM_MODELS)
BLE_PREFIX = "ble:"
#: Screen commands every model knows, by API name, and the link method that sends each.
SCREEN_METHODS = {"rotate": "rotate", "next": "next_page", "previous": "previous_page"}
#: Commands only a UM meter knows: clear the selected data group, select group N.
UM_ACTIONS: tuple[str, ...] = ("clear_group", *(f"select_group_{n}" for n in range(10)))
ACTIONS: tuple[str, ...] = (*SCREEN_METHODS, *UM_ACTIONS)


class MeterLink(Protocol):
    """What the poller needs of a meter link."""

    port: str

    def open(self) -> None: ...
    def close(self) -> None: ...
    def read(self) -> Reading: ...
    def check_mode(self) -> None: ...
    def rotate(self) -> None: ...
    def next_page(self) -> None: ...
    def previous_page(self) -> None: ...


def check_model(model: str) -> str:
    """``model`` if known, else ValueError naming the known ones."""
    if model not in MODELS:
        raise ValueError(f"unknown meter model {model!r}: use one of {', '.join(MODELS)}")
    return model


def _um_first(port: str) -> bool:
    return port.startswith(BT_PREFIX) or port.startswith("/dev/rfcomm")


class AutoMeter:
    """A meter of any supported model on a serial port or ``bt:`` link, found at open.

    Once open, every call goes to the detected meter (:attr:`inner`).
    """

    def __init__(
        self, port: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, auto: AutoChoice | None = None
    ) -> None:
        self.requested_port = port
        self.port = port
        self.timeout_s = timeout_s
        self.auto = auto
        self.inner: SerialMeter | UmMeter | None = None

    def open(self) -> None:
        """Open the port and find out which meter answers; the first model's error if none."""
        self.close()
        if self.requested_port.startswith(BT_PREFIX):
            self._attach(self._try_um())
            return
        tries: tuple[Callable[[], SerialMeter | UmMeter], ...] = (self._try_tc66c, self._try_um)
        if _um_first(self.requested_port):
            tries = tries[::-1]
        first_error: MeterError | None = None
        for attempt in tries:
            try:
                self._attach(attempt())
                return
            except MeterTimeoutError as exc:  # silence: maybe the other model
                first_error = first_error or exc
            except MeterError:
                if first_error is None:
                    raise  # cannot open the port, or a TC66C in a wrong mode
                raise first_error from None
        assert first_error is not None
        raise first_error

    def _try_tc66c(self) -> SerialMeter:
        meter = SerialMeter(self.requested_port, timeout_s=self.timeout_s, auto=self.auto)
        meter.open()
        try:
            meter.query()
        except MeterError:
            meter.close()
            raise
        return meter

    def _try_um(self) -> UmMeter:
        meter = UmMeter(self.requested_port, timeout_s=max(self.timeout_s, 1.0))
        meter.open()
        try:
            meter.read()
        except MeterError:
            meter.close()
            raise
        return meter

    def _attach(self, meter: SerialMeter | UmMeter) -> None:
        self.inner = meter
        self.port = meter.port

    def _meter(self) -> SerialMeter | UmMeter:
        if self.inner is None:
            raise MeterDisconnectedError(f"port {self.port} is not open")
        return self.inner

    def close(self) -> None:
        inner, self.inner = self.inner, None
        if inner is not None:
            inner.close()

    def __enter__(self) -> AutoMeter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def resyncs(self) -> int:
        return self.inner.resyncs if self.inner is not None else 0

    def read(self) -> Reading:
        return self._meter().read()

    def check_mode(self) -> None:
        self._meter().check_mode()

    def rotate(self) -> None:
        self._meter().rotate()

    def next_page(self) -> None:
        self._meter().next_page()

    def previous_page(self) -> None:
        self._meter().previous_page()

    @property
    def usb(self) -> PortInfo | None:
        """The USB identity of the port, when a TC66C was found on it."""
        return self.inner.usb if isinstance(self.inner, SerialMeter) else None

    def um(self) -> UmMeter | None:
        """The UM meter, when one was found (its own commands live there)."""
        return self.inner if isinstance(self.inner, UmMeter) else None


def download_recording(meter: MeterLink) -> protocol.Recording:
    """The meter's own offline recording (``gtrec``): a TC66C's only; a UM meter has none."""
    inner = meter.inner if isinstance(meter, AutoMeter) else meter
    if not isinstance(inner, SerialMeter):
        raise MeterError(
            "this meter keeps no offline recording to download",
            "only the TC66C answers gtrec; a UM meter records into its data groups",
        )
    return inner.download_recording()


def run_command(meter: MeterLink, action: str) -> None:
    """Send one command (an :data:`ACTIONS` name); MeterError if this meter lacks it."""
    if action in SCREEN_METHODS:
        getattr(meter, SCREEN_METHODS[action])()
        return
    if action not in UM_ACTIONS:
        raise ValueError(f"unknown command {action!r}")
    target = meter.um() if isinstance(meter, AutoMeter) else meter
    if not isinstance(target, UmMeter):
        raise MeterError(f"{action} is a UM meter command: this meter is not a UM")
    if action == "clear_group":
        target.clear_group()
    else:
        target.select_group(int(action.rsplit("_", 1)[1]))


def open_meter(
    port: str,
    model: str = "auto",
    *,
    timeout_s: float | None = None,
    auto: AutoChoice | None = None,
) -> MeterLink:
    """The link object for ``port`` holding a ``model`` meter (not opened yet).

    ``auto`` is how a port ``auto`` picks among several TC66Cs (``autoport.py``).

    ``ble:ADDR``/``ble:auto`` is a TC66C over Bluetooth LE (optional ``bleak``); ``bt:ADDR``
    an RFCOMM link to a UM meter; anything else a serial port.
    """
    check_model(model)
    if port.startswith(BLE_PREFIX):
        if model not in ("auto", "tc66c"):
            raise PortNotFoundError(
                f"failed to open:{port}",
                f"a ble: port is a TC66C over Bluetooth LE; a {model.upper()} uses classic "
                "Bluetooth: bt:AA:BB:CC:DD:EE:FF or /dev/rfcomm0",
            )
        from .ble import BleMeter

        return BleMeter(port) if timeout_s is None else BleMeter(port, timeout_s=timeout_s)
    if model == "tc66c":
        return SerialMeter(port, timeout_s=timeout_s or DEFAULT_TIMEOUT_S, auto=auto)
    if model in UM_MODELS:
        return (
            UmMeter(port, model) if timeout_s is None else UmMeter(port, model, timeout_s=timeout_s)
        )
    return AutoMeter(port, timeout_s=timeout_s or DEFAULT_TIMEOUT_S, auto=auto)


def meter_factory(model: str, auto: AutoChoice | None = None) -> _Factory:
    """A picklable ``port -> MeterLink`` for the poller (it crosses into the poll process);
    the links it makes share ``auto``, so a reconnect goes back to the same meter."""
    return _Factory(check_model(model), auto)


class _Factory:
    def __init__(self, model: str, auto: AutoChoice | None = None) -> None:
        self.model = model
        self.auto = auto

    def __call__(self, port: str) -> MeterLink:
        return open_meter(port, self.model, auto=self.auto)
