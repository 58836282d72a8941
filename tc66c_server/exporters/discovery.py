"""Home Assistant MQTT discovery: the retained configs that make each meter appear by itself.

One device per meter, identified by the meter's serial (model, firmware as
``sw_version``), reached through the server, itself a device with one connectivity entity.
Every entity is available only while both the server (its last will) and the meter (its
link) are online. Pure functions from settings and link state to ``{topic: config}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import quantities as q
from ..poller import LinkState
from .mqtt_settings import MqttSettings

ONLINE, OFFLINE = "online", "offline"
MANUFACTURER = "RDTech"


@dataclass(frozen=True, slots=True)
class Entity:
    """One sensor of a meter: its key in the state message and how Home Assistant shows it."""

    key: str
    name: str
    unit: str
    device_class: str | None
    state_class: str
    precision: int
    diagnostic: bool = False
    enabled: bool = True


ENTITIES: tuple[Entity, ...] = (
    Entity("voltage", "Voltage", q.VOLTAGE.unit, "voltage", "measurement", 3),
    Entity("current", "Current", q.CURRENT.unit, "current", "measurement", 3),
    Entity("power", "Power", q.POWER.unit, "power", "measurement", 2),
    Entity("energy_wh", "Energy", "Wh", "energy", "total_increasing", 3),
    Entity("charge_mah", "Charge", "mAh", None, "total_increasing", 1),
    # No device class for a resistance in Home Assistant; off by default (noisy at idle).
    Entity(
        "resistance", "Load resistance", q.RESISTANCE.unit, None, "measurement", 1, enabled=False
    ),
    Entity(
        "temperature",
        "Temperature",
        q.TEMPERATURE.unit,
        "temperature",
        "measurement",
        0,
        diagnostic=True,
    ),
    Entity("d_plus", "D+ voltage", q.D_PLUS.unit, "voltage", "measurement", 2, diagnostic=True),
    Entity("d_minus", "D- voltage", q.D_MINUS.unit, "voltage", "measurement", 2, diagnostic=True),
)


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic the server publishes or listens to, from the settings."""

    base: str
    prefix: str

    @classmethod
    def of(cls, settings: MqttSettings) -> Topics:
        return cls(settings.base_topic, settings.discovery_prefix)

    @property
    def bridge_availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def ha_status(self) -> str:
        """Where Home Assistant says ``online`` when it (re)starts."""
        return f"{self.prefix}/status"

    def state(self, meter_id: str) -> str:
        return f"{self.base}/{meter_id}/state"

    def availability(self, meter_id: str) -> str:
        return f"{self.base}/{meter_id}/availability"

    def event(self, meter_id: str) -> str:
        return f"{self.base}/{meter_id}/event"


def origin(version: str) -> dict[str, str]:
    return {"name": "tc66c-server", "sw_version": version}


def bridge_identifier(settings: MqttSettings) -> str:
    return f"tc66c_server_{settings.node_id}"


def bridge_config(settings: MqttSettings, version: str) -> tuple[str, dict[str, Any]]:
    """The server's own device and its connectivity entity (the ``via_device`` of meters)."""
    topics = Topics.of(settings)
    ident = bridge_identifier(settings)
    config = {
        "name": "Connection",
        "unique_id": f"{ident}_connection",
        "state_topic": topics.bridge_availability,
        "payload_on": ONLINE,
        "payload_off": OFFLINE,
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        "device": {
            "identifiers": [ident],
            "name": f"tc66c-server {settings.base_topic}",
            "manufacturer": "tc66c-server",
            "model": "tc66c-server",
            "sw_version": version,
        },
        "origin": origin(version),
    }
    return f"{settings.discovery_prefix}/binary_sensor/{ident}/connection/config", config


def meter_identifier(serial: int) -> str:
    return f"tc66c_{serial}"


def meter_configs(
    settings: MqttSettings, meter_id: str, state: LinkState, version: str
) -> dict[str, dict[str, Any]]:
    """Every entity config of a meter by discovery topic; empty until its serial is known."""
    if state.serial is None:
        return {}
    topics = Topics.of(settings)
    ident = meter_identifier(state.serial)
    device: dict[str, Any] = {
        "identifiers": [ident],
        "name": f"TC66C {meter_id}",
        "manufacturer": MANUFACTURER,
        "model": state.product or "TC66C",
        "serial_number": str(state.serial),
        "via_device": bridge_identifier(settings),
    }
    if state.firmware:
        device["sw_version"] = state.firmware
    availability = [
        {"topic": topics.bridge_availability},
        {"topic": topics.availability(meter_id)},
    ]
    configs: dict[str, dict[str, Any]] = {}
    for entity in ENTITIES:
        config: dict[str, Any] = {
            "name": entity.name,
            "unique_id": f"{ident}_{entity.key}",
            "state_topic": topics.state(meter_id),
            "value_template": f"{{{{ value_json.{entity.key} }}}}",
            "unit_of_measurement": entity.unit,
            "state_class": entity.state_class,
            "suggested_display_precision": entity.precision,
            "availability": availability,
            "availability_mode": "all",
            "device": device,
            "origin": origin(version),
        }
        if entity.device_class is not None:
            config["device_class"] = entity.device_class
        if entity.diagnostic:
            config["entity_category"] = "diagnostic"
        if not entity.enabled:
            config["enabled_by_default"] = False
        configs[f"{settings.discovery_prefix}/sensor/{ident}/{entity.key}/config"] = config
    return configs
