"""Command line: ``tc66c-server serve|read|ports|import|record|download-recording``.

``api_server.py`` calls ``serve``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from . import __version__
from . import config as cfg
from .exporters import mqtt_settings
from .i18n import LANGUAGES, Messages, detect_language

COMMANDS = ("serve", "read", "ports", "scan", "import", "record", "download-recording")
#: Meter models for ``--model`` (``auto``: detected when the port opens).
MODEL_CHOICES = ("auto", "tc66c", "um24c", "um25c", "um34c")


def _add_serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("http_port", nargs="?", type=int, help="HTTP port (default 5000)")
    p.add_argument(
        "--device",
        "--port-device",
        dest="device",
        action="append",
        help="meter port, auto or demo; repeat as NAME=PORT for several meters",
    )
    p.add_argument(
        "--pair", action="append", help="measure two meters together: INPUT:OUTPUT (repeatable)"
    )
    p.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        help="meter model of the --device meters (default auto: detected)",
    )
    p.add_argument("--interval", type=float, help="polling interval in seconds")
    p.add_argument("--retention", type=int, help="data retention in minutes")
    p.add_argument(
        "--auto-record",
        action="store_true",
        default=None,
        help="record each charge by itself (current >= auto_record_threshold_a)",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--data-dir", help="where samples are kept (':memory:' = RAM only)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="use the built-in simulated bench: two meters around a converter, paired",
    )
    p.add_argument("--token", help="token required for writes (POST /api/config)")
    p.add_argument(
        "--allowed-host",
        dest="allowed_hosts",
        action="append",
        metavar="NAME[:PORT]",
        help="another host name the server answers to (repeatable; '*' = any)",
    )
    p.add_argument("--lang", choices=LANGUAGES, help="console language (default: locale)")
    p.add_argument(
        "--log-level", default=None, choices=("debug", "info", "warning", "error"), help="log level"
    )
    mqtt_settings.add_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    """The ``tc66c-server`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="tc66c-server", description="REST API and live dashboard for the TC66C meter."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")
    _add_serve_args(sub.add_parser("serve", help="run the API server and dashboard"))
    read = sub.add_parser("read", help="print one reading from a meter and exit")
    read.add_argument("--device", default="auto", help="port (default auto; 'demo' works too)")
    read.add_argument(
        "--model", choices=MODEL_CHOICES, default="auto", help="meter model (default auto)"
    )
    read.add_argument("--json", action="store_true", help="print JSON")
    read.add_argument("--timeout", type=float, default=2.0, help="reply timeout in seconds")
    sub.add_parser("ports", help="list serial ports, the likely meter marked")
    scan = sub.add_parser("scan", help="list TC66C meters advertising over Bluetooth LE")
    scan.add_argument("--timeout", type=float, default=5.0, help="scan time in seconds")
    imp = sub.add_parser("import", help="load samples from a CSV file into the store")
    imp.add_argument("files", nargs="+", help="CSV files (this server's export or rd-usb's)")
    imp.add_argument("--data-dir", help="data directory (default as for serve)")
    imp.add_argument("--demo", action="store_true", help="import into the demo store")
    imp.add_argument("--meter", default="m1", help="the meter the samples belong to (default m1)")
    imp.add_argument(
        "--recording", metavar="NAME", help="also file the imported samples as a recording"
    )
    imp.add_argument(
        "--on-conflict",
        choices=("skip", "replace"),
        default="skip",
        help="a sample at a time already stored: keep the stored one (skip, default) or replace it",
    )
    from .record_command import add_arguments

    add_arguments(sub.add_parser("record", help="start or stop a recording on a running server"))
    from .download_command import add_arguments as add_download_arguments

    add_download_arguments(
        sub.add_parser("download-recording", help="file the meter's own offline recording")
    )
    return parser


def setup_logging(level: str | None) -> None:
    """Plain console logging: time, level for warnings and above, message."""
    logging.basicConfig(
        level=getattr(logging, (level or "info").upper()),
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None, *, seed_config: Mapping[str, Any] | None = None) -> int:
    """Entry point; returns the process exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0] not in COMMANDS and words[0] not in ("-h", "--help", "--version")):
        words = ["serve", *words]  # `tc66c-server 8000` and `api_server.py --demo` mean serve
    args = build_parser().parse_args(words)
    command = args.command
    if command == "serve":
        from .server import serve

        return serve(args, seed_config=seed_config)
    if command == "read":
        from .read import read_command

        return read_command(
            args.device, as_json=args.json, timeout_s=args.timeout, model=args.model
        )
    if command == "ports":
        from .ports import list_serial_ports

        for port in list_serial_ports():
            mark = "*" if port.likely_meter else " "
            vid = f"{port.vid:04x}:{port.pid or 0:04x}" if port.vid is not None else "-"
            print(f"{mark} {port.device}\t{vid}\t{port.manufacturer or ''}\t{port.description}")
        return 0
    if command == "scan":
        from .ble import scan_command

        return scan_command(args.timeout)
    if command == "import":
        from .import_command import import_command

        return import_command(args)
    if command == "download-recording":
        from .download_command import download_command

        return download_command(args)
    if command == "record":
        from .record_command import record_command

        return record_command(args)
    return 2


def messages_for(lang: str | None) -> Messages:
    """The console catalog: ``--lang``, else ``TC66C_LANG``, else the locale."""
    return Messages(lang or os.environ.get("TC66C_LANG") or detect_language())


def config_error_exit(messages: Messages, exc: cfg.ConfigError) -> int:
    """Report every bad setting on stderr and return the exit code for bad usage."""
    for field, error in exc.fields.items():
        print(messages("config.invalid", field=field, error=error), file=sys.stderr)
    return 2
