"""Every quantity the meter measures, declared once as data.

The API field names, the Prometheus-style metadata, the CSV headers and the chart labels
all read this table, so a quantity's name, unit and resolution live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Quantity:
    """One measured quantity: its JSON key, unit and the device's resolution."""

    key: str
    unit: str
    decimals: int
    description: str
    kind: Literal["gauge", "counter"] = "gauge"
    #: The values a meter can physically report (imports refuse others); None: any value
    #: that fits the meter's 32-bit field.
    limits: tuple[float, float] | None = None

    @property
    def scale(self) -> int:
        """Raw integer steps per unit (10**decimals)."""
        return int(10**self.decimals)

    def from_raw(self, raw: int) -> float:
        """Raw device integer to a float at exactly the device's resolution."""
        return raw / self.scale if self.decimals else float(raw)

    def to_raw(self, value: float) -> int:
        """Float value back to the device's raw integer (nearest step)."""
        return round(value * self.scale)


# Limits: a TC66C reads USB-C's VBUS (at most 20 V by USB PD, 24 V for the meter) and a few
# amperes; these bounds leave a wide margin and still refuse what no meter reported.
VOLTAGE = Quantity("voltage", "V", 4, "VBUS voltage", limits=(0.0, 40.0))
CURRENT = Quantity("current", "A", 5, "VBUS current", limits=(0.0, 10.0))
POWER = Quantity("power", "W", 4, "Power drawn through the meter", limits=(0.0, 400.0))
RESISTANCE = Quantity("resistance", "Ω", 1, "Load resistance seen by the meter (V/I)")
TEMPERATURE = Quantity("temperature", "°C", 0, "Meter temperature", limits=(-40.0, 150.0))
D_PLUS = Quantity("d_plus", "V", 2, "USB D+ line voltage", limits=(0.0, 40.0))
D_MINUS = Quantity("d_minus", "V", 2, "USB D- line voltage", limits=(0.0, 40.0))
GROUP0_MAH = Quantity("group0_mah", "mAh", 0, "Meter energy group 0: charge", "counter")
GROUP0_MWH = Quantity("group0_mwh", "mWh", 0, "Meter energy group 0: energy", "counter")
GROUP1_MAH = Quantity("group1_mah", "mAh", 0, "Meter energy group 1: charge", "counter")
GROUP1_MWH = Quantity("group1_mwh", "mWh", 0, "Meter energy group 1: energy", "counter")

#: The seed's three quantities, always present in a data point.
CORE: tuple[Quantity, ...] = (VOLTAGE, CURRENT, POWER)
#: The other quantities, served on request (``fields=``).
EXTRA: tuple[Quantity, ...] = (
    RESISTANCE,
    TEMPERATURE,
    D_PLUS,
    D_MINUS,
    GROUP0_MAH,
    GROUP0_MWH,
    GROUP1_MAH,
    GROUP1_MWH,
)
ALL: tuple[Quantity, ...] = CORE + EXTRA
BY_KEY: dict[str, Quantity] = {q.key: q for q in ALL}
