"""Stop rules of one recording, for a capacity or charge test.

A recording may stop by itself when the voltage falls below ``voltage_below_v`` (a battery
under test is empty), when the current stays below ``current_below_a`` for
``current_below_for_s`` seconds (a charge has finished), after ``duration_s`` seconds or
once ``energy_wh`` has gone through. :class:`StopRuleCheck` applies them sample by sample.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .reasons import EndReason

#: The JSON keys of the rules, with the largest value each may take.
LIMITS: dict[str, float] = {
    "voltage_below_v": 40.0,
    "current_below_a": 10.0,
    "current_below_for_s": 86_400.0,
    "duration_s": 366 * 86_400.0,
    "energy_wh": 1e6,
}


class StopRuleError(ValueError):
    """Stop rules that cannot be applied; the message names the key and why."""


@dataclass(frozen=True, slots=True)
class StopRules:
    """The rules of one recording; None switches a rule off."""

    voltage_below_v: float | None = None
    current_below_a: float | None = None
    current_below_for_s: float = 0.0
    duration_s: float | None = None
    energy_wh: float | None = None

    @classmethod
    def from_json(cls, body: object) -> StopRules:
        """Rules from a JSON object (keys of :data:`LIMITS`), refused with a clear message."""
        if body is None:
            return cls()
        if not isinstance(body, dict):
            raise StopRuleError("stop_rules must be an object")
        unknown = sorted(set(body) - set(LIMITS))
        if unknown:
            raise StopRuleError(
                f"stop_rules: unknown key {unknown[0]!r} (known: {', '.join(LIMITS)})"
            )
        values: dict[str, float] = {}
        for key, value in body.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise StopRuleError(f"stop_rules.{key} must be a number")
            if not math.isfinite(value) or not 0 < value <= LIMITS[key]:
                raise StopRuleError(f"stop_rules.{key} must be > 0 and <= {LIMITS[key]:g}")
            values[key] = float(value)
        if "current_below_for_s" in values and "current_below_a" not in values:
            raise StopRuleError("stop_rules.current_below_for_s needs current_below_a")
        return cls(**values)

    def as_json(self) -> dict[str, Any]:
        """The rules that are on, as JSON."""
        return {k: v for k, v in asdict(self).items() if v is not None and v != 0.0}

    @property
    def empty(self) -> bool:
        """True when no rule is on."""
        return not self.as_json()


@dataclass(frozen=True, slots=True)
class Stop:
    """A rule fired: the recording ends at ``at_ts`` for ``reason``."""

    at_ts: float
    reason: EndReason


class StopRuleCheck:
    """The rules of one recording applied to its samples, from ``start_ts``."""

    def __init__(self, rules: StopRules, start_ts: float) -> None:
        self.rules = rules
        self.start_ts = start_ts
        #: Since when the current has been below ``current_below_a`` (None: it is not).
        self.below_since: float | None = None

    def sample(
        self, ts: float, voltage_v: float, current_a: float, energy_wh: float
    ) -> Stop | None:
        """One sample (and the recording's energy so far); the stop it causes, if any."""
        rules = self.rules
        if rules.voltage_below_v is not None and voltage_v < rules.voltage_below_v:
            return Stop(ts, EndReason.RULE_VOLTAGE)
        if rules.current_below_a is not None:
            if current_a >= rules.current_below_a:
                self.below_since = None
            else:
                if self.below_since is None:
                    self.below_since = ts
                if ts - self.below_since >= rules.current_below_for_s:
                    return Stop(ts, EndReason.RULE_CURRENT)
        if rules.energy_wh is not None and energy_wh >= rules.energy_wh:
            return Stop(ts, EndReason.RULE_ENERGY)
        return self.tick(ts)

    def tick(self, now: float) -> Stop | None:
        """The clock alone: the duration rule, ending exactly at start + duration (a sample
        at that very time still belongs to the recording)."""
        duration = self.rules.duration_s
        if duration is not None and now - self.start_ts > duration:
            return Stop(self.start_ts + duration, EndReason.RULE_DURATION)
        return None
