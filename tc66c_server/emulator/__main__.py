"""Run the emulator on its own: ``python -m tc66c_server.emulator --link /tmp/ttyTC66``.

With ``--output-link /tmp/ttyTC66out`` a second meter measures the output of a simulated
converter (``--model converter``, the default) or cable (``--model cable``) fed through
the first.

Serves until Ctrl+C or SIGTERM, then removes its link and exits with status 0.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from .converter import CableModel, ConverterModel, PairModel
from .host import EmulatorHost
from .pair import EmulatorPair


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
    parser.add_argument(
        "--output-link", help="also serve a meter on the output of a converter or cable here"
    )
    parser.add_argument(
        "--model",
        choices=("converter", "cable"),
        default="converter",
        help="what is between the two meters (default converter, 80-92 %% efficient)",
    )
    parser.add_argument(
        "--cable-ohm", type=float, default=0.25, help="the cable's resistance (default 0.25)"
    )
    args = parser.parse_args(argv)
    if args.cable_ohm < 0:
        parser.error("--cable-ohm must not be negative")
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
    if args.output_link:
        model: PairModel = CableModel(args.cable_ohm) if args.model == "cable" else ConverterModel()
        pair = EmulatorPair(
            args.link,
            args.output_link,
            model,
            seed=args.seed,
            reply_delay_s=args.delay_ms / 1000,
            chunked=not args.no_chunk,
            input_fault_rate=args.fault_rate,
            output_fault_rate=args.fault_rate,
        )
        with pair:
            for role, meter in (("input", pair.input), (f"{args.model} output", pair.output)):
                print(f"TC66C emulator ({role}): {meter.link} -> {meter.pts_path}", flush=True)
            while not stop.wait(0.2):
                pass
        return 0
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
