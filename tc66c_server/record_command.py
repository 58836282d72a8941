"""``tc66c-server record start|stop``: drive a running server's recordings over its API.

The command is a plain client of ``/api/recordings`` (``--url``, default the local server on
port 5000; ``--token`` or ``TC66C_TOKEN`` for a server that asks for one). It prints the
recording's id, name and summary line and exits 0, or prints the server's error message
and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:5000"
TIMEOUT_S = 10.0


class ClientError(RuntimeError):
    """The server refused the request, or could not be reached; the message says why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``record start`` and ``record stop`` with their options."""
    actions = parser.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="start recording a meter now")
    stop = actions.add_parser("stop", help="stop a recording")
    for sub in (start, stop):
        sub.add_argument("--url", default=None, help=f"the server (default {DEFAULT_URL})")
        sub.add_argument("--token", default=None, help="write token (default $TC66C_TOKEN)")
    start.add_argument("--name", required=True, help="the recording's name")
    start.add_argument("--meter", help="meter id (default: the first meter)")
    start.add_argument("--note", help="a note kept with the recording")
    start.add_argument("--stop-below-v", type=float, help="stop when the voltage falls below V")
    start.add_argument(
        "--stop-current-below-a", type=float, help="stop when the current stays below A..."
    )
    start.add_argument("--for-s", type=float, help="...for this many seconds (default 0)")
    start.add_argument("--stop-after-s", type=float, help="stop after this many seconds")
    start.add_argument("--stop-energy-wh", type=float, help="stop once this energy went through")
    stop.add_argument(
        "id", nargs="?", type=int, help="recording id (default: the meter's running one)"
    )
    stop.add_argument("--meter", help="meter whose running recording to stop (default: any)")


def _request(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    base = (args.url or os.environ.get("TC66C_URL") or DEFAULT_URL).rstrip("/")
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    token = args.token or os.environ.get("TC66C_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {exc.code}"
        raise ClientError(message) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClientError(f"cannot reach the server at {base} ({reason})") from None


def _rules(args: argparse.Namespace) -> dict[str, float]:
    rules = {
        "voltage_below_v": args.stop_below_v,
        "current_below_a": args.stop_current_below_a,
        "current_below_for_s": args.for_s,
        "duration_s": args.stop_after_s,
        "energy_wh": args.stop_energy_wh,
    }
    return {k: v for k, v in rules.items() if v is not None}


def describe(recording: dict[str, Any]) -> str:
    """One line: id, name, meter, duration, energy and charge, state."""
    state = "running" if recording.get("end") is None else f"ended ({recording.get('end_reason')})"
    return (
        f"recording {recording['id']} “{recording['name']}” on {recording['meter']}: "
        f"{recording['duration_s']:.0f} s, {recording['energy_wh']:.4f} Wh, "
        f"{recording['charge_mah']:.1f} mAh, {state}"
    )


def record_command(args: argparse.Namespace) -> int:
    """Run ``record start|stop``; the exit code."""
    try:
        if args.action == "start":
            body: dict[str, Any] = {"name": args.name}
            for key in ("meter", "note"):
                if getattr(args, key):
                    body[key] = getattr(args, key)
            if _rules(args):
                body["stop_rules"] = _rules(args)
            recording = _request(args, "POST", "/api/recordings", body)
        else:
            rid = args.id
            if rid is None:
                query = f"?meter={urllib.parse.quote(args.meter)}" if args.meter else ""
                running = [
                    r for r in _request(args, "GET", f"/api/recordings{query}")["recordings"]
                    if r.get("end") is None
                ]  # fmt: skip
                if not running:
                    raise ClientError("no recording is running")
                if len(running) > 1:
                    ids = ", ".join(str(r["id"]) for r in running)
                    raise ClientError(
                        f"several recordings are running ({ids}): give an id or --meter"
                    )
                rid = running[0]["id"]
            recording = _request(args, "POST", f"/api/recordings/{rid}/stop")
    except ClientError as exc:
        print(f"tc66c-server record: {exc}", file=sys.stderr)
        return 1
    print(describe(recording))
    return 0
