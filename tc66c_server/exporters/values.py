"""What the exporters say about a sample: its values in physical units, open circuit as absent.

The TC66C shows 9999.9 Ω when no current flows: that is "no load", not a resistance, so
exporters leave it out (Prometheus) or send ``null`` (MQTT) rather than plot a spike.
"""

from __future__ import annotations

from typing import Any

from .. import quantities as q
from ..energy import EnergyTotals
from ..reading import Reading, Sample
from ..timefmt import iso

#: What the meter shows for the load resistance when no current flows.
OPEN_CIRCUIT_OHM = 9999.9
ENERGY_DECIMALS = 6  # Wh and mAh, as the store's statistics
#: The state message's keys, in order: the meter's own quantities, then the server's totals.
STATE_KEYS = (
    *(quantity.key for quantity in q.ALL),
    "energy_wh",
    "charge_mah",
)


def load_resistance_ohm(reading: Reading) -> float | None:
    """The load resistance the meter measured, or None on an open circuit."""
    if reading.current <= 0 or reading.resistance >= OPEN_CIRCUIT_OHM:
        return None
    return reading.resistance


def state_payload(sample: Sample, totals: EnergyTotals | None) -> dict[str, Any]:
    """One meter's state message: time, every quantity, and the server's energy counters."""
    reading = sample.reading
    payload: dict[str, Any] = {"timestamp": iso(sample.ts)}
    for quantity in q.ALL:
        payload[quantity.key] = getattr(reading, quantity.key)
    payload["resistance"] = load_resistance_ohm(reading)
    totals = totals or EnergyTotals()
    payload["energy_wh"] = round(totals.energy_wh, ENERGY_DECIMALS)
    payload["charge_mah"] = round(totals.charge_mah, ENERGY_DECIMALS)
    return payload
