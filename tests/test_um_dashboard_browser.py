"""A UM meter's card in a real browser: its 10 data groups, selecting and clearing a group.

The real server process with a UM25C (emulator) next to a TC66C; Debian's Chromium.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tc66c_server.emulator import EmulatorHost

from .serverproc import Server, start_server
from .test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture
def server(emulator: EmulatorHost, tmp_path: Path) -> Iterator[Server]:
    um25c = EmulatorHost(tmp_path / "rfcomm0", reply_delay_s=0.02, model="um25c")
    um25c.start()
    srv = start_server(
        "--device", f"um={um25c.link}", "--device", f"tc={emulator.link}",
        "--interval", "0.3", "--data-dir", str(tmp_path / "d"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not all(m["connected"] for m in httpx.get(f"{srv.url}/api/meters").json()["meters"]):
            assert time.monotonic() < deadline, "the meters never connected"
            time.sleep(0.2)
        yield srv
    finally:
        srv.stop()
        um25c.stop()


def test_a_um_card_shows_its_groups_and_selects_and_clears_one(server: Server) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="en-US")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url + "/")
            um = page.locator("[data-testid='meter-card'][data-meter='um']")
            tc = page.locator("[data-testid='meter-card'][data-meter='tc']")
            expect(um.get_by_test_id("card-um")).to_be_visible()
            expect(tc.get_by_test_id("card-um")).to_be_hidden()
            expect(um.get_by_test_id("um-group-9")).to_contain_text("9: ")
            expect(um.get_by_test_id("um-group-0")).to_have_attribute("aria-pressed", "true")
            um.get_by_test_id("um-group-4").click()
            expect(um.get_by_test_id("um-group-4")).to_have_attribute(
                "aria-pressed", "true", timeout=10_000
            )
            expect(um.get_by_test_id("um-clear-group")).to_have_text("Clear group 4")
            um.get_by_test_id("um-clear-group").click()
            expect(um.get_by_test_id("um-group-4")).to_contain_text("4: 0 mAh · 0 mWh")
            assert errors == []
        finally:
            browser.close()
