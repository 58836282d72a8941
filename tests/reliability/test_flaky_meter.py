"""A flaky meter: faulty replies, a cable pulled and plugged back, the server killed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reliability import acquisition
from reliability.outcome import Outcome

ExpectClean = Callable[[Outcome], None]
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]


def test_fault_soak_stores_every_intact_reply_and_no_corrupt_one(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(acquisition.fault_soak(tmp_path))


def test_replug_every_6_s_gives_a_sample_within_2_s_of_each(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(acquisition.replug(tmp_path))


def test_kill_9_of_the_whole_tree_keeps_everything_older_than_1_5_s(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(acquisition.kill_tree(tmp_path))
