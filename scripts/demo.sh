#!/usr/bin/env bash
# Set up the server on a fresh machine and run it against the built-in simulated TC66C.
# Usage: ./scripts/demo.sh [HTTP_PORT] [more options, see python api_server.py --help]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q -e .
exec .venv/bin/python api_server.py --demo "$@"
