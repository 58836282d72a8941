"""Hostile and careless HTTP: every case of issue 8, each checked for its status *and* for
leaving the config and the history as they were.

The server holds a week-long retention and 250,000 samples of history (about three days at
1 Hz) before the cases run, so a write that slipped through (a retention of one minute
prunes at once) or an unbounded read (``/api/data/366d?fields=all``) shows.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson

from .api import client, error_problem, snapshot, wait_for_samples
from .outcome import Outcome
from .procs import peak_rss_bytes, reset_peak_rss, start_emulator, start_server
from .rawhttp import send_raw
from .storage import STORE_NAME, make_history

EVIL = "http://evil.example"
#: The write a hostile page wants: keep one minute of history, i.e. prune the rest now.
ATTACK = orjson.dumps({"data_retention_minutes": 1})
HISTORY_SAMPLES = 250_000
BODY_LIMIT = 64 * 1024
#: A raw answer may be refused (400 too_many_points) or served within this much memory.
ANSWER_MEMORY_BYTES = 100 * 2**20
BAD_ENDS = ("nan", "inf", "-inf", "1e12", "-99999999999", "0001-01-01T00:00:00", "1e400")
READS = (
    "/",
    "/api/status",
    "/api/config",
    "/api/data/latest",
    "/api/data/1m?format=csv",
    "/api/stats/1h",
    "/api/ports",
    "/openapi.json",
)


@dataclass(frozen=True)
class Case:
    """One request and the answer it must get (``hostile``: and must change nothing)."""

    name: str
    method: str
    path: str
    statuses: tuple[int, ...]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Callable[[], Iterator[bytes]] | None = None
    code: str = ""
    hostile: bool = True
    #: Sent on a raw socket: the server may answer and close before the body is sent.
    raw: bool = False


def _post(name: str, statuses: tuple[int, ...], body: Any, **options: Any) -> Case:
    """A ``POST /api/config``; JSON unless ``headers`` says otherwise."""
    headers = options.pop("headers", None)
    if headers is None:
        headers = {"Content-Type": "application/json", **options.pop("extra", {})}
    return Case(name, "POST", "/api/config", statuses, headers, body, **options)


def write_cases(port: int, link: str) -> list[Case]:
    """Writes that must be refused with nothing changed, and the ones that must work."""
    evil_host = f"evil.example:{port}"
    simple = {
        "text/plain body": {"Content-Type": "text/plain;charset=UTF-8"},
        "form body": {"Content-Type": "application/x-www-form-urlencoded"},
        "multipart body": {"Content-Type": "multipart/form-data; boundary=x"},
        "no Content-Type": {},
    }
    cases = []
    for origin in (EVIL, None):
        who = "from a foreign Origin" if origin else "without Origin"
        for name, headers in simple.items():
            headers = {**headers, "Origin": origin} if origin else headers
            cases.append(_post(f"CSRF: {name} {who}", (403,), ATTACK, headers=headers))
    cases += [
        _post("JSON from a foreign Origin", (403,), ATTACK, extra={"Origin": EVIL}),
        _post("JSON from Origin null", (403,), ATTACK, extra={"Origin": "null"}),
        _post(
            "JSON with a foreign Referer, no Origin",
            (403,),
            ATTACK,
            extra={"Referer": f"{EVIL}/page.html"},
        ),
        _post("DNS rebinding write (Host)", (403, 421), ATTACK, extra={"Host": evil_host}),
        _post(
            "DNS rebinding write (Host and Origin alike)",
            (403, 421),
            ATTACK,
            extra={"Host": evil_host, "Origin": f"http://{evil_host}"},
        ),
    ]
    for value in ("/etc/passwd", "/tmp", "/dev/null"):
        body = orjson.dumps({"port": value})
        cases.append(_post(f"port={value}", (400,), body, code="invalid_config"))
    big_key = b'{"' + b"k" * (10 * 2**20) + b'": 1}'
    over_limit = b'{"port": "' + b"x" * (BODY_LIMIT - 11) + b'"}'
    cases += [
        _post("10 MB body", (413,), big_key, raw=True),
        _post(f"{len(over_limit):,}-byte body", (413,), over_limit, raw=True),
        _post("10 MB chunked body", (413,), lambda: (b"k" * 2**20 for _ in range(10)), raw=True),
    ]
    same = orjson.dumps({"port": link})
    own, local = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
    cases += [
        _post("script: JSON without Origin", (200,), same, hostile=False),
        _post("dashboard at 127.0.0.1", (200,), same, extra={"Origin": own}, hostile=False),
        _post(
            "dashboard at localhost",
            (200,),
            same,
            extra={"Host": f"localhost:{port}", "Origin": local},
            hostile=False,
        ),
    ]
    return cases


def read_cases(port: int) -> list[Case]:
    """Reads with a foreign Host, bad ``end=`` values, and ones that must still work."""
    cases = []
    for path in READS:
        for host in (f"evil.example:{port}", f"127.0.0.1.evil.example:{port}"):
            headers = {"Host": host}
            cases.append(
                Case(f"DNS rebinding read {path} (Host {host})", "GET", path, (403, 421), headers)
            )
    for end in BAD_ENDS:
        cases.append(Case(f"end={end}", "GET", f"/api/data/1h?end={end}", (400,)))
        cases.append(Case(f"end={end}, CSV", "GET", f"/api/data/1h?format=csv&end={end}", (400,)))
    for host in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}"):
        cases.append(
            Case(
                f"read with Host {host}",
                "GET",
                "/api/status",
                (200,),
                {"Host": host},
                hostile=False,
            )
        )
    return cases


def _send(http: httpx.Client, port: int, case: Case) -> httpx.Response:
    content = case.body() if callable(case.body) else case.body
    if case.raw:
        return send_raw(port, case.method, case.path, case.headers, content or b"")
    return http.request(case.method, case.path, headers=case.headers, content=content)


def _run_case(outcome: Outcome, url: str, port: int, case: Case) -> None:
    """Send one case on a connection of its own (a refusal may close it) and judge it."""
    with client(url) as http:
        before = snapshot(http)
    try:
        with client(url) as http:
            response = _send(http, port, case)
    except httpx.HTTPError as exc:
        outcome.fail(case.name, f"no answer: {exc.__class__.__name__}: {exc}")
        return
    if case.statuses == (200,):
        problem = "" if response.status_code == 200 else f"status {response.status_code}"
    else:
        problem = error_problem(response, case.statuses, case.code)
    with client(url) as http:
        after = snapshot(http)
        changed = after.changes_since(before)
        if after.config != before.config:  # put it back, so one failure stays one
            http.post("/api/config", json=before.config)
    seen = "; ".join(filter(None, [problem, f"changed {changed}" if changed else ""]))
    outcome.check(case.name, not seen, seen or response.status_code)


def _oversized_reads(outcome: Outcome, http: httpx.Client, pid: int) -> None:
    for query in ("fields=all", "fields=all&format=csv"):
        name = f"/api/data/366d?{query} over {HISTORY_SAMPLES:,} samples"
        resident = reset_peak_rss(pid)
        try:
            response = http.get(f"/api/data/366d?{query}", timeout=60)
        except httpx.HTTPError as exc:
            outcome.fail(name, f"no answer: {exc}")
            continue
        grew = peak_rss_bytes(pid) - resident
        if response.status_code == 400:
            problem = error_problem(response, (400,), "too_many_points")
        elif response.status_code == 200:
            problem = (
                f"200 with {len(response.content) / 2**20:.0f} MB; the server's peak memory "
                f"grew {grew / 2**20:.0f} MB"
                if grew > ANSWER_MEMORY_BYTES
                else ""
            )
        else:
            problem = f"status {response.status_code}"
        outcome.check(f"{name}: 400 too_many_points or bounded", not problem, problem or "ok")


def hostile_requests(workdir: Path) -> Outcome:
    """Every hostile request of issue 8 against a server with real history."""
    outcome = Outcome(
        "hostile requests",
        "CSRF bodies (text/plain, none, form, multipart), foreign Origin/Referer/Host, "
        "non-tty ports, 10 MB and chunked bodies, bad end=, /api/data/366d over 250,000 "
        "samples; status and unchanged config and history checked after each",
    )
    data_dir = workdir / "data"
    make_history(data_dir / STORE_NAME, HISTORY_SAMPLES, end_ts=time.time() - 120)
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(workdir, data_dir, str(emulator.link), interval_s=0.5)
        stack.callback(server.stop)
        http = stack.enter_context(client(server.url, timeout_s=30))
        wait_for_samples(http, HISTORY_SAMPLES + 2)
        cases = read_cases(server.port) + write_cases(server.port, str(emulator.link))
        outcome.bad_inputs = sum(case.hostile for case in cases) + 2
        _oversized_reads(outcome, http, server.pid)
        for case in cases:
            _run_case(outcome, server.url, server.port, case)
        outcome.check("the server still runs", server.running)
        output = server.output()
    outcome.check("no traceback in the server's output", "Traceback" not in output)
    return outcome
