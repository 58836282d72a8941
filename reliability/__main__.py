"""Run the reliability scenarios, print a table and rewrite docs/reliability.md.

Usage: ``python -m reliability [--only soak,stop,...] [--no-write] [--json FILE]``.
Exit status 1 when a scenario failed (the doc is written all the same).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine

from .catalog import SCENARIOS, run, select
from .report import render_markdown, render_table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability")
    keys = ", ".join(s.key for s in SCENARIOS)
    parser.add_argument("--only", help=f"comma list of key prefixes among {keys}")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite the doc")
    parser.add_argument("--json", type=Path, help="also write every outcome to this file")
    args = parser.parse_args()
    try:
        chosen = select(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    started = time.monotonic()
    outcomes = []
    for scenario in chosen:
        print(f"== {scenario.key}", flush=True)
        outcome = run(scenario)
        print(f"   {outcome.verdict} in {outcome.seconds:.1f} s", flush=True)
        outcomes.append(outcome)
    elapsed = time.monotonic() - started
    print(render_table(outcomes))
    if args.json:
        args.json.write_text(json.dumps([o.as_dict() for o in outcomes], indent=1, default=str))
    if not args.no_write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        DOC.write_text(render_markdown(outcomes, machine(), stamp, elapsed, _commit()))
        print(f"wrote {DOC}")
    return 0 if all(o.ok or o.skipped is not None for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
