"""A real cross-origin page in Chromium tries to rewrite the server's config.

The page is served from another origin (another port on 127.0.0.1) and fires every write a
browser lets any web page send without asking the user: ``fetch`` in ``no-cors`` mode with
each "simple" content type, ``sendBeacon``, a form posted into an iframe (``text/plain`` and
urlencoded), and a JSON ``fetch`` that needs a CORS preflight. The config and the history
must be as they were.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.procs import free_port

from .api import client, snapshot, wait_for_samples
from .outcome import Outcome
from .procs import start_emulator, start_server
from .storage import STORE_NAME, make_history

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
ATTACKS = (
    "fetch no-cors text/plain",
    "fetch no-cors without Content-Type",
    "fetch no-cors urlencoded",
    "fetch no-cors multipart",
    "sendBeacon text/plain",
    "form text/plain",
    "form urlencoded",
    "fetch cors JSON",
)
PAGE = """<!doctype html><meta charset="utf-8"><title>cute cats</title>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="plain" method="POST" action="TARGET" enctype="text/plain" target="sink1">
<input name='{"data_retention_minutes":1,"x":"' value='"}'></form>
<form id="urlenc" method="POST" action="TARGET" target="sink2">
<input name="data_retention_minutes" value="1"></form>
<script>
const target = "TARGET";
const body = JSON.stringify({data_retention_minutes: 1});
const done = [];
async function attempt(name, send) {
  try { await send(); done.push(name + ": sent"); }
  catch (e) { done.push(name + ": " + e); }
}
async function run() {
  await attempt("fetch no-cors text/plain", () => fetch(target, {method: "POST",
    mode: "no-cors", headers: {"Content-Type": "text/plain"}, body}));
  await attempt("fetch no-cors without Content-Type", () => fetch(target, {method: "POST",
    mode: "no-cors", body: new Blob([body])}));
  await attempt("fetch no-cors urlencoded", () => fetch(target, {method: "POST",
    mode: "no-cors", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body}));
  const form = new FormData(); form.append("data_retention_minutes", "1");
  await attempt("fetch no-cors multipart", () => fetch(target, {method: "POST",
    mode: "no-cors", body: form}));
  await attempt("sendBeacon text/plain", async () => {
    if (!navigator.sendBeacon(target, new Blob([body], {type: "text/plain"}))) throw "refused";
  });
  for (const id of ["plain", "urlenc"]) {
    const frame = document.querySelector(`iframe[name=${id === "plain" ? "sink1" : "sink2"}]`);
    await attempt("form " + (id === "plain" ? "text/plain" : "urlencoded"), () =>
      new Promise((resolve) => {
        frame.addEventListener("load", resolve, {once: true});
        document.getElementById(id).submit();
        setTimeout(resolve, 3000);
      }));
  }
  await attempt("fetch cors JSON", () => fetch(target, {method: "POST",
    headers: {"Content-Type": "application/json"}, body}));
  window.results = done;
  document.title = "done";
}
run();
</script>"""


class _PageHandler(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


def _serve_page(page: str) -> http.server.ThreadingHTTPServer:
    handler = type("Handler", (_PageHandler,), {"page": page.encode()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=httpd.serve_forever, name="evil-page", daemon=True).start()
    return httpd


def cross_origin_page(workdir: Path) -> Outcome:
    """Chromium opens a page on another origin that posts to the server's config."""
    outcome = Outcome(
        "cross-origin page in Chromium",
        "a page on another origin fires 8 writes a browser sends without asking "
        "(no-cors fetch x4, sendBeacon, two forms, a JSON fetch needing a preflight)",
    )
    outcome.bad_inputs = len(ATTACKS)
    if not Path(CHROMIUM).exists():
        outcome.fail("Chromium is there", f"{CHROMIUM} is missing (apt-get install chromium)")
        return outcome
    data_dir = workdir / "data"
    make_history(data_dir / STORE_NAME, 7200, end_ts=time.time() - 120)
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(workdir, data_dir, str(emulator.link), interval_s=0.5)
        stack.callback(server.stop)
        http = stack.enter_context(client(server.url))
        wait_for_samples(http, 7202)
        before = snapshot(http)
        httpd = _serve_page(PAGE.replace("TARGET", f"{server.url}/api/config"))
        stack.callback(httpd.server_close)
        stack.callback(httpd.shutdown)
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/evil.html")
        page.wait_for_function("document.title === 'done'", timeout=20_000)
        results: list[str] = page.evaluate("window.results")
        time.sleep(0.5)
        after = snapshot(http)
        output = server.output()
    outcome.figures = {"page": results}
    tried = [name for name in ATTACKS if any(r.startswith(name + ":") for r in results)]
    outcome.check("the page fired every write", len(tried) == len(ATTACKS), results)
    changed = after.changes_since(before)
    outcome.check("config and history unchanged", not changed, changed)
    outcome.check("no traceback in the server's output", "Traceback" not in output)
    return outcome
