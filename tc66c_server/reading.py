"""The decoded content of one meter reply."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: UM charging modes by the code the meter sends (RDSER, RDUSB; docs/protocol.md section 5).
CHARGING_MODES = (
    "unknown",
    "QC2.0",
    "QC3.0",
    "Apple 2.4A",
    "Apple 2.1A",
    "Apple 1.0A",
    "Apple 0.5A",
    "DCP 1.5A",
    "Samsung",
)
UM_GROUP_COUNT = 10
#: The keys a UM reading adds to a data point (``UmFields.as_dict``), in order.
UM_KEYS: tuple[str, ...] = (
    *(f"group{g}_{unit}" for g in range(2, UM_GROUP_COUNT) for unit in ("mah", "mwh")),
    "selected_group",
    "temperature_f",
    "charging_mode",
    "threshold_mah",
    "threshold_mwh",
    "threshold_current",
    "recording_s",
    "recording_active",
    "screen_timeout_min",
    "screen_brightness",
    "screen_index",
)


@dataclass(frozen=True, slots=True)
class UmFields:
    """What a UM24C/UM25C/UM34C reply says beyond the TC66C's fields."""

    model_id: int
    groups: tuple[tuple[int, int], ...]  # (mAh, mWh) of data groups 0-9
    selected_group: int
    temperature_f: int  # degrees F
    charging_mode: int  # index into CHARGING_MODES (other codes kept as sent)
    threshold_mah: int  # charge recorded while the current is over the threshold
    threshold_mwh: int
    threshold_current: float  # A, 10 mA steps
    recording_s: int
    recording_active: bool
    screen_timeout_min: int
    screen_brightness: int
    screen_index: int

    @property
    def charging_mode_name(self) -> str:
        """The charging mode in words (``code N`` for a code no source names)."""
        if 0 <= self.charging_mode < len(CHARGING_MODES):
            return CHARGING_MODES[self.charging_mode]
        return f"code {self.charging_mode}"

    def as_dict(self) -> dict[str, Any]:
        """Flat JSON-ready fields: groups 2-9 as ``groupN_mah``/``groupN_mwh`` (0 and 1 are
        the reading's own ``group0_*``/``group1_*``), the charging mode in words."""
        out: dict[str, Any] = {}
        for index, (mah, mwh) in enumerate(self.groups[2:], start=2):
            out[f"group{index}_mah"] = mah
            out[f"group{index}_mwh"] = mwh
        for f in fields(self):
            if f.name not in ("groups", "model_id"):
                out[f.name] = getattr(self, f.name)
        out["charging_mode"] = self.charging_mode_name
        return out


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything one meter reply says, in physical units at the device's resolution.

    A TC66C fills the fields below ``um``; a UM meter fills them too (its data groups 0 and 1
    as ``group0_*``/``group1_*``, its model as ``product``) and adds ``um``.
    """

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
    um: UmFields | None = None

    def as_dict(self) -> dict[str, Any]:
        """All fields as a plain flat dict (JSON-ready); the UM fields only when present."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "um"}
        if self.um is not None:
            out.update(self.um.as_dict())
        return out


@dataclass(frozen=True, slots=True)
class Sample:
    """A reading with the host time at which it arrived (Unix seconds)."""

    ts: float
    reading: Reading
