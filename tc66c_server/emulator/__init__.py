"""A faithful virtual TC66C: the real USB protocol on a pseudo-terminal, faults on demand.

``EmulatorHost`` serves it on a pty behind a stable symlink; ``VirtualMeter`` is the pure
command state machine; ``BenchSession`` the simulated bench; ``FaultKind`` what can go wrong.
``EmulatorPair`` serves two meters on either side of a ``ConverterModel`` or ``CableModel``.
"""

from .converter import CableModel, ConverterModel
from .device import VirtualMeter
from .faults import FaultKind
from .host import EmulatorHost
from .pair import EmulatorPair
from .signal import BenchSession

__all__ = [
    "BenchSession",
    "CableModel",
    "ConverterModel",
    "EmulatorHost",
    "EmulatorPair",
    "FaultKind",
    "VirtualMeter",
]
