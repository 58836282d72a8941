#!/usr/bin/env bash
# Run the reliability scenarios (about 4 minutes) and rewrite docs/reliability.md.
# Usage: ./scripts/reliability.sh [--only soak,stop,web] [--no-write] [--json FILE]
# Real processes on loopback only; the disk-full scenario mounts a small tmpfs (root only,
# skipped with its reason otherwise). Exit status 1 when a scenario failed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q -e ".[test,bench]"
exec .venv/bin/python -m reliability "$@"
