"""A bench of real processes for the several-meter end-to-end tests.

Emulator processes (``python -m tc66c_server.emulator``, one meter or a linked pair) and
the real ``python api_server.py PORT --device NAME=LINK ...``, all over real ptys; every
process started is ended by :meth:`Bench.close`, whatever the test did.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from reliability.procs import Emulator, Server, _env, start_server

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Reply:
    """One intact ``getva`` reply an emulator logged: its Unix time and reading."""

    t: float
    reading: dict[str, Any]


def intact_replies(log: Path) -> list[Reply]:
    """The intact ``getva`` replies of an emulator's ``--log`` file, in order."""
    replies = []
    for line in log.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if (
                entry.get("event") == "reply"
                and entry.get("command") == "getva"
                and entry.get("fault") is None
                and entry.get("complete")
            ):
                replies.append(Reply(entry["t"], entry["reading"]))
    return replies


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy (returned); fail after the time."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(0.1)


def get(url: str, **params: Any) -> Any:
    """GET ``url`` and return its JSON body (asserting 200)."""
    response = httpx.get(url, params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Bench:
    """Processes started in ``workdir``; :meth:`close` ends every one of them."""

    workdir: Path
    emulators: list[Emulator] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)

    def emulator(self, name: str, *extra: str, seed: int = 1, delay_ms: float = 0.0) -> Emulator:
        """One emulated meter behind ``workdir/name``, logging to ``workdir/name.jsonl``."""
        link, log = self.workdir / name, self.workdir / f"{name}.jsonl"
        argv = ["--link", str(link), "--log", str(log), "--seed", str(seed)]
        self._start([*argv, "--delay-ms", str(delay_ms), *extra], [link])
        return Emulator(self._last, link, log)

    def pair(
        self, model: str, *extra: str, start_s: float = 0.0, delay_ms: float = 0.0
    ) -> tuple[Emulator, Emulator]:
        """An input meter and an output meter across ``model``, served by one process."""
        links = [self.workdir / "in", self.workdir / "out"]
        logs = [self.workdir / "in.jsonl", self.workdir / "out.jsonl"]
        argv = ["--link", str(links[0]), "--output-link", str(links[1]), "--between", model]
        argv += ["--log", str(logs[0]), "--output-log", str(logs[1]), "--start-s", str(start_s)]
        self._start([*argv, "--delay-ms", str(delay_ms), *extra], links)
        process = self._last
        return Emulator(process, links[0], logs[0]), Emulator(process, links[1], logs[1])

    def server(self, devices: list[str], *extra: str, interval_s: float) -> Server:
        """``api_server.py`` with one ``--device`` per entry, ready to answer."""
        first, *rest = devices
        args = [arg for device in rest for arg in ("--device", device)]
        server = start_server(
            self.workdir,
            self.workdir / f"data-{len(self.servers)}",
            first,
            *args,
            *extra,
            interval_s=interval_s,
            retention_min=60,
        )
        self.servers.append(server)
        return server

    def close(self) -> None:
        """Stop every server, then every emulator (bounded waits, then SIGKILL)."""
        for server in self.servers:
            server.stop()
        for emulator in self.emulators:
            emulator.stop()

    @property
    def _last(self) -> subprocess.Popen[bytes]:
        return self.emulators[-1].process

    def _start(self, argv: list[str], links: list[Path]) -> None:
        out = self.workdir / f"{links[0].name}.out"
        with out.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "tc66c_server.emulator", *argv],
                cwd=ROOT,
                env=_env(),
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.emulators.append(Emulator(process, links[0], self.workdir / "unused"))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(link.exists() for link in links):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the emulator did not start: {out.read_text()}")
            time.sleep(0.02)


@contextlib.contextmanager
def bench(workdir: Path) -> Iterator[Bench]:
    """A :class:`Bench` whose processes are all ended on the way out."""
    b = Bench(workdir)
    try:
        yield b
    finally:
        b.close()
