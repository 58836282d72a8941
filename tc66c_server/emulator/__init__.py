"""A faithful virtual TC66C: the real USB protocol on a pseudo-terminal, faults on demand.

``EmulatorHost`` serves it on a pty behind a stable symlink; ``VirtualMeter`` is the pure
command state machine; ``BenchSession`` the simulated bench; ``FaultKind`` what can go wrong.
"""

from .device import VirtualMeter
from .faults import FaultKind
from .host import EmulatorHost
from .signal import BenchSession

__all__ = ["BenchSession", "EmulatorHost", "FaultKind", "VirtualMeter"]
