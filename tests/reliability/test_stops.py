"""SIGTERM or SIGINT, to the server alone or to its process group: a clean stop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reliability import stops
from reliability.outcome import Outcome

ExpectClean = Callable[[Outcome], None]
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(90)]


@pytest.mark.parametrize("group", [False, True], ids=["server", "group"])
@pytest.mark.parametrize("signame", stops.SIGNALS)
def test_signal_stops_with_status_0_within_3_s_and_leaves_nothing(
    tmp_path: Path, expect_clean: ExpectClean, signame: str, group: bool
) -> None:
    expect_clean(stops.stop(tmp_path, signame, group=group))
