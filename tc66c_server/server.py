"""``serve``: resolve the configuration, print the banner, run uvicorn until stopped."""

from __future__ import annotations

import argparse
import errno
import functools
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from . import bench_config
from . import config as cfg
from .api.app import create_app
from .api.hosts import HostError, parse_allowed_host
from .cli import config_error_exit, messages_for, setup_logging
from .exporters import mqtt_settings
from .histories import open_store, store_path
from .hub import Hub
from .i18n import Messages
from .runtime import Runtime, ServerSettings
from .store import SampleStore, SchemaError
from .store.recovery import open_or_recover

DEFAULT_HTTP_PORT = 5000
MEMORY = ":memory:"
#: ``--demo``: two simulated meters around a simulated converter, measured as a pair.
DEMO_LAYER: dict[str, Any] = {"meters": ["in=demo", "out=demo-out"], "pairs": ["in:out"]}
#: One commit per second: at 10 Hz that is 10 samples per transaction instead of 2-3.
STORE_BATCH_S = 1.0


def _open_store(messages: Messages, path: Path | None) -> SampleStore | int:
    """The store at ``path``, a damaged one moved aside (and said so); or the exit code."""
    try:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        store, moved = open_or_recover(path, batch_s=STORE_BATCH_S)
    except SchemaError:
        print(messages("store.newer", path=path), file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:
        print(messages("store.unusable", path=path, error=exc), file=sys.stderr)
        return 1
    if moved is not None:
        print(messages("store.corrupt", path=path, moved=moved), file=sys.stderr, flush=True)
    return store


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def allowed_hosts_of(flags: list[str] | None, variable: str | None) -> tuple[str, ...]:
    """``--allowed-host`` entries, else ``TC66C_ALLOWED_HOSTS`` (comma or space separated)."""
    if flags:
        return tuple(flags)
    return tuple(entry for entry in (variable or "").replace(",", " ").split() if entry)


def check_allowed_host(entry: str) -> None:
    """Raise ``ConfigError`` naming ``--allowed-host`` when ``entry`` is not a host name."""
    try:
        parse_allowed_host(entry)
    except HostError as exc:
        raise cfg.ConfigError({"--allowed-host": str(exc)}) from None


def banner(messages: Messages, http_port: int, config: cfg.MeterConfig) -> list[str]:
    """The seed's four start-up lines, in the console language."""
    return [
        messages("banner.start", port=http_port),
        messages("banner.port", device=config.port),
        messages("banner.interval", interval=config.polling_interval),
        messages("banner.retention", retention=config.data_retention_minutes),
    ]


def serve(args: argparse.Namespace, *, seed_config: Mapping[str, Any] | None = None) -> int:
    """Run the server until Ctrl+C / SIGTERM; returns the exit code."""
    stop = _StopRequest()
    stop.install()
    env = os.environ
    setup_logging(args.log_level or env.get("TC66C_LOG_LEVEL"))
    messages = messages_for(args.lang)
    host = args.host or env.get("TC66C_HOST") or "127.0.0.1"
    http_port = args.http_port or int(env.get("TC66C_HTTP_PORT") or DEFAULT_HTTP_PORT)
    token = args.token or env.get("TC66C_TOKEN") or None
    allowed_hosts = allowed_hosts_of(args.allowed_hosts, env.get("TC66C_ALLOWED_HOSTS"))
    data_dir = args.data_dir or str(cfg.default_data_dir())
    cli_layer: dict[str, Any] = {
        **(DEMO_LAYER if args.demo else bench_config.cli_devices(args.device)),
        "polling_interval": args.interval,
        "data_retention_minutes": args.retention,
        "model": getattr(args, "model", None),
        "auto_record": args.auto_record,
    }
    if args.pair:
        cli_layer["pairs"] = args.pair
    try:
        for entry in allowed_hosts:
            check_allowed_host(entry)
        env_layer = cfg.from_environment()
        saved_path = None if data_dir == MEMORY else Path(data_dir) / "config.json"
        saved = cfg.load_saved(saved_path) if saved_path else {}
        bench = bench_config.resolve(seed_config, saved, env_layer, cli_layer)
        mqtt = mqtt_settings.resolve(
            mqtt_settings.flags_of(args), env, (seed_config or {}).get("mqtt")
        )
    except cfg.ConfigError as exc:
        return config_error_exit(messages, exc)
    config = bench.seed_view()

    for line in banner(messages, http_port, config):
        print(line, flush=True)
    for spec in bench.meters[1:]:
        print(messages("banner.meter", meter=spec.id, device=spec.port), flush=True)
    if not _port_free(host, http_port):
        print(messages("http.port_in_use", port=http_port, alt=http_port + 1), file=sys.stderr)
        return 1

    settings = ServerSettings(
        host=host,
        http_port=http_port,
        data_dir=data_dir,
        lang=messages.lang,
        token=token,
        allowed_hosts=allowed_hosts,
        saved_config_path=saved_path,
        poller_process=True,
        log_level=logging.getLogger().getEffectiveLevel(),
    )
    path = store_path(None if data_dir == MEMORY else Path(data_dir), config.port)
    store = _open_store(messages, path)
    if isinstance(store, int):
        return store
    runtime = Runtime(
        settings, bench, store, store_opener=functools.partial(open_store, batch_s=STORE_BATCH_S)
    )
    shown_host = f"[{host}]" if ":" in host else host
    print(messages("banner.url", url=f"http://{shown_host}:{http_port}/"), flush=True)
    print(messages("banner.data", path=path or MEMORY), flush=True)
    if runtime.demo_link:
        print(messages("banner.demo", link=runtime.demo_link), flush=True)
    if mqtt is not None:
        from .exporters.mqtt import MqttSink  # paho-mqtt is imported only when MQTT is on

        runtime.add_sink(MqttSink(mqtt))
        print(messages("banner.mqtt", url=mqtt.display_url, base=mqtt.base_topic), flush=True)
    if token:
        print(messages("banner.token"), flush=True)
    elif settings.exposed:
        print(messages("banner.readonly"), flush=True)

    app = create_app(runtime)
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=http_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
        ),
        hub=runtime.hub,
    )
    stop.server = server
    server.run()
    print(messages("stopped"), flush=True)
    return 0


