"""Run the emulator on its own: ``python -m tc66c_server.emulator --link /tmp/ttyTC66``.

Serves until Ctrl+C or SIGTERM, then removes its link and exits with status 0. Another
process can pull the cable (``SIGUSR1``) and plug it back (``SIGUSR2``); ``--log FILE``
records every reply served and every plug change as JSON lines, so a test can compare what
a server stored with what the meter really said.
"""

from __future__ import annotations

import argparse
import json
import queue
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

from .faults import parse_mix
from .host import EmulatorHost, ServedReply

#: What the signals ask of the main loop.
CONTROLS = {
    signal.SIGINT: "stop",
    signal.SIGTERM: "stop",
    signal.SIGUSR1: "unplug",
    signal.SIGUSR2: "plug",
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, validated (exits with status 2 on a bad value)."""
    parser = argparse.ArgumentParser(
        prog="python -m tc66c_server.emulator",
        description="A virtual TC66C USB meter on a pseudo-terminal. "
        "SIGUSR1 unplugs it, SIGUSR2 plugs it back in.",
    )
    parser.add_argument("--link", required=True, help="symlink to create, e.g. /tmp/ttyTC66")
    parser.add_argument("--seed", type=int, default=1, help="bench session seed (default 1)")
    parser.add_argument(
        "--delay-ms", type=float, default=90.0, help="reply delay in ms (default 90, as a meter)"
    )
    parser.add_argument(
        "--no-chunk", action="store_true", help="write each reply at once, not in 64-byte packets"
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="probability that a getva reply is corrupted (default 0)",
    )
    parser.add_argument(
        "--fault-mix",
        default="",
        help="probability per fault kind instead of --fault-rate, "
        "e.g. flip=0.1,truncate=0.05,random=0.05",
    )
    parser.add_argument(
        "--log", type=Path, help="append every reply served and plug change as JSON lines"
    )
    args = parser.parse_args(argv)
    if args.delay_ms < 0:
        parser.error("--delay-ms must not be negative")
    if not 0.0 <= args.fault_rate <= 1.0:
        parser.error("--fault-rate must be between 0 and 1")
    try:
        args.fault_mix = parse_mix(args.fault_mix)
    except ValueError as exc:
        parser.error(f"--fault-mix {exc}")
    if args.fault_mix and args.fault_rate:
        parser.error("give either --fault-rate or --fault-mix, not both")
    return args


class EventLog:
    """JSON lines, one per event, each with its Unix time ``t``; thread-safe."""

    def __init__(self, stream: IO[str] | None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        """Append ``{"t": now, "event": event, **fields}`` and flush it."""
        self.write_at(time.time(), event, **fields)

    def write_at(self, t: float, event: str, **fields: Any) -> None:
        """Append one event that happened at Unix time ``t``."""
        if self._stream is None:
            return
        line = json.dumps({"t": t, "event": event, **fields}, separators=(",", ":"))
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def reply(self, served: ServedReply) -> None:
        """Record one reply: its command, fault, completeness and the intact reading."""
        reading = served.reading.as_dict() if served.reading is not None else None
        self.write_at(
            served.sent_at,
            "reply",
            command=served.command,
            fault=served.fault.value if served.fault is not None else None,
            complete=served.complete,
            reading=reading,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the emulator until SIGINT or SIGTERM; the exit status."""
    args = parse_args(argv)
    controls: queue.SimpleQueue[str] = queue.SimpleQueue()  # put() is safe in a handler

    def on_signal(signum: int, frame: FrameType | None) -> None:
        controls.put(CONTROLS[signal.Signals(signum)])

    for signum in CONTROLS:
        signal.signal(signum, on_signal)
    stream = args.log.open("a", encoding="utf-8") if args.log else None
    events = EventLog(stream)
    host = EmulatorHost(
        args.link,
        seed=args.seed,
        reply_delay_s=args.delay_ms / 1000,
        chunked=not args.no_chunk,
        fault_rate=args.fault_rate,
        fault_mix=args.fault_mix,
        on_reply=events.reply if stream else None,
    )
    try:
        with host:
            print(f"TC66C emulator: {host.link} -> {host.pts_path}", flush=True)
            events.write("plug", pts=host.pts_path)
            while True:
                try:
                    # A timed wait keeps the main thread responsive to signals everywhere.
                    command = controls.get(timeout=0.2)
                except queue.Empty:
                    continue
                if command == "stop":
                    break
                if command == "unplug":
                    host.unplug()
                    events.write("unplug")
                else:
                    host.replug()
                    events.write("plug", pts=host.pts_path)
        events.write("stop")
    finally:
        if stream is not None:
            stream.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
