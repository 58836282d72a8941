"""The store under attack: a corrupt database at start, a full disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reliability import storage
from reliability.outcome import Outcome

ExpectClean = Callable[[Outcome], None]
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(90)]


@pytest.mark.parametrize("how", storage.DAMAGES)
def test_corrupt_database_is_moved_aside_and_the_server_runs(
    tmp_path: Path, expect_clean: ExpectClean, how: str
) -> None:
    expect_clean(storage.corrupt_database(tmp_path, how))


def test_full_disk_shows_in_status_and_the_backlog_is_written_when_space_returns(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(storage.disk_full(tmp_path))