class _StopRequest:
    """SIGINT / SIGTERM handler for all of ``serve``: every one asks for a graceful stop.

    Installed before anything starts, so a signal that comes during start-up is not lost
    (nor a traceback): the server then starts and stops at once. uvicorn installs its own
    handlers while it runs (our :meth:`_Server.handle_exit`) and puts these back after.
    """

    def __init__(self) -> None:
        self.requested = False
        self._server: uvicorn.Server | None = None

    @property
    def server(self) -> uvicorn.Server | None:
        return self._server

    @server.setter
    def server(self, server: uvicorn.Server) -> None:
        self._server = server
        if self.requested:  # a signal came before the server existed
            server.should_exit = True

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self._server is not None:
            self._server.should_exit = True


class _Server(uvicorn.Server):
    """uvicorn's server, stopping the same clean way however the signal comes.

    - Every SIGINT / SIGTERM (to the process alone or to its whole group, as Ctrl+C and
      ``systemctl stop`` send them) asks for the same graceful stop, and it is never
      re-raised after shutdown: the exit status is 0 and the samples are written.
    - Live streams are ended as soon as shutdown starts: uvicorn waits for open responses,
      and an event stream never ends by itself.
    """

    def __init__(self, config: uvicorn.Config, *, hub: Hub) -> None:
        super().__init__(config)
        self._hub = hub

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # No "second Ctrl+C forces the exit": shutdown is bounded anyway (streams end at
        # once, timeout_graceful_shutdown) and forcing it would skip writing the samples.
        self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._hub.close()
        await super().shutdown(sockets)
