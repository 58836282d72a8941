#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run lint, types and all tests.
# Usage: ./scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium from Debian for the browser tests (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Node.js runs the dashboard's pure JavaScript modules' unit tests (node --test).
if ! command -v node >/dev/null 2>&1; then
  echo "Installing Debian's nodejs for the dashboard unit tests..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs >/dev/null
fi

# systemd-analyze checks the example unit in contrib/ (tests/test_contrib.py); installing the
# package in a container starts nothing.
if [ ! -x /usr/bin/systemd-analyze ]; then
  echo "Installing Debian's systemd for systemd-analyze (unit file check)..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq systemd >/dev/null
fi

# Prometheus (promtool checks /metrics; a real Prometheus scrapes the server) and mosquitto
# (the MQTT and Home Assistant discovery tests) from Debian; installing starts nothing here.
if [ ! -x /usr/bin/promtool ] || [ ! -x /usr/sbin/mosquitto ]; then
  echo "Installing Debian's prometheus and mosquitto for the exporter tests..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    prometheus mosquitto >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[test]"

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== node --test (dashboard logic)"
node --test tests/js/
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
