"""Schemathesis over /openapi.json with all its checks: no 5xx, answers as documented."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reliability import schema
from reliability.outcome import Outcome

ExpectClean = Callable[[Outcome], None]
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(schema.schema_fuzz(tmp_path))
