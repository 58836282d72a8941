"""HTTP clients for the benchmarks: a keep-alive timer and a bounded load generator.

Latency is measured with ``http.client`` on one kept-alive connection per server (the
lightest client the standard library has, so the client's own cost stays small and equal
for both servers). Load uses ``wrk`` when it is installed (``apt-get install wrk``) and a
thread pool of keep-alive clients otherwise.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any


class KeepAlive:
    """One persistent connection to a server on 127.0.0.1."""

    def __init__(self, port: int, timeout_s: float = 60.0) -> None:
        self.port = port
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)

    def get(self, path: str) -> tuple[int, bytes]:
        """Status and body of ``GET path`` (reconnecting once if the server closed it)."""
        return self.request("GET", path)

    def post_json(self, path: str, body: Any) -> Any:
        """``POST path`` with a JSON body; the decoded answer, ``RuntimeError`` unless 200."""
        status, answer = self.request("POST", path, json.dumps(body).encode())
        if status != 200:
            raise RuntimeError(f"POST {path} on port {self.port}: {status} {answer[:300]!r}")
        return json.loads(answer)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Status and body of one request (reconnecting once if the server closed it)."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (1, 2):
            try:
                self._conn.request(method, path, body=body, headers=headers)
                response = self._conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, path: str) -> Any:
        """``GET path`` decoded as JSON; ``RuntimeError`` unless the status is 200."""
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} on port {self.port}: {status} {body[:300]!r}")
        return json.loads(body)

    def timed(self, path: str) -> float:
        """Seconds from sending ``GET path`` to the last byte of a 200 answer."""
        start = time.perf_counter()
        status, body = self.get(path)
        elapsed = time.perf_counter() - start
        if status != 200:
            raise RuntimeError(f"GET {path} on port {self.port}: {status} {body[:300]!r}")
        return elapsed

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class LoadResult:
    """What a load run achieved."""

    requests: int
    seconds: float
    errors: int
    tool: str

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


_WRK_RATE = re.compile(r"^\s*(\d+) requests in ([\d.]+)(m?s)", re.MULTILINE)
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")


def _wrk(url: str, clients: int, seconds: float) -> LoadResult:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    match = _WRK_RATE.search(out)
    if match is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    count, duration, unit = int(match[1]), float(match[2]), match[3]
    duration = duration / 1000 if unit == "ms" else duration
    errors = 0
    for found in _WRK_ERRORS.finditer(out):
        if found[1]:
            errors += int(found[1])
        elif found[2]:
            errors += sum(int(n) for n in re.findall(r"\d+", found[2]))
    return LoadResult(count - errors, duration, errors, "wrk -t1")


def _threads(port: int, path: str, clients: int, seconds: float) -> LoadResult:
    counts = [0] * clients
    errors = [0] * clients
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        client = KeepAlive(port, timeout_s=5.0)
        try:
            while time.monotonic() < stop_at:
                try:
                    status, _ = client.get(path)
                except OSError:
                    errors[index] += 1
                    continue
                if status == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1
        finally:
            client.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 10)
    return LoadResult(sum(counts), time.monotonic() - start, sum(errors), "Python threads")


def load(port: int, path: str, clients: int, seconds: float) -> LoadResult:
    """``clients`` concurrent keep-alive clients hammering ``GET path`` for ``seconds``."""
    if shutil.which("wrk"):
        return _wrk(f"http://127.0.0.1:{port}{path}", clients, seconds)
    return _threads(port, path, clients, seconds)
