"""A second meter downstream of the first: through a DC-DC converter, or through a cable.

A model turns what the input meter reads (its reading, already at the TC66C's resolution)
into the electrical state at the output; :class:`FollowerSession` then quantises that as a
TC66C does, so a pair of virtual meters reads what a real pair would read on a bench, at
the same instants.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Protocol

from .. import quantities as q
from ..reading import Reading
from .signal import FIRMWARE, MAX_RESISTANCE_OHM, PRODUCT, BenchSession
from .source import ReadingSource


class PairModel(Protocol):
    """What sits between the two meters."""

    def output(self, voltage_v: float, current_a: float, power_w: float) -> tuple[float, float]:
        """Output voltage (V) and current (A) for the input's voltage, current and power."""
        ...


@dataclass(frozen=True, slots=True)
class ConverterModel:
    """A step-down DC-DC converter (or charger) with a load-dependent efficiency.

    Efficiency rises smoothly from ``min_efficiency`` at no load towards ``max_efficiency``
    (``1 − exp(−P_in / knee_w)``): 80 % at idle, ~88 % at 8 W, ~91 % at 20 W, 92 % beyond,
    the shape of a real buck converter's curve. The output is ``ratio`` × the input voltage
    (a bus converter: 20 V in, 12 V out, so 60 W stays within the TC66C's 5 A), or a
    regulated ``output_v`` when given; either sags by ``droop_ohm`` × I_out.
    """

    ratio: float = 0.6
    output_v: float | None = None
    droop_ohm: float = 0.02
    min_efficiency: float = 0.80
    max_efficiency: float = 0.92
    knee_w: float = 8.0

    def efficiency(self, power_in_w: float) -> float:
        """The conversion efficiency at this input power."""
        rise = 1 - math.exp(-max(power_in_w, 0.0) / self.knee_w)
        return self.min_efficiency + (self.max_efficiency - self.min_efficiency) * rise

    def output(self, voltage_v: float, current_a: float, power_w: float) -> tuple[float, float]:
        """The output voltage and the current that carries P_in × efficiency."""
        power_out = power_w * self.efficiency(power_w)
        nominal = self.ratio * voltage_v if self.output_v is None else self.output_v
        volts = nominal - self.droop_ohm * power_out / nominal
        return volts, power_out / volts


@dataclass(frozen=True, slots=True)
class CableModel:
    """A cable of ``resistance_ohm``: the same current, the voltage lower by I × R."""

    resistance_ohm: float = 0.25

    def output(self, voltage_v: float, current_a: float, power_w: float) -> tuple[float, float]:
        """``V_in − I·R`` and the same current."""
        return voltage_v - current_a * self.resistance_ohm, current_a


def _at_resolution(quantity: q.Quantity, value: float) -> float:
    return quantity.from_raw(max(quantity.to_raw(value), 0))


class FollowerSession:
    """The readings of a meter on the output of ``model``, fed by the ``upstream`` meter.

    Voltage, current, power and V/I follow the upstream reading at the same session time
    through the model, each at the TC66C's resolution (power as the meter computes it, from
    its own quantised V and I). The meter's identity, temperature, data lines and energy
    counters come from its own bench session (seed ``seed``).
    """

    def __init__(
        self,
        upstream: ReadingSource,
        model: PairModel,
        *,
        seed: int = 2,
        product: str = PRODUCT,
        firmware: str = FIRMWARE,
    ) -> None:
        self.upstream = upstream
        self.model = model
        self.own = BenchSession(seed, product=product, firmware=firmware)

    def reading_at(self, t_s: float) -> Reading:
        """The output meter's reading ``t_s`` seconds into the session."""
        source = self.upstream.reading_at(t_s)
        volts, amps = self.model.output(source.voltage, source.current, source.power)
        volts = _at_resolution(q.VOLTAGE, volts)
        amps = _at_resolution(q.CURRENT, amps)
        if amps * MAX_RESISTANCE_OHM > volts:
            ohms = _at_resolution(q.RESISTANCE, volts / amps)
        else:
            ohms = MAX_RESISTANCE_OHM
        return dataclasses.replace(
            self.own.reading_at(t_s),
            voltage=volts,
            current=amps,
            power=_at_resolution(q.POWER, volts * amps),
            resistance=ohms,
        )
