"""Run the emulator on its own: ``python -m tc66c_server.emulator --link /tmp/ttyTC66``.

Serves until Ctrl+C or SIGTERM, then removes its link and exits with status 0.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from .host import EmulatorHost


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, validated (exits with status 2 on a bad value)."""
    parser = argparse.ArgumentParser(
        prog="python -m tc66c_server.emulator",
        description="A virtual TC66C USB meter on a pseudo-terminal.",
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
    args = parser.parse_args(argv)
    if args.delay_ms < 0:
        parser.error("--delay-ms must not be negative")
    if not 0.0 <= args.fault_rate <= 1.0:
        parser.error("--fault-rate must be between 0 and 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the emulator until SIGINT or SIGTERM; the exit status."""
    args = parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    host = EmulatorHost(
        args.link,
        seed=args.seed,
        reply_delay_s=args.delay_ms / 1000,
        chunked=not args.no_chunk,
        fault_rate=args.fault_rate,
    )
    with host:
        print(f"TC66C emulator: {host.link} -> {host.pts_path}", flush=True)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
