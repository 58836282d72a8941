"""Run the benchmarks, print a table and rewrite docs/performance.md.

Usage: ``python -m bench [--quick] [--only link,api,...] [--no-write]``
"""

from __future__ import annotations

import argparse
import importlib
import time
from datetime import UTC, datetime
from pathlib import Path

from .common import Figure, machine
from .report import render_markdown, render_table

SUITES = (
    "link",
    "api",
    "load",
    "acquisition",
    "meters",
    "footprint",
    "startup",
    "dashboard",
    "history",
)
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--only", help=f"comma list of suites among {', '.join(SUITES)}")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite the doc")
    args = parser.parse_args()
    suites = args.only.split(",") if args.only else list(SUITES)
    figures: list[Figure] = []
    methods: dict[str, str] = {}
    started = time.perf_counter()
    for name in suites:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        figures.extend(module.run(quick=args.quick))
        methods.update(getattr(module, "METHODS", {}))
    elapsed = time.perf_counter() - started
    print(render_table(figures))
    if not args.no_write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        DOC.write_text(render_markdown(figures, machine(), stamp, elapsed, args.quick, methods))
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
