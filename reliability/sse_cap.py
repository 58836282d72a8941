"""Live-stream clients capped: a clear 503 before the server runs out of files.

With a low open-file limit (1,024 is common under systemd and on desktops), every idle
``/api/stream`` client holds a socket; without a cap enough of them block the whole API.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx2 as httpx

from .api import client, error_problem, wait_for, wait_for_samples
from .outcome import Outcome
from .procs import open_fds, start_emulator, start_server
from .sse import RawStream

SSE_TRIES = 1000
SSE_FD_LIMIT = 1024


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
            problem = f"no answer after {accepted} streams"
            if refused.status:
                body = refused.read_body()
                answer = httpx.Response(refused.status, headers=refused.headers, content=body)
                problem = error_problem(answer, (503,))
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
