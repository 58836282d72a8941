"""The dashboard's bench views in a real browser (Debian's Chromium driven by Playwright)
against the real server process in demo mode: two simulated meters ``in`` and ``out`` with a
simulated converter between them, paired as ``in-out``. Never skipped."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from .serverproc import Server, start_server
from .test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (apt-get install chromium)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("bench") / "d"
    srv = start_server("--demo", "--interval", "0.5", "--data-dir", str(data))
    try:
        # The pair needs a few seconds of both meters before it has an efficiency.
        deadline = time.monotonic() + 20
        while httpx.get(f"{srv.url}/api/pairs/in-out/1m").json()["efficiency"] is None:
            assert time.monotonic() < deadline, "the demo pair never got an efficiency"
            time.sleep(0.25)
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def open_page(browser: Browser, server: Server) -> Iterator[Callable[..., Page]]:
    contexts = []
    errors: list[str] = []

    def track(message: ConsoleMessage) -> None:
        # Refused writes (4xx) are the API working as designed; the tests check their words.
        if message.type == "error" and "status of 4" not in message.text:
            errors.append(message.text)

    def opener(path: str = "/", locale: str = "en-US", **options: object) -> Page:
        context = browser.new_context(locale=locale, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("console", track)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + path)
        expect(page.get_by_test_id("meter-card")).to_have_count(2)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert errors == [], errors


def test_overview_shows_one_card_per_meter_with_live_values(open_page: Callable[..., Page]) -> None:
    page = open_page()
    for meter in ("in", "out"):
        c = page.locator(f"[data-testid='meter-card'][data-meter='{meter}']")
        expect(c).to_have_attribute("data-state", "connected")
        for key in ("voltage", "current", "power"):
            expect(c.get_by_test_id(f"card-{key}")).not_to_have_attribute("data-value", "")
        expect(c.get_by_test_id("card-device")).to_contain_text("TC66")
        expect(c.get_by_test_id("card-age")).to_contain_text("ago")
    for meter in ("in", "out"):
        power = page.locator(f"[data-meter='{meter}'] [data-testid='card-power']")
        assert float(power.get_attribute("data-value") or 0) > 0
    expect(page.get_by_test_id("live-meter")).to_have_text("in")


def test_selecting_a_card_switches_the_panels_to_that_meter(
    open_page: Callable[..., Page], server: Server
) -> None:
    page = open_page()
    # The first meter's panels have loaded: what is asked from here on is for the click.
    expect(page.get_by_test_id("chart-power")).not_to_have_attribute("data-points", "0")
    expect(page.get_by_test_id("stats")).to_have_attribute("data-state", "ready")
    page.wait_for_load_state("networkidle")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    out = page.locator("[data-testid='meter-card'][data-meter='out']")
    out.get_by_test_id("meter-select").click()
    expect(out.get_by_test_id("meter-select")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("live-meter")).to_have_text("out")
    assert page.evaluate("location.hash") == "#meter=out"
    expect(page.get_by_test_id("chart-power")).not_to_have_attribute("data-points", "0")
    page.wait_for_timeout(300)
    assert any(re.search(r"/api/meters/out/data/\w+\?", url) for url in requested), requested
    assert any("/api/meters/out/stats/" in url for url in requested), requested
    assert any("/api/meters/out/config" in url for url in requested), requested
    assert not any(re.search(r"/api/meters/in/(data|stats)/", url) for url in requested), requested
    href = page.get_by_test_id("export-csv").get_attribute("href") or ""
    assert href.startswith("api/meters/out/data/"), href
    # The live values are the output meter's.
    deadline = time.monotonic() + 10
    while True:
        latest = httpx.get(f"{server.url}/api/meters/out/data/latest").json()
        shown = page.get_by_test_id("value-power").get_attribute("data-value")
        if shown and float(shown) == latest["power"]:
            break
        assert time.monotonic() < deadline, (shown, latest)
        time.sleep(0.1)


def test_a_link_with_the_meter_in_its_hash_opens_that_meter(
    open_page: Callable[..., Page],
) -> None:
    page = open_page("/#meter=out")
    out = page.locator("[data-testid='meter-card'][data-meter='out']")
    expect(out.get_by_test_id("meter-select")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("live-meter")).to_have_text("out")
    expect(page.get_by_test_id("config-port")).to_have_value("demo-out")


def test_screen_button_sends_the_command(open_page: Callable[..., Page]) -> None:
    page = open_page()
    c = page.locator("[data-testid='meter-card'][data-meter='in']")
    expect(c.get_by_test_id("screen-next")).to_be_enabled()
    with page.expect_response(lambda r: r.url.endswith("/api/meters/in/screen")) as info:
        c.get_by_test_id("screen-next").click()
    assert info.value.status == 202
    assert info.value.request.post_data_json == {"action": "next"}
    expect(c.locator(".card-message")).to_have_text("Sent to the meter.")
    with page.expect_response(lambda r: r.url.endswith("/api/meters/in/screen")) as info:
        c.get_by_test_id("screen-rotate").click()
    assert info.value.status == 202


def test_pair_view_shows_the_converter_efficiency(open_page: Callable[..., Page]) -> None:
    page = open_page()
    pair = page.locator("[data-testid='pair'][data-pair='in-out']")
    expect(pair).to_have_attribute("data-state", "ready")
    efficiency = pair.get_by_test_id("pair-efficiency")
    expect(efficiency).not_to_have_attribute("data-value", "")
    value = float(efficiency.get_attribute("data-value") or 0)
    assert 0.80 <= value <= 0.92, value
    assert re.fullmatch(r"\d\d\.\d%", efficiency.inner_text()), efficiency.inner_text()
    expect(pair.get_by_test_id("pair-loss")).to_contain_text("W")
    expect(pair.get_by_test_id("pair-energy-in")).to_contain_text("Wh")
    expect(pair.get_by_test_id("pair-samples")).not_to_have_attribute("data-value", "")
    assert pair.locator(".pair-plot canvas").count() == 1
    expect(pair.get_by_test_id("pair-calibrated")).to_be_hidden()
    with page.expect_response(lambda r: "/api/pairs/in-out/10m" in r.url):
        page.get_by_test_id("pair-window").locator("[data-window='10m']").click()


def test_pair_calibration_is_shown_as_applied_until_cleared(
    open_page: Callable[..., Page], server: Server
) -> None:
    page = open_page()
    pair = page.locator("[data-testid='pair'][data-pair='in-out']")
    expect(pair).to_have_attribute("data-state", "ready")
    pair.get_by_test_id("pair-calibrate").click()
    expect(pair.get_by_test_id("pair-ask")).to_contain_text("back to back")
    pair.get_by_test_id("pair-ask-yes").click()
    try:
        expect(pair.get_by_test_id("pair-calibrated")).to_be_visible()
        expect(pair.get_by_test_id("pair-calibration")).to_contain_text("Calibration applied")
        assert httpx.get(f"{server.url}/api/pairs").json()["pairs"][0]["calibration"] is not None
        pair.get_by_test_id("pair-clear-calibration").click()
        expect(pair.get_by_test_id("pair-calibrated")).to_be_hidden()
        expect(pair.get_by_test_id("pair-calibration")).to_contain_text("Not calibrated")
    finally:
        httpx.delete(f"{server.url}/api/pairs/in-out/calibration")
    assert httpx.get(f"{server.url}/api/pairs").json()["pairs"][0]["calibration"] is None


def test_add_meter_with_a_bad_port_shows_the_field_error(
    open_page: Callable[..., Page], server: Server
) -> None:
    page = open_page()
    page.get_by_test_id("add-meter-toggle").click()
    page.get_by_test_id("add-port").fill("ttyUSB9")
    page.get_by_test_id("add-submit").click()
    error = page.get_by_test_id("add-error-port")
    expect(error).to_be_visible()
    expect(error).to_contain_text("absolute device path")
    expect(page.get_by_test_id("add-port")).to_have_attribute("aria-invalid", "true")
    assert len(httpx.get(f"{server.url}/api/meters").json()["meters"]) == 2


def test_a_meter_added_then_removed_from_its_card(
    open_page: Callable[..., Page], server: Server
) -> None:
    page = open_page()
    page.get_by_test_id("add-meter-toggle").click()
    page.get_by_test_id("add-port").fill("/dev/tc66c-browser-test-absent")
    page.get_by_test_id("add-name").fill("spare")
    page.get_by_test_id("add-interval").fill("1")
    page.get_by_test_id("add-submit").click()
    expect(page.get_by_test_id("add-message")).to_contain_text("spare")
    spare = page.locator("[data-testid='meter-card'][data-meter='spare']")
    expect(spare).to_be_visible()
    expect(spare).to_have_attribute("data-state", "disconnected", timeout=10_000)
    expect(spare.get_by_test_id("screen-next")).to_be_disabled()
    spare.get_by_test_id("meter-remove").click()
    expect(spare.get_by_test_id("meter-remove-ask")).to_be_visible()
    spare.get_by_test_id("meter-remove-cancel").click()
    expect(spare).to_be_visible()
    spare.get_by_test_id("meter-remove").click()
    spare.get_by_test_id("meter-remove-confirm").click()
    expect(spare).to_have_count(0)
    ids = [m["id"] for m in httpx.get(f"{server.url}/api/meters").json()["meters"]]
    assert ids == ["in", "out"]


def test_all_meters_view_draws_one_line_per_meter(open_page: Callable[..., Page]) -> None:
    page = open_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    toggle = page.get_by_test_id("all-meters")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    legend = page.get_by_test_id("chart-legend")
    expect(legend).to_be_visible()
    expect(legend.locator(".legend-item")).to_have_text(["in", "out"])
    expect(page.get_by_test_id("chart-current")).not_to_have_attribute("data-points", "0")
    readout = page.get_by_test_id("chart-power").locator(".chart-readout")
    expect(readout).to_contain_text("in ")
    expect(readout).to_contain_text("out ")
    assert any("/api/meters/in/data/" in url for url in requested), requested
    assert any("/api/meters/out/data/" in url for url in requested), requested
    # The cards and the lines share each meter's colour.
    in_card = page.locator("[data-testid='meter-card'][data-meter='in']")
    in_legend = legend.locator(".legend-item[data-meter='in']")
    colour = "getComputedStyle(el).getPropertyValue('--m').trim()"
    assert in_card.evaluate(f"el => {colour}") == in_legend.evaluate(f"el => {colour}")
    toggle.click()
    expect(legend).to_be_hidden()


def test_bench_views_in_french_and_on_a_phone(open_page: Callable[..., Page]) -> None:
    page = open_page(locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True)
    expect(page.get_by_test_id("bench")).to_contain_text("Appareils")
    expect(page.get_by_test_id("pairs")).to_contain_text("Rendement")
    expect(page.locator("[data-testid='pair'] [data-testid='pair-efficiency']")).to_contain_text(
        ","
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
