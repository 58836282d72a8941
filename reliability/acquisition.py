"""A flaky meter: a fault soak, a cable pulled and plugged back, the whole server killed.

Every scenario compares the samples the server kept with the emulator's own log of the
replies it sent (see ``served.py``): nothing stored that the meter did not say, nothing the
meter said intact missing, except replies still in flight at a cut.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from pathlib import Path

from .api import client, status, stored_samples, wait_for, wait_for_samples
from .outcome import Outcome
from .procs import alive, start_emulator, start_server
from .served import compare

INTERVAL_S = 0.25  # 4 Hz
FAULT_MIX = "flip=0.10,truncate=0.05,random=0.05"
FAULT_KINDS = ("flip", "truncate", "random")
#: Samples are committed once a second: the newest ones may not be readable yet.
COMMIT_S = 2.0
#: A reply the emulator finished writing just before the cable was pulled may never be read.
UNPLUG_IN_FLIGHT_S = 0.5
REPLUG_EVERY_S = 6.0
UNPLUGGED_S = 1.0
SAMPLE_AFTER_REPLUG_S = 2.0
KILL_KEEPS_OLDER_THAN_S = 1.5


def _no_traceback(outcome: Outcome, output: str) -> None:
    outcome.check("no traceback in the server's output", "Traceback" not in output)


def fault_soak(workdir: Path, duration_s: float = 30.0) -> Outcome:
    """4 Hz polling of a meter whose replies are 10 % flipped, 5 % cut short, 5 % noise."""
    outcome = Outcome(
        "fault soak",
        f"{duration_s:g} s at 4 Hz; 10 % of replies with a flipped byte, 5 % cut short, 5 % "
        "random bytes; every stored sample compared with the emulator's log",
    )
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir, fault_mix=FAULT_MIX)
        stack.callback(emulator.stop)
        server = start_server(workdir, workdir / "data", str(emulator.link), interval_s=INTERVAL_S)
        stack.callback(server.stop)
        http = stack.enter_context(client(server.url))
        since = time.time() - 5
        time.sleep(duration_s)
        asked = time.time()
        state = status(http)
        stored = stored_samples(http, since)
        log = emulator.served()
        output = server.output()

    sent = [r for r in log.replies if r.t <= asked]
    result = compare(sent, stored, excused=[(asked - COMMIT_S, math.inf)])
    faulty = [r for r in sent if r.fault is not None]
    counters = state["counters"]
    counted = counters["bad_packets"] + counters["timeouts"]
    settled = sum(1 for r in faulty if r.t <= asked - COMMIT_S)
    outcome.faults = len(faulty)
    outcome.samples_lost = len(result.lost)
    outcome.figures = {
        "replies": len(sent),
        "intact": len(sent) - len(faulty),
        "faults": {
            kind: sum(r.fault == kind for r in faulty) for kind in ("flip", "truncate", "random")
        },
        "stored": len(stored),
        "counters": counters,
    }
    outcome.check("faults were injected", len(faulty) >= duration_s * 4 * 0.1, len(faulty))
    outcome.check("no bad sample stored", not result.bad, result.describe())
    outcome.check("every intact reply stored", not result.lost, result.describe())
    outcome.check(
        "every fault counted (bad_packets + timeouts)",
        settled <= counted <= len(faulty),
        f"{counted} counted, {len(faulty)} injected ({settled} over {COMMIT_S:g} s before)",
    )
    _no_traceback(outcome, output)
    return outcome


def replug(workdir: Path, duration_s: float = 30.0) -> Outcome:
    """The cable pulled for a second every 6 s: a sample within 2 s of each replug."""
    count = int(duration_s // REPLUG_EVERY_S)
    outcome = Outcome(
        "replug",
        f"cable pulled for {UNPLUGGED_S:g} s and plugged back every {REPLUG_EVERY_S:g} s, "
        f"{count} times, at 4 Hz; a sample expected within {SAMPLE_AFTER_REPLUG_S:g} s of each",
    )
    plugs: list[float] = []
    unplugs: list[float] = []
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(workdir, workdir / "data", str(emulator.link), interval_s=INTERVAL_S)
        stack.callback(server.stop)
        http = stack.enter_context(client(server.url))
        since = time.time() - 5
        first = status(http)["counters"]["reconnects"]
        start = time.monotonic()
        for k in range(1, count + 1):
            time.sleep(max(0.0, start + k * REPLUG_EVERY_S - UNPLUGGED_S - time.monotonic()))
            before = time.time()
            emulator.unplug()
            unplugs.append(emulator.wait_event("unplug", before))
            time.sleep(UNPLUGGED_S)
            emulator.plug()
            plugs.append(emulator.wait_event("plug", unplugs[-1]))
        time.sleep(SAMPLE_AFTER_REPLUG_S + COMMIT_S)
        asked = time.time()
        reconnects = status(http)["counters"]["reconnects"] - first
        stored = stored_samples(http, since)
        log = emulator.served()
        output = server.output()

    outcome.faults = len(unplugs)
    delays = []
    for plugged in plugs:
        after = [s.ts - plugged for s in stored if s.ts > plugged]
        delays.append(round(min(after), 3) if after else math.inf)
    excused = [(t - UNPLUG_IN_FLIGHT_S, t) for t in unplugs] + [(asked - COMMIT_S, math.inf)]
    result = compare([r for r in log.replies if r.t <= asked], stored, excused=excused)
    outcome.samples_lost = len(result.lost)
    outcome.figures = {"replugs": len(plugs), "seconds_to_first_sample": delays}
    outcome.check(
        f"a sample within {SAMPLE_AFTER_REPLUG_S:g} s of each replug",
        len(delays) == count and max(delays) <= SAMPLE_AFTER_REPLUG_S,
        f"seconds after each replug: {delays}",
    )
    outcome.check("each replug counted as a reconnect", reconnects >= count, reconnects)
    outcome.check("no bad sample stored", not result.bad, result.describe())
    outcome.check("every intact reply stored", not result.lost, result.describe())
    _no_traceback(outcome, output)
    return outcome


def kill_tree(workdir: Path, run_s: float = 6.0) -> Outcome:
    """SIGKILL to the server's whole process group mid-run, then a restart on the same data."""
    outcome = Outcome(
        "kill -9",
        f"SIGKILL to the server and its poller child after {run_s:g} s at 4 Hz, restart on "
        f"the same data directory; everything older than {KILL_KEEPS_OLDER_THAN_S:g} s "
        "before the kill must be there",
    )
    data_dir = workdir / "data"
    with contextlib.ExitStack() as stack:
        emulator = start_emulator(workdir)
        stack.callback(emulator.stop)
        server = start_server(workdir, data_dir, str(emulator.link), interval_s=INTERVAL_S)
        stack.callback(server.stop)
        since = time.time() - 5
        time.sleep(run_s)
        tree = server.tree()
        killed_at = time.time()
        server.send(signal.SIGKILL, group=True)
        outcome.faults = 1
        server.wait_exit(5)
        left, _ = wait_for(lambda: not any(alive(pid) for pid in tree), 3.0)
        outcome.check("no process of the tree left", left, f"tree was {tree}")
        again = start_server(workdir, data_dir, str(emulator.link), interval_s=INTERVAL_S)
        stack.callback(again.stop)
        http = stack.enter_context(client(again.url))
        stored = [s for s in stored_samples(http, since) if s.ts <= killed_at]
        resumed = wait_for_samples(http, status(http)["data_count"] + 4)
        log = emulator.served()
        output = server.output() + again.output()

    sent = [r for r in log.replies if r.t <= killed_at]
    result = compare(sent, stored, excused=[(killed_at - KILL_KEEPS_OLDER_THAN_S, math.inf)])
    outcome.samples_lost = len(result.lost) + len(result.excused)
    outcome.figures = {
        "replies_before_kill": len(sent),
        "kept": result.matched,
        "lost_in_last_1.5s": len(result.excused),
    }
    outcome.check("no bad sample stored", not result.bad, result.describe())
    outcome.check(
        f"every reply older than {KILL_KEEPS_OLDER_THAN_S:g} s before the kill kept",
        not result.lost,
        result.describe(),
    )
    outcome.check("the restarted server stores new samples", resumed)
    _no_traceback(outcome, output)
    return outcome
