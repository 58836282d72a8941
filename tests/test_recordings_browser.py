"""The recordings page in a real browser (Debian's Chromium driven by Playwright) against
the real server process on the emulator: start and stop, rename, delete, comparison and the
printable report."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tc66c_server.emulator import EmulatorHost

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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with EmulatorHost(tmp_path / "tty", reply_delay_s=0.0, seed=3) as emulator:
        srv = start_server(
            "--device", str(emulator.link), "--interval", "0.2", "--data-dir", str(tmp_path / "d")
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
        if message.type == "error" and "status of 4" not in message.text:
            errors.append(message.text)

    def opener(path: str = "/recordings", **options: object) -> Page:
        context = browser.new_context(locale="en-US", **options)
        contexts.append(context)
        page = context.new_page()
        page.on("console", track)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept("renamed run"))
        page.goto(server.url + path)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert errors == [], errors


def make_recordings(server: Server, names: list[str]) -> list[int]:
    ids = []
    for name in names:
        rid = httpx.post(f"{server.url}/api/recordings", json={"name": name}).json()["id"]
        time.sleep(1.0)  # a few samples at 5 Hz
        httpx.post(f"{server.url}/api/recordings/{rid}/stop")
        ids.append(rid)
    return ids


def test_start_stop_rename_and_delete_from_the_list(open_page: Callable[..., Page]) -> None:
    page = open_page()
    expect(page.get_by_test_id("rec-empty")).to_be_visible()
    page.get_by_test_id("rec-name").fill("phone on charger A")
    page.get_by_test_id("rec-start").click()
    expect(page.get_by_test_id("rec-message")).to_contain_text("started")
    row = page.get_by_test_id("rec-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("rec-row-name")).to_have_text("phone on charger A")
    expect(row.get_by_test_id("rec-row-state")).to_have_text("Recording…")
    page.wait_for_timeout(1200)
    row.get_by_test_id("rec-stop").click()
    expect(row.get_by_test_id("rec-row-state")).to_have_text("Stopped by hand")
    row.get_by_test_id("rec-rename").click()
    expect(row.get_by_test_id("rec-row-name")).to_have_text("renamed run")
    href = row.get_by_test_id("rec-csv").get_attribute("href") or ""
    assert href.startswith("api/recordings/") and href.endswith("format=csv")
    row.get_by_test_id("rec-delete").click()
    expect(page.get_by_test_id("rec-row")).to_have_count(0)
    expect(page.get_by_test_id("rec-empty")).to_be_visible()


def test_a_second_start_on_the_same_meter_shows_the_servers_words(
    open_page: Callable[..., Page], server: Server
) -> None:
    httpx.post(f"{server.url}/api/recordings", json={"name": "running"})
    page = open_page()
    page.get_by_test_id("rec-name").fill("another")
    page.get_by_test_id("rec-start").click()
    expect(page.get_by_test_id("rec-message")).to_contain_text("recording already")


def test_two_recordings_overlay_with_their_summaries_side_by_side_on_a_phone(
    open_page: Callable[..., Page], server: Server
) -> None:
    make_recordings(server, ["cable X", "cable Y"])
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    expect(page.get_by_test_id("rec-row")).to_have_count(2)
    # Nothing sticks out sideways: the table scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for pick in page.get_by_test_id("rec-pick").all():
        pick.check()
    page.get_by_test_id("rec-compare").click()
    chart = page.get_by_test_id("rec-chart")
    expect(page.get_by_test_id("rec-comparison")).to_be_visible()
    expect(chart).to_have_attribute("data-series", "2")
    expect(chart).not_to_have_attribute("data-points", "0")
    side = page.get_by_test_id("rec-side")
    expect(side).to_contain_text("cable X")
    expect(side).to_contain_text("cable Y")
    expect(page.get_by_test_id("rec-side-row").first).to_contain_text("Duration")
    report = page.get_by_test_id("rec-compare-report").get_attribute("href") or ""
    assert report.startswith("recordings/report?ids=")


def test_the_report_is_a_printable_page_of_the_summary_and_charts(
    open_page: Callable[..., Page], server: Server
) -> None:
    (rid,) = make_recordings(server, ["report me"])
    page = open_page(f"/recordings/{rid}/report")
    expect(page.locator("h1")).to_have_text("report me")
    expect(page.locator("svg.chart")).to_have_count(3)
    expect(page.locator("table")).to_contain_text("Energy (Wh)")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def test_annotations_are_markers_on_the_dashboards_charts(
    open_page: Callable[..., Page], server: Server
) -> None:
    httpx.post(f"{server.url}/api/annotations", json={"text": "phone at 80 %"})
    page = open_page("/")
    chart = page.get_by_test_id("chart-power")
    expect(chart).to_have_attribute("data-annotations", re.compile(r"^[1-9]"))
    expect(page.get_by_test_id("to-recordings")).to_have_attribute("href", "recordings")


def _marker_point(page: Page, chart_id: str) -> tuple[float, float]:
    """The viewport point just below a chart's first annotation marker, inside the plot."""
    mark = page.get_by_test_id(chart_id).get_by_test_id("annotation-mark").first
    expect(mark).to_be_visible()
    mark.scroll_into_view_if_needed()
    box = mark.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] + 30


