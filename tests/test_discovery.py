"""Home Assistant discovery configs: one device per meter, entities with the right classes."""

from __future__ import annotations

import json

from tc66c_server.exporters.discovery import ENTITIES, Topics, bridge_config, meter_configs
from tc66c_server.exporters.mqtt_settings import MqttSettings
from tc66c_server.exporters.values import STATE_KEYS
from tc66c_server.poller import LinkState

SETTINGS = MqttSettings(host="broker", base_topic="lab/bench1")
STATE = LinkState(True, "/dev/ttyACM0", product="TC66", firmware="1.14", serial=12345)
REQUIRED = {"name", "unique_id", "state_topic", "device", "availability", "origin"}


def configs() -> dict[str, dict[str, object]]:
    return meter_configs(SETTINGS, "in", STATE, "0.1.0")


def by_key() -> dict[str, dict[str, object]]:
    return {topic.split("/")[-2]: config for topic, config in configs().items()}


def test_no_config_is_published_before_the_meter_s_serial_is_known() -> None:
    assert meter_configs(SETTINGS, "in", LinkState(False, "/dev/ttyACM0"), "0.1.0") == {}


def test_each_entity_has_a_config_topic_under_the_prefix_and_the_required_keys() -> None:
    found = configs()
    assert len(found) == len(ENTITIES)
    for topic, config in found.items():
        assert topic.startswith("homeassistant/sensor/tc66c_12345/") and topic.endswith("/config")
        assert set(config) >= REQUIRED, topic
        json.dumps(config)  # plain JSON
    assert len({c["unique_id"] for c in found.values()}) == len(found)


def test_the_device_is_the_meter_by_serial_reached_through_the_server() -> None:
    device = by_key()["voltage"]["device"]
    assert device == {
        "identifiers": ["tc66c_12345"],
        "name": "TC66C in",
        "manufacturer": "RDTech",
        "model": "TC66",
        "serial_number": "12345",
        "sw_version": "1.14",
        "via_device": "tc66c_server_lab_bench1",
    }
    topic, bridge = bridge_config(SETTINGS, "0.1.0")
    assert bridge["device"]["identifiers"] == ["tc66c_server_lab_bench1"]  # type: ignore[index]
    assert topic == "homeassistant/binary_sensor/tc66c_server_lab_bench1/connection/config"
    assert bridge["state_topic"] == "lab/bench1/availability"


def test_entities_have_the_right_classes_and_units() -> None:
    entities = by_key()
    expected = {
        "voltage": ("voltage", "measurement", "V"),
        "current": ("current", "measurement", "A"),
        "power": ("power", "measurement", "W"),
        "energy_wh": ("energy", "total_increasing", "Wh"),
        "charge_mah": (None, "total_increasing", "mAh"),
        "temperature": ("temperature", "measurement", "°C"),
        "d_plus": ("voltage", "measurement", "V"),
    }
    for key, (device_class, state_class, unit) in expected.items():
        config = entities[key]
        assert config.get("device_class") == device_class, key
        assert config["state_class"] == state_class, key
        assert config["unit_of_measurement"] == unit, key


def test_diagnostics_and_the_resistance_are_set_apart() -> None:
    entities = by_key()
    diagnostic = {k for k, c in entities.items() if c.get("entity_category") == "diagnostic"}
    assert diagnostic == {"temperature", "d_plus", "d_minus"}
    disabled = {k for k, c in entities.items() if c.get("enabled_by_default") is False}
    assert disabled == {"resistance"}


def test_entities_are_available_only_when_both_the_server_and_the_meter_are() -> None:
    for config in configs().values():
        assert config["availability"] == [
            {"topic": "lab/bench1/availability"},
            {"topic": "lab/bench1/in/availability"},
        ]
        assert config["availability_mode"] == "all"
        assert config["origin"] == {"name": "tc66c-server", "sw_version": "0.1.0"}


def test_every_entity_reads_a_key_of_the_state_message() -> None:
    topics = Topics.of(SETTINGS)
    for key, config in by_key().items():
        assert key in STATE_KEYS
        assert config["state_topic"] == topics.state("in") == "lab/bench1/in/state"
        assert config["value_template"] == f"{{{{ value_json.{key} }}}}"
