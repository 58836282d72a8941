"""50 HTTP clients and 30 live-stream clients for 20 s while the server polls at 5 Hz.

No poll slot may be missed, every stream client must receive every sample stored while it
listened, and once everyone has left the server must hold no more open files than before
(measured after a short warm-up with the same load, so pools that grow once are not leaks).
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .acquisition import COMMIT_S
from .api import client, status, stored_samples, wait_for, wait_for_samples
from .outcome import Outcome
from .procs import ROOT, open_fds, start_emulator, start_server
from .served import compare
from .sse import Listener, RawStream

INTERVAL_S = 0.2  # 5 Hz
HTTP_CLIENTS = 50
SSE_CLIENTS = 30
WARM_UP_S = 3.0
#: Samples this close to the start or the end of listening may race the connection.
EDGE_S = 0.5
HAMMER_NICENESS = 19
#: A live event and the stored sample may differ in the last microsecond of their time.
SAME_SAMPLE_S = 0.001


def _missing(expected: list[float], got: list[float]) -> list[float]:
    """The times in ``expected`` with no time in ``got`` within :data:`SAME_SAMPLE_S`."""
    ordered = sorted(got)
    missing = []
    for ts in expected:
        at = bisect.bisect_left(ordered, ts - SAME_SAMPLE_S)
        if at == len(ordered) or ordered[at] > ts + SAME_SAMPLE_S:
            missing.append(ts)
    return missing


def _hammer(port: int, seconds: float) -> subprocess.Popen[str]:
    """The HTTP clients in a process of their own, behind the server in the CPU queue.

    Real clients run on other machines: on this one, the load generator must not take the
    CPU time the poller and the emulator need (it still keeps the server busy).
    """
    argv = [sys.executable, "-m", "reliability.hammer", str(port), str(HTTP_CLIENTS), str(seconds)]
    if shutil.which("nice"):
        argv = ["nice", "-n", str(HAMMER_NICENESS), *argv]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def _finish(hammer: subprocess.Popen[str], seconds: float) -> dict[str, float]:
    try:
        out, _ = hammer.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        hammer.kill()
        out, _ = hammer.communicate()
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return result


def _streams(port: int, count: int) -> list[RawStream]:
    streams = [RawStream(port) for _ in range(count)]
    for stream in streams:
        stream.read_head()
    return streams


def load(workdir: Path, duration_s: float = 20.0) -> Outcome:
    """The load, the cadence under it, what every stream received, fds after."""
    outcome = Outcome(
        "load",
        f"{HTTP_CLIENTS} HTTP clients (latest, status, data, buckets, stats) and "
        f"{SSE_CLIENTS} /api/stream clients for {duration_s:g} s while polling at 5 Hz",
    )
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(workdir, workdir / "data", str(emulator.link), interval_s=INTERVAL_S)
        stack.callback(server.stop)
        http = stack.enter_context(client(server.url))
        since = time.time() - 5
        wait_for_samples(http, 5)
        # Warm-up: thread pools and per-thread read connections grow once, on first load.
        warm = _hammer(server.port, WARM_UP_S)
        with Listener(_streams(server.port, SSE_CLIENTS)):
            _finish(warm, WARM_UP_S)
        time.sleep(1.0)
        baseline = open_fds(server.pid)
        missed_before = status(http)["counters"]["missed_slots"]

        streams = _streams(server.port, SSE_CLIENTS)
        accepted = sum(stream.status == 200 for stream in streams)
        with Listener(streams):
            listening = time.time()
            hammer = _hammer(server.port, duration_s)
            load_result = _finish(hammer, duration_s)
            time.sleep(EDGE_S + 0.5)
            heard = time.time()
        missed = status(http)["counters"]["missed_slots"] - missed_before
        fds_back, _ = wait_for(lambda: open_fds(server.pid) <= baseline, 10.0)
        fds_now = open_fds(server.pid)
        time.sleep(COMMIT_S)
        asked = time.time()
        stored = stored_samples(http, since)
        log = emulator.served()
        output = server.output()

    window = [s.ts for s in stored if listening + EDGE_S <= s.ts <= heard - EDGE_S]
    missing = [_missing(window, stream.samples) for stream in streams if stream.status == 200]
    short = [len(m) for m in missing]
    gaps = [b - a for a, b in itertools.pairwise(window) if b - a > 1.5 * INTERVAL_S]
    result = compare(
        [r for r in log.replies if r.t <= asked], stored, excused=[(asked - COMMIT_S, math.inf)]
    )
    rate = load_result.get("requests", 0) / max(load_result.get("seconds", 1), 1e-9)
    outcome.samples_lost = len(result.lost)
    outcome.figures = {
        "http": load_result,
        "requests_per_s": round(rate),
        "samples_in_window": len(window),
        "first_client_missed_at_s": [round(ts - listening, 3) for ts in missing[0]]
        if missing
        else [],
        "fds": {"baseline": baseline, "after": fds_now},
    }
    outcome.check("every stream client accepted", accepted == SSE_CLIENTS, accepted)
    outcome.check(
        "every HTTP answer 200",
        load_result.get("requests", 0) > 0
        and not load_result.get("not_200")
        and not load_result.get("errors"),
        load_result,
    )
    outcome.check("no missed slot (counters.missed_slots)", missed == 0, missed)
    outcome.check(
        f"no gap over {1.5 * INTERVAL_S:g} s between stored samples",
        not gaps and len(window) >= duration_s / INTERVAL_S * 0.9,
        f"{len(window)} samples, gaps {[round(g, 3) for g in gaps]}",
    )
    outcome.check(
        "every stream client got every sample",
        bool(short) and not any(short),
        f"samples missing per client: {short}",
    )
    outcome.check(
        "open files back to baseline after the clients left",
        fds_back,
        f"{fds_now} open, {baseline} before",
    )
    outcome.check("every intact reply stored", not result.lost, result.describe())
    outcome.check("no traceback in the server's output", "Traceback" not in output)
    return outcome
