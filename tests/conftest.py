"""Shared fixtures: a virtual TC66C on a real pseudo-terminal.

Set ``TC66C_TEST_PORT=/dev/ttyACM0`` to run the transport tests against a real meter instead
(the tests that need the emulator's fault injection are then skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tc66c_server.emulator import EmulatorHost

# Tests assert behaviour, not timings: a slow shared CI machine must not fail an example.
settings.register_profile("project", deadline=None)
settings.load_profile("project")


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHost]:
    """A running emulator with no reply delay, behind ``tmp_path/ttyTC66``."""
    host = EmulatorHost(tmp_path / "ttyTC66", reply_delay_s=0.0, seed=7)
    host.start()
    try:
        yield host
    finally:
        host.stop()
