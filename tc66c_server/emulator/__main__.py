"""Run the emulator on its own: ``python -m tc66c_server.emulator --link /tmp/ttyTC66``.

Serves until Ctrl+C or SIGTERM, then removes its link and exits with status 0. Another
process can pull the cable (``SIGUSR1``) and plug it back (``SIGUSR2``); ``--log FILE``
records every reply served and every plug change as JSON lines, so a test can compare what
a server stored with what the meter really said. ``--model um24c|um25c|um34c`` serves that
UM meter's protocol instead of the TC66C's (``--model tc66c``, the default).

``--output-link OUT --between converter`` (or ``cable``) serves a second TC66C on the output
of a simulated converter or cable (:mod:`.pair`), its replies logged to ``--output-log``;
the signals then pull and plug both cables.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

from .converter import CableModel, ConverterModel, PairModel
from .faults import parse_mix
from .host import MODELS, EmulatorHost, ServedReply
from .pair import EmulatorPair

#: What the signals ask of the main loop.
CONTROLS = {
    signal.SIGINT: "stop",
    signal.SIGTERM: "stop",
    signal.SIGUSR1: "unplug",
    signal.SIGUSR2: "plug",
}

Controls = queue.SimpleQueue[str]


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
        "--model",
        choices=MODELS,
        default="tc66c",
        help="the meter to emulate (default tc66c; um24c, um25c, um34c speak the UM protocol)",
    )
    parser.add_argument(
        "--log", type=Path, help="append every reply served and plug change as JSON lines"
    )
    parser.add_argument(
        "--output-link", help="also serve a TC66C on the output of --between behind this link"
    )
    parser.add_argument(
        "--between",
        choices=("converter", "cable"),
        default="converter",
        help="what sits between the two meters (default converter: 80-92 %% efficient)",
    )
    parser.add_argument(
        "--cable-ohm", type=float, default=0.25, help="the cable model's resistance (default 0.25)"
    )
    parser.add_argument(
        "--start-s", type=float, default=0.0, help="start this many seconds into the bench session"
    )
    parser.add_argument("--output-log", type=Path, help="the output meter's --log")
    args = parser.parse_args(argv)
    if args.output_log is not None and args.output_link is None:
        parser.error("--output-log needs --output-link")
    if args.output_link is not None and args.model != "tc66c":
        parser.error("--output-link serves a pair of TC66Cs: leave --model at tc66c")
    if args.output_link is not None and args.fault_mix:
        parser.error("--fault-mix is for one meter: use --fault-rate with --output-link")
    if args.cable_ohm < 0 or args.start_s < 0:
        parser.error("--cable-ohm and --start-s must not be negative")
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

    @property
    def active(self) -> bool:
        """True when events go somewhere."""
        return self._stream is not None

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


def _model(args: argparse.Namespace) -> PairModel:
    return ConverterModel() if args.between == "converter" else CableModel(args.cable_ohm)


def _hosts(args: argparse.Namespace, logs: list[EventLog]) -> list[EmulatorHost]:
    """The meters to serve: one, or the input and output of a pair (``--output-link``)."""
    on_reply = [log.reply if log.active else None for log in logs]
    if args.output_link is None:
        host = EmulatorHost(
            args.link,
            seed=args.seed,
            reply_delay_s=args.delay_ms / 1000,
            chunked=not args.no_chunk,
            fault_rate=args.fault_rate,
            fault_mix=args.fault_mix,
            on_reply=on_reply[0],
            model=args.model,
        )
        return [host]
    pair = EmulatorPair(
        args.link,
        args.output_link,
        _model(args),
        seed=args.seed,
        start_s=args.start_s,
        reply_delay_s=args.delay_ms / 1000,
        chunked=not args.no_chunk,
        input_fault_rate=args.fault_rate,
        output_fault_rate=args.fault_rate,
        input_on_reply=on_reply[0],
        output_on_reply=on_reply[1],
    )
    return [pair.input, pair.output]


def _serve(hosts: list[EmulatorHost], logs: list[EventLog], controls: Controls) -> None:
    """Answer the signals' requests until told to stop."""
    for host, events in zip(hosts, logs, strict=True):
        print(f"{host.model.upper()} emulator: {host.link} -> {host.pts_path}", flush=True)
        events.write("plug", pts=host.pts_path)
    while True:
        try:
            # A timed wait keeps the main thread responsive to signals everywhere.
            command = controls.get(timeout=0.2)
        except queue.Empty:
            continue
        if command == "stop":
            break
        for host, events in zip(hosts, logs, strict=True):
            if command == "unplug":
                host.unplug()
                events.write("unplug")
            else:
                host.replug()
                events.write("plug", pts=host.pts_path)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the emulator until SIGINT or SIGTERM; the exit status."""
    args = parse_args(argv)
    controls: Controls = queue.SimpleQueue()  # put() is safe in a handler

    def on_signal(signum: int, frame: FrameType | None) -> None:
        controls.put(CONTROLS[signal.Signals(signum)])

    for signum in CONTROLS:
        signal.signal(signum, on_signal)
    with contextlib.ExitStack() as stack:
        paths = [args.log, args.output_log]
        streams = [stack.enter_context(p.open("a", encoding="utf-8")) if p else None for p in paths]
        logs = [EventLog(stream) for stream in streams]
        hosts = _hosts(args, logs)
        for host in hosts:
            stack.enter_context(host)
        _serve(hosts, logs[: len(hosts)], controls)
        for events in logs:
            events.write("stop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
