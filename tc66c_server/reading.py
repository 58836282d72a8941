"""The decoded content of one meter reply."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything one ``getva`` reply says, in physical units at the device's resolution."""

    product: str
    firmware: str
    serial: int
    runs: int
    voltage: float  # V, 0.1 mV steps
    current: float  # A, 10 uA steps
    power: float  # W, 0.1 mW steps
    resistance: float  # Ohm, 0.1 Ohm steps
    group0_mah: int
    group0_mwh: int
    group1_mah: int
    group1_mwh: int
    temperature: int  # degrees C, signed
    d_plus: float  # V, 10 mV steps
    d_minus: float  # V, 10 mV steps

    def as_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Sample:
    """A reading with the host time at which it arrived (Unix seconds)."""

    ts: float
    reading: Reading
