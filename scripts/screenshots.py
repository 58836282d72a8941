"""Take the README's dashboard screenshots (desktop and phone, light and dark) into docs/.

Usage: python scripts/screenshots.py [--warmup SECONDS]
Runs the real server in demo mode (two simulated meters around a simulated converter, paired),
lets the simulated bench session play for a while so the charts show the PD steps, then
photographs the page with Debian's Chromium; plus one whole desktop page with every meter on
the charts and the pair view (``screenshot-bench-*.png``).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SHOTS = {
    "desktop": {"viewport": {"width": 1280, "height": 1000}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warmup", type=float, default=110.0, help="seconds of demo first")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "api_server.py",
            str(port),
            "--demo",
            "--interval",
            "0.25",
            "--data-dir",
            ":memory:",
            "--lang",
            "en",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(args.warmup)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for name, options in SHOTS.items():
                for scheme in ("light", "dark"):
                    context = browser.new_context(color_scheme=scheme, **options)  # type: ignore[arg-type]
                    page = context.new_page()
                    page.goto(f"http://127.0.0.1:{port}/")
                    page.get_by_test_id("window-select").locator("[data-window='5m']").click()
                    page.wait_for_timeout(2500)
                    out = ROOT / "docs" / f"screenshot-{name}-{scheme}.png"
                    page.screenshot(path=str(out), full_page=name == "phone")
                    print(out)
                    if name == "desktop":
                        # Every meter on the charts, and the pair view below them.
                        page.get_by_test_id("all-meters").click()
                        page.wait_for_timeout(2500)
                        out = ROOT / "docs" / f"screenshot-bench-{scheme}.png"
                        page.screenshot(path=str(out), full_page=True)
                        print(out)
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
