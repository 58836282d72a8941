"""Reading the Prometheus text format back in tests, and Debian's ``promtool`` on it."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.serverproc import free_port

START_TIMEOUT_S = 30.0

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Series = tuple[str, frozenset[tuple[str, str]]]


def parse(text: str) -> dict[Series, float]:
    """Every sample line as ``{(name, labels): value}`` (label values unescaped)."""
    out: dict[Series, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        pairs = frozenset(
            (k, v.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\"))
            for k, v in _LABEL.findall(labels or "")
        )
        out[(name, pairs)] = float(value)
    return out


def value(samples: dict[Series, float], name: str, **labels: str) -> float | None:
    """The one sample of ``name`` whose labels include ``labels`` (None if there is none)."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) <= 1, f"{len(found)} samples of {name} {labels}"
    return found[0] if found else None


def names(text: str) -> set[str]:
    """The metric names of every sample line."""
    return {name for name, _ in parse(text)}


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` on ``text`` (skips when promtool is not installed)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (scripts/test.sh installs Debian's prometheus)")
    return subprocess.run(
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class Prometheus:
    """Debian's Prometheus scraping ``targets`` every second, its data in ``folder``."""

    def __init__(self, folder: Path, targets: dict[str, str]) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.skip("prometheus is not installed (scripts/test.sh installs it)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = folder / "prometheus.yml"
        static = "".join(
            f'      - targets: ["{target}"]\n        labels: {{bench: "{bench}"}}\n'
            for bench, target in targets.items()
        )
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            f"scrape_configs:\n  - job_name: tc66c\n    static_configs:\n{static}"
        )
        self.log = folder / "prometheus.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={folder / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                cwd=folder,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("prometheus did not start: " + self.log.read_text()[-2000:])
            time.sleep(0.1)

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """The result of an instant query (``at``: evaluation time, default now)."""
        params = {"query": expr} if at is None else {"query": expr, "time": repr(at)}
        answer = httpx.get(f"{self.url}/api/v1/query", params=params, timeout=10).json()
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def wait(self, expr: str, condition: Callable[[list[dict[str, Any]]], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not condition(self.query(expr)):
            assert time.monotonic() < deadline, f"{expr}: {self.query(expr)}"
            time.sleep(0.25)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
