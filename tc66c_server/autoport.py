"""Which detected TC66C a meter configured ``port: auto`` takes: pure ordering, no I/O.

Several meters may be ``auto``. The detected meters are put in one stable order, by USB
location (the physical socket), then the adapter's USB serial, then the device path; the
N-th ``auto`` meter of the bench (its *rank*) prefers the N-th of them, so with every meter
plugged in the assignment is the same at each start. A meter that reconnects prefers the
port it had, if it is still there. Ports another meter names explicitly are never taken.

The order is only a preference: the transport opens the candidates in turn with an
exclusive lock on the port (``flock``), so two meters, even in two processes, never hold
the same port; a candidate already locked by another meter is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .ports import PortInfo


@dataclass(frozen=True, slots=True)
class AutoPolicy:
    """What an ``auto`` meter needs to choose: its rank among the bench's ``auto`` meters
    and the ports other meters name explicitly (picklable: it goes to the poller process)."""

    rank: int = 0
    reserved: tuple[str, ...] = ()


@dataclass
class AutoChoice:
    """One ``auto`` meter's policy and the meter it last opened, shared by the successive
    transports its poller creates, so a reconnect goes back to the same meter."""

    policy: AutoPolicy = field(default_factory=AutoPolicy)
    previous: PortInfo | None = None


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key in which ``1-1.10`` comes after ``1-1.9``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part
    )


def stable_key(port: PortInfo) -> tuple[object, ...]:
    """Ports without a USB location or serial come after those with one."""
    return (
        port.usb_location is None,
        _natural(port.usb_location or ""),
        port.usb_serial is None,
        port.usb_serial or "",
        _natural(port.device),
    )


def _same_file(a: str, b: str) -> bool:
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def same_meter(a: PortInfo, b: PortInfo) -> bool:
    """True when both are the same USB meter: same USB serial and location (a replugged
    meter may come back under another device name), or the same device without either."""
    if a.usb_serial is None and a.usb_location is None:
        return a.device == b.device
    return (a.usb_serial, a.usb_location) == (b.usb_serial, b.usb_location)


def is_reserved(device: str, policy: AutoPolicy) -> bool:
    """True when another meter names ``device`` explicitly."""
    return any(_same_file(device, r) for r in policy.reserved)


def auto_candidates(
    detected: Iterable[PortInfo], policy: AutoPolicy, previous: PortInfo | None = None
) -> list[PortInfo]:
    """The detected meters an ``auto`` meter tries, in order: the meter it had (when still
    detected), then the one its rank points at, then the others in the stable order."""
    meters = sorted(
        (p for p in detected if p.likely_meter and not is_reserved(p.device, policy)),
        key=stable_key,
    )
    if not meters:
        return []
    first = meters[policy.rank] if policy.rank < len(meters) else None
    ordered = [p for p in meters if previous is not None and same_meter(previous, p)][:1]
    if first is not None and first not in ordered:
        ordered.append(first)
    return ordered + [p for p in meters if p not in ordered]


def auto_policies(ports: Sequence[str]) -> list[AutoPolicy | None]:
    """The policy of each meter of a bench, by its configured port (None unless ``auto``)."""
    reserved = tuple(p for p in ports if p != "auto")
    policies: list[AutoPolicy | None] = []
    rank = 0
    for port in ports:
        if port == "auto":
            policies.append(AutoPolicy(rank, reserved))
            rank += 1
        else:
            policies.append(None)
    return policies
