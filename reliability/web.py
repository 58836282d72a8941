"""Hostile and careless HTTP: every case of issue 8, each checked for its status *and* for
leaving the config and the history as they were.

The server holds a week-long retention and 250,000 samples of history (about three days at
1 Hz) before the cases run, so a write that slipped through (a retention of one minute
prunes at once) or an unbounded read (``/api/data/366d?fields=all``) shows.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson

from .api import client, error_problem, snapshot, wait_for, wait_for_samples
from .outcome import Outcome
from .procs import open_fds, peak_rss_bytes, reset_peak_rss, start_emulator, start_server
from .sse import RawStream
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
SSE_TRIES = 1000
SSE_FD_LIMIT = 1024


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


def _send_raw(port: int, case: Case) -> httpx.Response:
    """Send ``case`` on a raw socket while reading the answer (it may come before the body)."""
    head = [f"{case.method} {case.path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in case.headers.items()]
    pieces: Iterable[bytes]
    if callable(case.body):
        chunked, pieces = True, case.body()
        head.append("Transfer-Encoding: chunked")
    else:
        chunked, pieces = False, [case.body or b""]
        head.append(f"Content-Length: {len(case.body or b'')}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)

    def send() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            for piece in pieces:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                break
            received += data
            if _complete(received):
                break
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        sender.join(10)
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        raise httpx.RemoteProtocolError(f"no HTTP answer: {received[:100]!r}")
    headers = [tuple(line.split(":", 1)) for line in lines[1:] if ":" in line]
    return httpx.Response(
        int(lines[0].split()[1]),
        headers=[(name.strip(), value.strip()) for name, value in headers],
        content=body,
    )


def _complete(received: bytes) -> bool:
    """True once a whole answer with a Content-Length is in ``received``."""
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _send(http: httpx.Client, port: int, case: Case) -> httpx.Response:
    if case.raw:
        return _send_raw(port, case)
    content = case.body() if callable(case.body) else case.body
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


def _error_from_body(status: int, body: bytes) -> str:
    try:
        error: Any = orjson.loads(body)["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"{status} without the JSON error shape: {body[:120]!r}"
    return "" if error.get("status") == status == 503 else f"error {error}"


def sse_cap(workdir: Path) -> Outcome:
    """Open streams until the server says 503; the API must keep answering."""
    outcome = Outcome(
        "SSE cap",
        f"up to {SSE_TRIES} /api/stream clients against a server limited to {SSE_FD_LIMIT} "
        "open files; a 503 expected before the API stops answering, fds back after",
    )
    streams: list[RawStream] = []
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(
            workdir, workdir / "data", str(emulator.link), max_open_files=SSE_FD_LIMIT
        )
        stack.callback(server.stop)
        http = stack.enter_context(client(server.url, timeout_s=5))
        wait_for_samples(http, 1)
        baseline = open_fds(server.pid)
        refused: RawStream | None = None
        for _ in range(SSE_TRIES):
            try:
                stream = RawStream(server.port)
            except OSError:
                break
            streams.append(stream)
            if stream.read_head() != 200:
                refused = stream
                break
        accepted = len(streams) - (refused is not None)
        outcome.bad_inputs = len(streams)
        outcome.figures = {"streams_accepted": accepted}
        if refused is None:
            outcome.fail("a 503 before the server runs out", f"{accepted} streams, no refusal")
        else:
            problem = (
                _error_from_body(refused.status, refused.read_body())
                if refused.status == 503
                else f"status {refused.status or 'none (no answer)'} after {accepted} streams"
            )
            outcome.check("a 503 in the error shape at the cap", not problem, problem or accepted)
        answered, _ = wait_for(lambda: http.get("/api/status").status_code == 200, 5.0)
        outcome.check("the API answers while streams are at the cap", answered)
        for stream in streams:
            stream.close()
        back, _ = wait_for(lambda: open_fds(server.pid) <= baseline, 10.0)
        outcome.check(
            "open files back to baseline once the clients leave",
            back,
            f"{open_fds(server.pid)} open, {baseline} before",
        )
        again = RawStream(server.port)
        stack.callback(again.close)
        outcome.check("a new stream is accepted after", again.read_head() == 200, again.status)
        output = server.output()
    outcome.check("no traceback in the server's output", "Traceback" not in output)
    return outcome
