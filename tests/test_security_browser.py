"""The guard and the content policy in a real browser (Debian's Chromium via Playwright).

A hostile page served by a second local HTTP server, on another port, tries every write a
page can make without the user's help; the API docs page must render from vendored files
with no policy violation.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Request,
    Response,
    expect,
    sync_playwright,
)

from tc66c_server.emulator import EmulatorHost

from .serverproc import Server, start_server
from .test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

#: The attacks of issue 8: a text/plain form that smuggles JSON, a no-cors fetch with a
#: text/plain body, one with a typeless Blob body, a urlencoded fetch, and a JSON fetch
#: (which needs a CORS preflight the server never grants). TARGET is the server's URL.
ATTACK_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>cute cats</title></head>
<body>
<form id="f" method="post" enctype="text/plain" action="TARGET/api/config">
  <input type="hidden" name='{"data_retention_minutes": 1, "polling_interval": 60, "x": "'
         value='"}'>
</form>
<script>
const url = "TARGET/api/config";
const body = '{"data_retention_minutes": 1, "polling_interval": 60}';
async function attack() {
  const tries = [
    fetch(url, {method: "POST", mode: "no-cors", body}),
    fetch(url, {method: "POST", mode: "no-cors", body: new Blob([body])}),
    fetch(url, {method: "POST", mode: "no-cors", body: new URLSearchParams({a: body})}),
    fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body}),
  ];
  await Promise.allSettled(tries);
  document.title = "fetched";
  document.getElementById("f").submit();
}
attack();
</script></body></html>"""


class _AttackSite(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:
        pass


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


@contextlib.contextmanager
def attack_site(target: str) -> Iterator[str]:
    """A second HTTP server, on another port, serving the attack page aimed at ``target``."""
    handler = type(
        "Handler", (_AttackSite,), {"page": ATTACK_PAGE.replace("TARGET", target).encode()}
    )
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()
        thread.join(timeout=5)


def is_form_post(response: Response) -> bool:
    """The answer to the attack page's form, submitted last."""
    request = response.request
    return request.method == "POST" and request.resource_type == "document"


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_cross_origin_page_cannot_change_the_config(
    browser: Browser, server: Server, tmp_path: Path, name: str
) -> None:
    target = server.url.replace("127.0.0.1", name)
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.url}/api/status").json()["oldest_data"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    before = httpx.get(f"{server.url}/api/config").json()
    oldest = httpx.get(f"{server.url}/api/status").json()["oldest_data"]
    outcomes: list[str] = []

    def answered(response: Response) -> None:
        if response.url.endswith("/api/config") and response.request.method == "POST":
            outcomes.append(str(response.status))

    def failed(request: Request) -> None:
        # Only the fetches: the form's page may also report "aborted" as the context closes.
        if request.url.endswith("/api/config") and request.resource_type == "fetch":
            outcomes.append(request.failure or "")

    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("response", answered)
        page.on("requestfailed", failed)
        with attack_site(target) as url, page.expect_response(is_form_post, timeout=10_000):
            page.goto(url)
    finally:
        context.close()
    # The form's answer is the guard's 403. The three no-cors fetches reached the server too,
    # whose answers the browser then hid from the page (Cross-Origin-Resource-Policy); the
    # JSON fetch never left the browser: its preflight got no CORS grant.
    assert sorted(outcomes) == [
        "403",
        "net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin",
        "net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin",
        "net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin",
        "net::ERR_FAILED",
    ], outcomes
    assert httpx.get(f"{server.url}/api/config").json() == before
    assert httpx.get(f"{server.url}/api/status").json()["oldest_data"] == oldest
    assert not (tmp_path / "d" / "config.json").exists()


def test_docs_render_from_vendored_files_without_policy_violations(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context()
    problems: list[str] = []
    requested: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    try:
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("request", lambda request: requested.append(request.url))
        page.goto(server.url + "/docs")
        page.locator(".swagger-ui .info .title").filter(has_text="tc66c-server").wait_for()
        # "Try it out" on the write: Swagger UI posts the example JSON from this origin.
        operation = page.locator("#operations-server-post_config_api_config_post")
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()
        operation.locator(".execute").click()
        status = operation.locator(".live-responses-table tr.response .response-col_status").first
        expect(status).to_have_text("200")
    finally:
        context.close()
    assert problems == [], problems
    assert httpx.get(f"{server.url}/api/config").json()["data_retention_minutes"] == 30
    outside = [url for url in requested if not url.startswith(server.url)]
    assert outside == [], outside
