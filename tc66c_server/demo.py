"""The simulated bench behind the ``demo`` ports: emulated TC66Cs on pseudo-terminals.

``demo`` is a meter on the input of a simulated converter and ``demo-out`` a meter on its
output, whose readings follow the input's through the converter model; together they make a
pair whose efficiency is known. The emulators start when a meter first uses them.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from .emulator import EmulatorHost


class DemoBench:
    """Owns the demo emulators and the temporary directory of their links."""

    def __init__(self, *, reply_delay_s: float = 0.09) -> None:
        self._reply_delay_s = reply_delay_s
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._hosts: dict[str, EmulatorHost] = {}
        self._lock = threading.Lock()

    @property
    def input_link(self) -> str | None:
        host = self._hosts.get("demo")
        return str(host.link) if host is not None else None

    def link_for(self, port: str) -> str:
        """The link of the emulator serving ``port`` (``demo`` or ``demo-out``), started."""
        with self._lock:
            if self._dir is None:
                self._dir = tempfile.TemporaryDirectory(prefix="tc66c-demo-")
            host = self._hosts.get(port)
            if host is None:
                host = self._start(port, Path(self._dir.name))
            return str(host.link)

    def _start(self, port: str, folder: Path) -> EmulatorHost:
        host = EmulatorHost(folder / f"tty-{port}", reply_delay_s=self._reply_delay_s)
        host.start()
        self._hosts[port] = host
        return host

    def stop(self) -> None:
        """Stop every emulator and remove their links."""
        with self._lock:
            for host in self._hosts.values():
                host.stop()
            self._hosts.clear()
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None
