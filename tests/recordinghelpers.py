"""Readings and a bench scene for the recordings tests (pure logic, no store)."""

from __future__ import annotations

from collections.abc import Iterator

from tc66c_server.emulator.signal import BenchSession
from tc66c_server.reading import Reading, Sample

#: A Tuesday afternoon in November 2024, on a minute boundary.
T0 = 1_732_000_020.0
#: The emulator's bench scene: the phone is attached at 20 s and unplugged at 172 s of
#: each 180 s cycle (``emulator/signal.py``); the next one comes at 200 s.
PHONE_ON_S = 20.0
PHONE_OFF_S = 172.0


def reading(
    voltage: float = 5.1609, current: float = 0.0199, power: float | None = None, **others: object
) -> Reading:
    """A reading like the real capture A, with overrides (power defaults to V x I)."""
    fields: dict[str, object] = {
        "product": "TC66",
        "firmware": "1.18",
        "serial": 48724,
        "runs": 40,
        "voltage": voltage,
        "current": current,
        "power": round(voltage * current, 4) if power is None else power,
        "resistance": 259.3,
        "group0_mah": 0,
        "group0_mwh": 5,
        "group1_mah": 0,
        "group1_mwh": 0,
        "temperature": 27,
        "d_plus": 2.81,
        "d_minus": 2.8,
    }
    fields.update(others)
    return Reading(**fields)  # type: ignore[arg-type]


def bench_samples(
    start_s: float, end_s: float, step_s: float, seed: int = 3
) -> Iterator[tuple[Sample, float]]:
    """The emulator's bench session sampled every ``step_s``: (sample at T0 + t, t)."""
    session = BenchSession(seed)
    n = round((end_s - start_s) / step_s)
    for k in range(n + 1):
        t = start_s + k * step_s
        yield Sample(T0 + t, session.reading_at(t)), t


def exact_energy_wh(start_s: float, end_s: float, seed: int = 3, step_s: float = 0.001) -> float:
    """The emulator's own power integrated finely (1 ms) over ``[start_s, end_s]``."""
    session = BenchSession(seed)
    n = round((end_s - start_s) / step_s)
    total = 0.0
    previous = session.reading_at(start_s).power
    for k in range(1, n + 1):
        power = session.reading_at(start_s + k * step_s).power
        total += (previous + power) / 2 * step_s
        previous = power
    return total / 3600
