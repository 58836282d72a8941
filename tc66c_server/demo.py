"""The simulated bench behind the ``demo`` ports: emulated TC66Cs on pseudo-terminals.

``demo`` is a meter on the input of a simulated converter (the emulator's reproducible
bench scene: 5 V idle, then 9, 12 and 20 V PD charging, a load step and a taper) and
``demo-out`` a meter on its output, whose readings follow the input's at the same instants
through the converter model (efficiency 80 % at idle rising to 92 %). Paired, they show a
true efficiency. The emulators start when a meter first uses them and stop with the bench.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from .emulator import ConverterModel, EmulatorPair

#: The ``port`` values served here, and which side of the converter each one reads.
INPUT, OUTPUT = "demo", "demo-out"


class DemoBench:
    """Owns the demo emulator pair and the temporary directory of its links."""

    def __init__(self, *, reply_delay_s: float = 0.09) -> None:
        self._reply_delay_s = reply_delay_s
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._pair: EmulatorPair | None = None
        self._lock = threading.Lock()
        #: Every link the demo ever served: a sample read from one is a demo sample.
        self.links: set[str] = set()

    @property
    def input_link(self) -> str | None:
        pair = self._pair
        return str(pair.input.link) if pair is not None else None

    def link_for(self, port: str) -> str:
        """The link of the emulator serving ``port`` (``demo`` or ``demo-out``), started."""
        if port not in (INPUT, OUTPUT):
            raise ValueError(f"not a demo port: {port!r}")
        with self._lock:
            if self._pair is None:
                self._dir = tempfile.TemporaryDirectory(prefix="tc66c-demo-")
                folder = Path(self._dir.name)
                self._pair = EmulatorPair(
                    folder / "ttyTC66-in",
                    folder / "ttyTC66-out",
                    ConverterModel(),
                    reply_delay_s=self._reply_delay_s,
                ).start()
            host = self._pair.input if port == INPUT else self._pair.output
            self.links.add(str(host.link))
            return str(host.link)

    def stop(self) -> None:
        """Stop both emulators and remove their links."""
        with self._lock:
            if self._pair is not None:
                self._pair.stop()
                self._pair = None
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None
