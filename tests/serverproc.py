"""Start the real ``python api_server.py PORT`` process for end-to-end and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str

    def stop(self) -> str:
        """SIGTERM, wait, and return everything the process printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=15)
        return out


def start_server(*args: str, lang: str = "C.UTF-8", new_session: bool = False) -> Server:
    """Start the server; ``new_session`` makes it lead its own process group (for killpg)."""
    port = free_port()
    env = {**os.environ, "LANG": lang, "LC_ALL": lang, "PYTHONUNBUFFERED": "1"}
    for var in (
        "TC66C_PORT",
        "TC66C_INTERVAL",
        "TC66C_RETENTION",
        "TC66C_AUTO_RECORD",
        "TC66C_LANG",
    ):
        env.pop(var, None)
    process = subprocess.Popen(
        [sys.executable, "api_server.py", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[0])
        try:
            httpx.get(f"{url}/api/config", timeout=1)
            return Server(process, url)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start: " + process.communicate()[0])
