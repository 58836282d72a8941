"""Serial port discovery: list ports and find the TC66C by its USB identity."""

from __future__ import annotations

from dataclasses import dataclass

from serial.tools import list_ports

from .errors import PortNotFoundError

#: GigaDevice, the meter's MCU vendor; the meter reports manufacturer "RuiDeng".
RUIDENG_VID = 0x28E9
RUIDENG_MANUFACTURER = "RuiDeng"


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One serial port as the OS reports it."""

    device: str
    description: str
    manufacturer: str | None
    vid: int | None
    pid: int | None
    likely_meter: bool
    #: The USB adapter's own serial number and its place on the bus (``1-1.2:1.0``):
    #: what tells two identical meters apart (None for ports that are not USB).
    usb_serial: str | None = None
    usb_location: str | None = None


def is_likely_meter(vid: int | None, manufacturer: str | None) -> bool:
    """True when the USB identity is the TC66C's (vendor 0x28E9 or manufacturer RuiDeng)."""
    maker = (manufacturer or "").strip().lower()
    return vid == RUIDENG_VID or maker == RUIDENG_MANUFACTURER.lower()


def list_serial_ports() -> list[PortInfo]:
    """Every serial port the machine sees, likely meters first."""
    ports = [
        PortInfo(
            device=p.device,
            description=p.description or "",
            manufacturer=p.manufacturer,
            vid=p.vid,
            pid=p.pid,
            likely_meter=is_likely_meter(p.vid, p.manufacturer),
            usb_serial=p.serial_number,
            usb_location=p.location,
        )
        for p in list_ports.comports()
    ]
    return sorted(ports, key=lambda p: (not p.likely_meter, p.device))


def find_meter() -> str:
    """The device path of the first attached TC66C, or :class:`PortNotFoundError`."""
    for port in list_serial_ports():
        if port.likely_meter:
            return port.device
    raise PortNotFoundError(
        "failed to open:auto",
        "no TC66C found among serial ports (looked for USB vendor 0x28E9 / manufacturer "
        "RuiDeng); check the cable goes to the meter's micro-USB port",
    )