def test_an_annotations_text_shows_when_the_pointer_is_near_its_marker(
    open_page: Callable[..., Page], server: Server
) -> None:
    text = "phone at 80 % <b>not bold</b>"
    httpx.post(f"{server.url}/api/annotations", json={"text": text})
    page = open_page("/")
    power = page.get_by_test_id("chart-power")
    tip = power.get_by_test_id("annotation-tip")
    expect(tip).to_be_hidden()
    page.get_by_test_id("follow").click()  # paused: the marker stays where the pointer goes
    expect(page.get_by_test_id("follow")).to_have_attribute("data-following", "false")
    x, y = _marker_point(page, "chart-power")
    page.mouse.move(x, y)
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(text)  # as text: the markup is not interpreted
    expect(tip.locator("b")).to_have_count(0)
    # The other charts follow the cursor but keep their text hidden.
    expect(page.get_by_test_id("chart-current").get_by_test_id("annotation-tip")).to_be_hidden()
    page.mouse.move(x + 150, y)
    expect(tip).to_be_hidden()


def test_an_annotations_text_shows_on_focus_and_on_a_tap(
    browser: Browser, open_page: Callable[..., Page], server: Server
) -> None:
    httpx.post(f"{server.url}/api/annotations", json={"text": "cable swapped"})
    page = open_page("/")
    tip = page.get_by_test_id("chart-voltage").get_by_test_id("annotation-tip")
    mark = page.get_by_test_id("chart-voltage").get_by_test_id("annotation-mark").first
    expect(mark).to_have_attribute("aria-label", re.compile("cable swapped"))
    mark.focus()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("cable swapped")
    expect(mark).to_have_attribute("aria-describedby", re.compile("annotation-tip"))
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    phone = open_page("/", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    phone_tip = phone.get_by_test_id("chart-power").get_by_test_id("annotation-tip")
    phone_mark = phone.get_by_test_id("chart-power").get_by_test_id("annotation-mark").first
    expect(phone_mark).to_be_visible()
    phone_mark.tap()
    expect(phone_tip).to_be_visible()
    expect(phone_tip).to_contain_text("cable swapped")
    phone.get_by_test_id("chart-power").locator(".chart-title").tap()
    expect(phone_tip).to_be_hidden()


def test_the_meters_own_recording_is_downloaded_from_the_page(
    open_page: Callable[..., Page],
) -> None:
    page = open_page()
    page.get_by_test_id("rec-gtrec-interval").fill("2")
    page.get_by_test_id("rec-gtrec").click()
    expect(page.get_by_test_id("rec-message")).to_contain_text("records filed", timeout=30_000)
    row = page.get_by_test_id("rec-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("rec-row-state")).to_have_text("Imported")
