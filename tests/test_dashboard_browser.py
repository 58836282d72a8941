"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against the real
server process and the emulator. Never skipped: a missing browser is a failure."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect, sync_playwright

from tc66c_server.emulator import BenchSession, EmulatorHost

from .serverproc import Server, start_server

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (apt-get install chromium)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def server(emulator: EmulatorHost, tmp_path: Path) -> Iterator[Server]:
    srv = start_server(
        "--device", str(emulator.link), "--interval", "0.5", "--data-dir", str(tmp_path / "d")
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def open_page(browser: Browser, server: Server) -> Iterator[Callable[..., Page]]:
    contexts = []
    errors: list[str] = []

    def track(message: ConsoleMessage) -> None:
        # The browser logs every non-2xx answer; 4xx (the config tests) and a 503 from
        # api/data/latest before the meter's first sample are the API working as designed.
        expected = "status of 4" in message.text or "status of 503" in message.text
        if message.type == "error" and not expected:
            errors.append(message.text)

    def opener(locale: str = "en-US", **options: object) -> Page:
        context = browser.new_context(locale=locale, accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("console", track)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/")
        expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "connected")
        return page

    yield opener
    for context in contexts:
        context.close()
    assert errors == [], errors


def test_page_loads_connected_without_console_errors(open_page: Callable[..., Page]) -> None:
    page = open_page()
    expect(page.get_by_test_id("device")).to_contain_text("TC66")
    expect(page.get_by_test_id("device")).to_contain_text("1.18")
    expect(page.get_by_test_id("demo-badge")).to_be_hidden()
    expect(page.get_by_test_id("age")).to_have_attribute("data-stale", "false")
    # One meter: a single compact card, no all-meters switch, no pairs.
    expect(page.get_by_test_id("meter-card")).to_have_count(1)
    expect(page.get_by_test_id("all-meters")).to_be_hidden()
    expect(page.get_by_test_id("pairs")).to_be_hidden()
    expect(page.get_by_test_id("meter-remove")).to_be_hidden()


def test_live_values_match_the_api(open_page: Callable[..., Page], server: Server) -> None:
    page = open_page()
    deadline = time.monotonic() + 10
    while True:
        latest = httpx.get(f"{server.url}/api/data/latest").json()
        shown = {
            key: page.get_by_test_id(f"value-{key}").get_attribute("data-value")
            for key in ("voltage", "current", "power")
        }
        if all(shown[key] and float(shown[key] or 0) == latest[key] for key in shown):
            break
        assert time.monotonic() < deadline, (shown, latest)
        time.sleep(0.1)


def test_charts_hold_points_and_grow(open_page: Callable[..., Page]) -> None:
    page = open_page()
    page.get_by_test_id("window-select").locator("[data-window='30s']").click()
    charts = [page.get_by_test_id(f"chart-{k}") for k in ("current", "power", "voltage")]
    for chart in charts:
        expect(chart).not_to_have_attribute("data-points", "0")
    before = int(charts[0].get_attribute("data-points") or 0)
    page.wait_for_timeout(2500)
    after = int(charts[0].get_attribute("data-points") or 0)
    assert after > before


def test_window_preset_changes_what_is_requested(open_page: Callable[..., Page]) -> None:
    page = open_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.get_by_test_id("window-select").locator("[data-window='1m']").click()
    expect(page.get_by_test_id("window-select").locator("[data-window='1m']")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.wait_for_timeout(500)
    # The panels ask for the shown meter's data (api/meters/<id>/...; the first meter here).
    data = re.compile(r"/api/meters/[\w-]+/data/1m\?.*max_points=")
    assert any(data.search(url) for url in requested), requested
    assert any(re.search(r"/api/meters/[\w-]+/stats/1m", url) for url in requested), requested


def test_bad_config_shows_its_error_and_a_good_one_applies(
    open_page: Callable[..., Page], server: Server
) -> None:
    page = open_page()
    # The form is filled from the server's config once loaded: edit it after that.
    expect(page.get_by_test_id("config-interval")).to_have_value("0.5")
    page.get_by_test_id("config-interval").fill("0.01")
    page.get_by_test_id("config-submit").click()
    error = page.get_by_test_id("error-polling_interval")
    expect(error).to_be_visible()
    expect(error).to_contain_text("between 0.1")
    assert httpx.get(f"{server.url}/api/config").json()["polling_interval"] == 0.5
    page.get_by_test_id("config-interval").fill("0.7")
    page.get_by_test_id("config-submit").click()
    expect(page.get_by_test_id("config-message")).to_have_attribute("data-state", "success")
    expect(error).to_be_hidden()
    assert httpx.get(f"{server.url}/api/config").json()["polling_interval"] == 0.7


def test_unplug_shows_disconnected_and_replug_clears_it(
    open_page: Callable[..., Page], emulator: EmulatorHost
) -> None:
    page = open_page()
    state = page.get_by_test_id("conn-state")
    emulator.unplug()
    expect(state).to_have_attribute("data-state", "disconnected", timeout=10_000)
    expect(page.locator("body")).to_contain_text("retry")
    expect(page.get_by_test_id("age")).to_have_attribute("data-stale", "true", timeout=10_000)
    emulator.replug()
    expect(state).to_have_attribute("data-state", "connected", timeout=10_000)
    expect(page.get_by_test_id("age")).to_have_attribute("data-stale", "false", timeout=10_000)


def test_french_and_english_both_render(open_page: Callable[..., Page]) -> None:
    french = open_page(locale="fr-FR")
    expect(french.get_by_test_id("conn-state")).to_contain_text("Connecté")
    assert french.evaluate("document.documentElement.lang") == "fr"
    french.get_by_test_id("lang-switch").select_option("en")
    expect(french.get_by_test_id("conn-state")).to_contain_text("Connected")
    english = open_page(locale="en-GB")
    expect(english.get_by_test_id("conn-state")).to_contain_text("Connected")
    english.get_by_test_id("lang-switch").select_option("fr")
    expect(english.get_by_test_id("conn-state")).to_contain_text("Connecté")


def test_csv_export_downloads_the_window(open_page: Callable[..., Page], server: Server) -> None:
    page = open_page()
    deadline = time.monotonic() + 10  # the store commits once a second
    while httpx.get(f"{server.url}/api/data/1m").json()["count"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page.get_by_test_id("window-select").locator("[data-window='1m']").click()
    expect(page.get_by_test_id("chart-current")).not_to_have_attribute("data-points", "0")
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    path = info.value.path()
    lines = Path(path).read_text().strip().splitlines()
    assert lines[0].startswith("timestamp,voltage,current,power")
    assert len(lines) >= 2
    assert "1m" in info.value.suggested_filename


def test_phone_layout_has_no_horizontal_scroll(open_page: Callable[..., Page]) -> None:
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    expect(page.get_by_test_id("value-voltage")).not_to_have_attribute("data-value", "")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_dark_scheme_follows_the_system(open_page: Callable[..., Page]) -> None:
    light = open_page(color_scheme="light")
    dark = open_page(color_scheme="dark")
    script = "getComputedStyle(document.body).backgroundColor"
    assert light.evaluate(script) != dark.evaluate(script)


def test_device_strings_are_shown_as_text_never_markup(browser: Browser, tmp_path: Path) -> None:
    session = BenchSession(5, product="<b>!", firmware="<i>")
    with EmulatorHost(tmp_path / "tty", reply_delay_s=0.0, session=session) as host:
        srv = start_server("--device", str(host.link), "--data-dir", str(tmp_path / "d"))
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(srv.url + "/")
            device = page.get_by_test_id("device")
            expect(device).to_contain_text("<b>!")
            expect(device).to_contain_text("<i>")
            assert device.locator("b, i").count() == 0
            # The meter's card (the bench overview) shows them as text too.
            card_device = page.get_by_test_id("card-device")
            expect(card_device).to_contain_text("<b>!")
            assert page.get_by_test_id("meter-cards").locator("b, i").count() == 0
        finally:
            context.close()
            srv.stop()


def test_store_error_shows_a_warning_until_the_status_clears_it(
    open_page: Callable[..., Page],
) -> None:
    page = open_page(locale="fr-FR")
    box = page.get_by_test_id("store-error")
    expect(box).to_be_hidden()
    fault = {
        "code": "disk_full",
        "message": "database or disk is full",
        "since": "2026-11-24T19:10:02.118204+00:00",
        "backlog": 1234,
        "lost": 0,
    }

    def with_fault(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "store_error": fault})

    # The server's status answers (the seed's and the selected meter's), with a full disk.
    status_urls = re.compile(r"/api/(meters/[^/]+/)?status$")
    page.route(status_urls, with_fault)
    page.reload()
    expect(box).to_be_visible()
    expect(box).to_have_attribute("role", "alert")
    expect(box).to_contain_text("Le disque est plein")
    expect(box).to_contain_text("database or disk is full")
    expect(box).to_contain_text("en attente")  # the backlog, in the page's number format
    page.unroute(status_urls)
    expect(box).to_be_hidden(timeout=15_000)  # the next status refresh (every 5 s) clears it
