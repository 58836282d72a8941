"""Hostile HTTP and a hostile page: refused with the right status, nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reliability import browser, sse_cap, web
from reliability.outcome import Outcome

ExpectClean = Callable[[Outcome], None]
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]


def test_every_hostile_request_is_refused_and_changes_nothing(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(web.hostile_requests(tmp_path))


def test_stream_clients_are_capped_with_a_503_and_the_api_keeps_answering(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(sse_cap.sse_cap(tmp_path))


@pytest.mark.browser
def test_a_cross_origin_page_in_chromium_cannot_change_config_or_history(
    tmp_path: Path, expect_clean: ExpectClean
) -> None:
    expect_clean(browser.cross_origin_page(tmp_path))
