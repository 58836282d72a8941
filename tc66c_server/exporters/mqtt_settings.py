"""MQTT settings: the broker URL, topics and rate, from flags, environment or ``CONFIG``.

Off unless a broker is given. Precedence, per setting, as for the rest of the
configuration: ``--mqtt*`` flags > ``TC66C_MQTT*`` variables > the ``"mqtt"`` entry of
``api_server.py``'s ``CONFIG`` (a URL string, or an object with ``url``, ``base_topic``,
``discovery_prefix`` and ``interval``) > defaults.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ..config import ConfigError

DEFAULT_BASE_TOPIC = "tc66c"
DEFAULT_DISCOVERY_PREFIX = "homeassistant"
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
MAX_INTERVAL_S = 3600.0
MAX_TOPIC_LEN = 200

#: Setting name -> (flag, environment variable, ``CONFIG["mqtt"]`` key).
SOURCES: dict[str, tuple[str, str, str]] = {
    "url": ("--mqtt", "TC66C_MQTT", "url"),
    "base_topic": ("--mqtt-base", "TC66C_MQTT_BASE", "base_topic"),
    "discovery_prefix": (
        "--mqtt-discovery-prefix",
        "TC66C_MQTT_DISCOVERY_PREFIX",
        "discovery_prefix",
    ),
    "interval": ("--mqtt-interval", "TC66C_MQTT_INTERVAL", "interval"),
}
_NODE_CHARS = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Where to publish and how often; ``interval_s`` 0 sends every sample."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    base_topic: str = DEFAULT_BASE_TOPIC
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX
    interval_s: float = 0.0

    @property
    def display_url(self) -> str:
        """The broker's URL without the password (for the banner and logs)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"

    @property
    def node_id(self) -> str:
        """The base topic as an identifier (Home Assistant ids and the client id)."""
        return _NODE_CHARS.sub("_", self.base_topic)


def parse_url(text: str, what: str = "--mqtt") -> dict[str, Any]:
    """``mqtt[s]://[user[:password]@]host[:port]`` as settings; :class:`ConfigError` if bad."""
    hint = "must look like mqtt://[user:password@]host[:port] (or mqtts:// for TLS)"
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ConfigError({what: hint}) from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError({what: hint})
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError({what: f"{hint}: no path or query (topics have options of their own)"})
    return {
        "host": parts.hostname,
        "port": port or DEFAULT_PORTS[parts.scheme],
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password is not None else None,
        "tls": parts.scheme == "mqtts",
    }


def check_topic(value: Any, what: str) -> str:
    """A topic prefix we may publish under: levels without wildcards, not a ``$`` topic."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_TOPIC_LEN
        or any(c in value for c in "+#\x00")
        or value.startswith("$")
        or "" in value.split("/")
    ):
        raise ConfigError(
            {
                what: "must be a topic such as 'tc66c' or 'lab/bench-3': levels separated by "
                "'/', none empty, no '+' or '#', not starting with '$'"
            }
        )
    return value


def check_interval(value: Any, what: str) -> float:
    try:
        interval = float(value)
    except (TypeError, ValueError):
        interval = math.nan
    if isinstance(value, bool) or not 0 <= interval <= MAX_INTERVAL_S:
        raise ConfigError(
            {what: f"must be a number of seconds from 0 (every sample) to {MAX_INTERVAL_S:g}"}
        )
    return interval


def _config_layer(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, str):
        return {"url": config}
    if not isinstance(config, Mapping):
        raise ConfigError({"CONFIG['mqtt']": "must be a URL or an object with 'url'"})
    unknown = [str(k)[:40] for k in config if k not in SOURCES]
    if unknown:
        known = ", ".join(SOURCES)
        raise ConfigError({"CONFIG['mqtt']": f"unknown key(s) {', '.join(unknown)} ({known})"})
    return dict(config)


def resolve(
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    config: Any = None,
) -> MqttSettings | None:
    """The MQTT settings, or None when no broker is given (MQTT off).

    ``flags`` maps setting names (``url``, ``base_topic``, ``discovery_prefix``,
    ``interval``) to flag values (None when not given); ``config`` is ``CONFIG["mqtt"]``.
    """
    layer = _config_layer(config)
    chosen: dict[str, tuple[Any, str]] = {}
    for name, (flag, var, key) in SOURCES.items():
        if flags.get(name) is not None:
            chosen[name] = (flags[name], flag)
        elif environ.get(var):
            chosen[name] = (environ[var], var)
        elif layer.get(key) is not None:
            chosen[name] = (layer[key], f"CONFIG['mqtt'].{key}")
    if "url" not in chosen:
        return None
    url, url_source = chosen["url"]
    if not isinstance(url, str):
        raise ConfigError({url_source: "must be a URL such as mqtt://localhost"})
    settings: dict[str, Any] = parse_url(url, url_source)
    if "base_topic" in chosen:
        settings["base_topic"] = check_topic(*chosen["base_topic"])
    if "discovery_prefix" in chosen:
        settings["discovery_prefix"] = check_topic(*chosen["discovery_prefix"])
    if "interval" in chosen:
        settings["interval_s"] = check_interval(*chosen["interval"])
    return MqttSettings(**settings)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``serve`` flags for MQTT."""
    group = parser.add_argument_group("MQTT and Home Assistant (off unless --mqtt is given)")
    group.add_argument(
        "--mqtt",
        dest="mqtt_url",
        metavar="URL",
        help="publish to this broker: mqtt://[user:password@]host[:port] (mqtts:// for TLS)",
    )
    group.add_argument(
        "--mqtt-base", dest="mqtt_base", metavar="TOPIC", help="base topic (default tc66c)"
    )
    group.add_argument(
        "--mqtt-discovery-prefix",
        dest="mqtt_discovery_prefix",
        metavar="PREFIX",
        help="Home Assistant discovery prefix (default homeassistant)",
    )
    group.add_argument(
        "--mqtt-interval",
        dest="mqtt_interval",
        metavar="SECONDS",
        help="at most one state message per meter every SECONDS (default 0: every sample)",
    )


def flags_of(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed ``--mqtt*`` flags by setting name."""
    return {
        "url": getattr(args, "mqtt_url", None),
        "base_topic": getattr(args, "mqtt_base", None),
        "discovery_prefix": getattr(args, "mqtt_discovery_prefix", None),
        "interval": getattr(args, "mqtt_interval", None),
    }
