#!/usr/bin/env bash
# Run every benchmark (about 10 minutes at most) and rewrite docs/performance.md.
# Usage: ./scripts/bench.sh [--quick] [--only link,api]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q -e ".[test,bench]"
exec .venv/bin/python -m bench "$@"
