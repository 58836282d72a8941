"""MQTT settings: off by default, the broker URL, topics and rate, and their precedence."""

from __future__ import annotations

from typing import Any

import pytest

from tc66c_server.cli import build_parser
from tc66c_server.config import ConfigError
from tc66c_server.exporters.mqtt_settings import MqttSettings, flags_of, parse_url, resolve

NO_FLAGS: dict[str, Any] = {}


def test_mqtt_is_off_unless_a_broker_is_given() -> None:
    assert resolve(NO_FLAGS, {}) is None
    assert resolve(NO_FLAGS, {"TC66C_MQTT_BASE": "lab"}, {"base_topic": "x"}) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://broker", {"host": "broker", "port": 1883, "username": None, "tls": False}),
        ("mqtt://10.0.0.5:1884", {"host": "10.0.0.5", "port": 1884}),
        ("mqtts://broker.lan", {"host": "broker.lan", "port": 8883, "tls": True}),
        ("mqtt://[::1]:1883", {"host": "::1", "port": 1883}),
        ("mqtt://ha:s%40cret@broker/", {"username": "ha", "password": "s@cret"}),
        ("mqtt://ha@broker", {"username": "ha", "password": None}),
    ],
)
def test_broker_urls_are_read(url: str, expected: dict[str, Any]) -> None:
    parsed = parse_url(url)
    for key, value in expected.items():
        assert parsed[key] == value, key


@pytest.mark.parametrize(
    "url",
    ["broker:1883", "http://broker", "mqtt://", "mqtt://broker:99999", "mqtt://b:x", "mqtt://b/t"],
)
def test_bad_broker_urls_name_the_setting(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({"url": url}, {})
    assert list(caught.value.fields) == ["--mqtt"]


def test_flags_win_over_the_environment_which_wins_over_config() -> None:
    env = {"TC66C_MQTT": "mqtt://env-broker", "TC66C_MQTT_BASE": "env/base"}
    config = {"url": "mqtt://config-broker", "base_topic": "cfg", "interval": 5}
    settings = resolve({"url": "mqtt://flag-broker"}, env, config)
    assert settings == MqttSettings(host="flag-broker", base_topic="env/base", interval_s=5.0)
    assert resolve(NO_FLAGS, env, config) == replace_host(settings, "env-broker")
    assert resolve(NO_FLAGS, {}, "mqtt://cfg-only").host == "cfg-only"  # type: ignore[union-attr]


def replace_host(settings: MqttSettings, host: str) -> MqttSettings:
    return MqttSettings(**{**_fields(settings), "host": host})


def _fields(settings: MqttSettings) -> dict[str, Any]:
    return {k: getattr(settings, k) for k in MqttSettings.__slots__}


@pytest.mark.parametrize("topic", ["", "a//b", "/a", "a/", "a/+/b", "lab/#", "$SYS/x", "a\x00b"])
def test_topics_with_wildcards_or_empty_levels_are_refused(topic: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({"url": "mqtt://b", "base_topic": topic}, {})
    assert "--mqtt-base" in caught.value.fields
    with pytest.raises(ConfigError) as caught:
        resolve(NO_FLAGS, {"TC66C_MQTT": "mqtt://b", "TC66C_MQTT_DISCOVERY_PREFIX": topic or "#"})
    assert "TC66C_MQTT_DISCOVERY_PREFIX" in caught.value.fields


@pytest.mark.parametrize("interval", ["-1", "nan", "inf", "soon", "3601"])
def test_bad_intervals_are_refused(interval: str) -> None:
    with pytest.raises(ConfigError):
        resolve({"url": "mqtt://b", "interval": interval}, {})


def test_unknown_config_keys_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(NO_FLAGS, {}, {"url": "mqtt://b", "topic": "x"})
    assert "topic" in caught.value.fields["CONFIG['mqtt']"]


def test_the_displayed_url_never_shows_the_password() -> None:
    settings = resolve({"url": "mqtt://ha:hunter2@broker:1884"}, {})
    assert settings is not None
    assert settings.display_url == "mqtt://ha@broker:1884"
    assert "hunter2" not in repr(settings.display_url)


def test_the_serve_command_takes_the_mqtt_flags() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--mqtt",
            "mqtt://b",
            "--mqtt-base",
            "lab/bench1",
            "--mqtt-interval",
            "2",
            "--mqtt-discovery-prefix",
            "ha",
        ]
    )
    settings = resolve(flags_of(args), {})
    assert settings == MqttSettings(
        host="b", base_topic="lab/bench1", discovery_prefix="ha", interval_s=2.0
    )
    assert settings.node_id == "lab_bench1"
