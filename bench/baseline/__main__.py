"""``python -m bench.baseline PORT [--device D] [--interval S] [--retention MIN] [--preload CSV]``.

The flags only fill the seed's ``CONFIG`` (the seed itself has you edit the file).
"""

from __future__ import annotations

import argparse

from . import app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("http_port", type=int, nargs="?", default=5000)
    parser.add_argument("--device", default=app.CONFIG["port"])
    parser.add_argument("--interval", type=float, default=app.CONFIG["polling_interval"])
    parser.add_argument("--retention", type=int, default=app.CONFIG["data_retention_minutes"])
    parser.add_argument("--preload", help="CSV export to load before starting")
    args = parser.parse_args()
    app.CONFIG.update(
        port=args.device, polling_interval=args.interval, data_retention_minutes=args.retention
    )
    if args.preload:
        print(f"{app.load_csv(args.preload)} points chargés depuis {args.preload}", flush=True)
    app.main(args.http_port)


if __name__ == "__main__":
    main()
