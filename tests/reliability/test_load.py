"""50 HTTP and 30 live-stream clients for 20 s at 5 Hz polling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reliability import load
from reliability.outcome import Outcome

ExpectClean = Callable[[Outcome], None]
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]


def test_load_misses_no_slot_streams_every_sample_and_leaks_no_file(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(load.load(tmp_path))
