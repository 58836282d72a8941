"""Clean stops however they come: SIGTERM or SIGINT, to the server alone or to its group.

``systemctl stop`` signals the whole control group, Ctrl+C in a terminal the foreground
process group, ``kill PID`` the server alone. Each must end the server within 3 s with
status 0, write the samples it had, restart nothing and leave no process behind.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from pathlib import Path

from bench.procs import process_tree

from .acquisition import INTERVAL_S
from .api import client, wait_for, wait_for_samples
from .outcome import Outcome
from .procs import alive, start_emulator, start_server
from .served import compare, stored_in_file
from .storage import STORE_NAME

STOP_WITHIN_S = 3.0
#: How long a stop that overruns is still watched, to report how long it really took.
WATCH_S = 15.0
#: A reply sent this close to the signal may still be on its way to the poller.
IN_FLIGHT_S = 0.3
SIGNALS = ("SIGTERM", "SIGINT")


def stop(workdir: Path, signame: str, *, group: bool) -> Outcome:
    """Signal a running server (or its process group) and watch it go."""
    signum = signal.Signals[signame]
    target = "its process group" if group else "the server alone"
    outcome = Outcome(
        f"stop: {signame} to {target}",
        f"{signame} to {target} while it polls at 4 Hz: exit status 0 within "
        f"{STOP_WITHIN_S:g} s, samples written, nothing restarted, no process left",
    )
    outcome.faults = 1
    data_dir = workdir / "data"
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(workdir, data_dir, str(emulator.link), interval_s=INTERVAL_S)
        stack.callback(server.stop)
        with client(server.url) as http:
            wait_for_samples(http, 4)
        time.sleep(1.0)
        tree = server.tree()
        signalled_at = time.time()
        start = time.monotonic()
        server.send(signum, group=group)
        newcomers: set[int] = set()
        while server.running and time.monotonic() - start < WATCH_S:
            newcomers |= set(process_tree(server.pid)) - set(tree)
            time.sleep(0.02)
        took = time.monotonic() - start
        status = server.process.poll()
        if status is None:
            server.kill_group()
        everyone = [*tree, *sorted(newcomers)]
        left, _ = wait_for(lambda: not any(alive(pid) for pid in everyone), 2.0)
        stragglers = [pid for pid in everyone if alive(pid)]
        server.kill_group()
        output = server.output()
        log = emulator.served()

    outcome.figures = {"seconds_to_exit": round(took, 3), "exit_status": status}
    outcome.check("exit status 0", status == 0, status)
    outcome.check(f"exited within {STOP_WITHIN_S:g} s", took <= STOP_WITHIN_S, f"{took:.2f} s")
    outcome.check("nothing restarted during the stop", not newcomers, sorted(newcomers))
    outcome.check("no process left", left, f"still running: {stragglers} of {everyone}")
    stored = stored_in_file(data_dir / STORE_NAME)
    sent = [r for r in log.replies if r.t <= signalled_at]
    result = compare(sent, stored, excused=[(signalled_at - IN_FLIGHT_S, math.inf)])
    outcome.samples_lost = len(result.lost)
    outcome.check(
        "every sample taken before the signal written", not result.lost, result.describe()
    )
    outcome.check("no traceback in the server's output", "Traceback" not in output)
    return outcome
