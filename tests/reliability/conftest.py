"""The reliability suite: each test runs one scenario of ``reliability/`` and asserts on it.

The scenarios start real processes and take from 3 to 50 s each (about 4 minutes in all):
``pytest -m "not reliability"`` leaves them out, ``pytest -m reliability`` runs only them,
``./scripts/reliability.sh`` runs the same functions and rewrites docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reliability.outcome import Outcome


@pytest.fixture
def expect_clean() -> Callable[[Outcome], None]:
    """Fail with every failed check of an outcome (skip with its reason when it skipped)."""

    def check(outcome: Outcome) -> None:
        if outcome.skipped is not None:
            pytest.skip(outcome.skipped)
        if not outcome.ok:
            pytest.fail("\n  ".join([f"{outcome.scenario}:", *outcome.problems]), pytrace=False)

    return check
