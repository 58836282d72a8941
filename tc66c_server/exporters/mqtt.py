"""The MQTT sink: state messages, availability, events and Home Assistant discovery.

Topics (``<base>`` is ``tc66c`` by default):

- ``<base>/availability``: ``online`` at connect, ``offline`` at a clean stop and as the
  broker-published last will when the server dies (retained);
- ``<base>/<meter>/availability``: ``online`` while the meter answers (retained);
- ``<base>/<meter>/state``: one JSON message per sample, or at most one per
  ``interval_s``: every quantity plus the server's ``energy_wh`` and ``charge_mah``;
- ``<base>/<meter>/event``: ``{"event": name, ...}`` (recordings, annotations, removal);
- ``<prefix>/.../config``: discovery (``discovery.py``), retained, sent again when Home
  Assistant says ``online`` on ``<prefix>/status``, emptied when a meter is removed.

Nothing here runs on an acquisition thread but a dictionary assignment: the sink keeps the
*latest* sample per meter and a bounded queue of events, and its own thread publishes
them. While the broker is away nothing accumulates beyond that (one sample per meter,
:data:`MAX_EVENTS` events, :data:`MAX_QUEUED` messages in the client); paho-mqtt
reconnects by itself with back-off (1 s doubling to :data:`MAX_RECONNECT_S`).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..energy import EnergyTotals
from ..poller import LinkState
from ..reading import Sample
from ..timefmt import iso
from . import METER_REMOVED
from .discovery import OFFLINE, ONLINE, Topics, bridge_config, meter_configs
from .mqtt_settings import MqttSettings
from .values import state_payload

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger(__name__)

#: Events kept while the broker is away (the oldest are dropped beyond).
MAX_EVENTS = 256
#: QoS 1 messages the client may hold unacknowledged (retained configs, availability).
MAX_QUEUED = 1000
MAX_RECONNECT_S = 30
KEEPALIVE_S = 30
#: How soon the publishing thread looks again at a state it could not send yet.
RETRY_S = 0.05
CLOSE_TIMEOUT_S = 2.0


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class MqttSink:
    """Publishes the bench to an MQTT broker (see the module doc)."""

    name = "mqtt"

    def __init__(self, settings: MqttSettings) -> None:
        self.settings = settings
        self.topics = Topics.of(settings)
        self._runtime: Runtime | None = None
        self._version = ""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: mqtt.Client | None = None
        self.connected = False
        self._resync = False
        self._warned = False  # one warning per outage, not one per retry
        # What is waiting to be published, by meter (all under _lock).
        self._samples: dict[str, tuple[Sample, EnergyTotals]] = {}
        self._last: dict[str, tuple[Sample, EnergyTotals]] = {}
        self._links: dict[str, LinkState] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._events: deque[tuple[str, bytes]] = deque(maxlen=MAX_EVENTS)
        # Publishing thread only: when each meter's state went out, and the live configs.
        self._sent_at: dict[str, float] = {}
        self._configs: dict[str, dict[str, bytes]] = {}
        #: Messages not sent because a bound was reached (events queue, client queue).
        self.dropped = 0

    # -- Sink -------------------------------------------------------------------------
    def start(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._version = runtime.version
        with self._lock:
            for meter in runtime:
                self._links[meter.id] = meter.state
                self._dirty.add(meter.id)
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"tc66c-{self.settings.node_id[:40]}-{secrets.token_hex(3)}",
            protocol=mqtt.MQTTv311,
        )
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        if self.settings.tls:
            client.tls_set()
        client.will_set(self.topics.bridge_availability, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(1, MAX_RECONNECT_S)
        client.max_queued_messages_set(MAX_QUEUED)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        self._client = client
        client.connect_async(self.settings.host, self.settings.port, keepalive=KEEPALIVE_S)
        client.loop_start()
        self._thread = threading.Thread(target=self._run, name="tc66c-mqtt", daemon=True)
        self._thread.start()

    def publish_sample(self, meter_id: str, sample: Sample) -> None:
        runtime = self._runtime
        totals = runtime.energy_of(meter_id) if runtime is not None else EnergyTotals()
        with self._lock:
            self._samples[meter_id] = (sample, totals)
        self._wake.set()

    def publish_state(self, meter_id: str, state: LinkState) -> None:
        with self._lock:
            self._links[meter_id] = state
            self._dirty.add(meter_id)
            self._removed.discard(meter_id)
        self._wake.set()

    def publish_event(self, meter_id: str, name: str, payload: Mapping[str, Any]) -> None:
        message = _json(
            {**payload, "event": name, "meter": meter_id, "timestamp": iso(time.time())}
        )
        with self._lock:
            if len(self._events) == MAX_EVENTS:
                self.dropped += 1
            self._events.append((meter_id, message))
            if name == METER_REMOVED:
                self._removed.add(meter_id)
                for table in (self._samples, self._last, self._links):
                    table.pop(meter_id, None)
                self._dirty.discard(meter_id)
        self._wake.set()

    def close(self) -> None:
        """Say ``offline`` (retained) and disconnect, within :data:`CLOSE_TIMEOUT_S`."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(CLOSE_TIMEOUT_S)
        client = self._client
        if client is None:
            return
        if self.connected:
            info = client.publish(self.topics.bridge_availability, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(CLOSE_TIMEOUT_S)
        client.disconnect()
        # The network thread may be inside a connection attempt to an unreachable host
        # (seconds): stopping it is not worth holding up the server's shutdown.
        stopper = threading.Thread(target=client.loop_stop, name="tc66c-mqtt-stop", daemon=True)
        stopper.start()
        stopper.join(CLOSE_TIMEOUT_S)

    def backlog(self) -> tuple[int, int]:
        """States and events waiting to be published (bounded: one state per meter)."""
        with self._lock:
            return len(self._samples), len(self._events)

    # -- paho callbacks (the client's network thread) ---------------------------------
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            if not self._warned:
                log.warning(
                    "MQTT: %s refused the connection: %s", self.settings.display_url, reason
                )
                self._warned = True
            return
        log.info("MQTT: connected to %s", self.settings.display_url)
        self._warned = False
        client.subscribe(self.topics.ha_status, qos=1)
        with self._lock:
            self.connected = True
            self._resync = True
        self._wake.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        with self._lock:
            was, self.connected = self.connected, False
        if was and not self._closing.is_set():
            log.warning("MQTT: lost %s (%s); reconnecting", self.settings.display_url, reason)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        if not self._warned:
            log.warning("MQTT: cannot reach %s; retrying", self.settings.display_url)
            self._warned = True

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.topics.ha_status and message.payload.strip() == ONLINE.encode():
            with self._lock:
                self._resync = True
            self._wake.set()

    # -- publishing thread ------------------------------------------------------------
    def _run(self) -> None:
        wait: float | None = None
        while not self._closing.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._closing.is_set() or not self.connected:
                wait = None
                continue
            try:
                wait = self._flush()
            except Exception:  # never let one bad message end the thread
                log.exception("MQTT: publishing failed")
                wait = 1.0

    def _publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False
    ) -> bool:
        client = self._client
        assert client is not None
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            with self._lock:
                self.dropped += 1
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def _flush(self) -> float | None:
        """Publish what is due; the seconds until the next state is due (None: nothing)."""
        with self._lock:
            resync, self._resync = self._resync, False
            links = dict(self._links)
            dirty = set(links) if resync else self._dirty & set(links)
            self._dirty = set()
            removed, self._removed = self._removed, set()
            events = list(self._events)
            self._events.clear()
            if resync:  # Home Assistant (or the broker) starts afresh: send the states again
                for meter_id, last in self._last.items():
                    self._samples.setdefault(meter_id, last)
        if resync:
            self._publish(self.topics.bridge_availability, ONLINE, retain=True)
            topic, config = bridge_config(self.settings, self._version)
            self._publish(topic, _json(config), retain=True)
        for meter_id in removed:
            self._withdraw(meter_id)
        for meter_id in sorted(dirty):
            state = links[meter_id]
            self._announce(meter_id, state, force=resync)
            self._publish(
                self.topics.availability(meter_id),
                ONLINE if state.connected else OFFLINE,
                retain=True,
            )
        for meter_id, message in events:
            self._publish(self.topics.event(meter_id), message)
        return self._send_states()

    def _send_states(self) -> float | None:
        client = self._client
        assert client is not None
        interval = self.settings.interval_s
        now = time.monotonic()
        with self._lock:
            pending = list(self._samples)
        if pending and client.want_write():
            # The last round is not on the wire yet (slow broker): the states wait here,
            # one per meter, instead of piling up in the client.
            return RETRY_S
        wait: float | None = None
        for meter_id in pending:
            last = self._sent_at.get(meter_id)
            due = now if last is None else last + interval
            if now < due:
                wait = due - now if wait is None else min(wait, due - now)
                continue
            with self._lock:  # the newest sample by now, never an older one
                current = self._samples.pop(meter_id, None)
                if current is None:
                    continue
                self._last[meter_id] = current
            sample, totals = current
            payload = _json(state_payload(sample, totals))
            self._publish(self.topics.state(meter_id), payload, qos=0)
            self._sent_at[meter_id] = now
        return wait

    def _announce(self, meter_id: str, state: LinkState, *, force: bool) -> None:
        """Publish the meter's discovery configs that changed (all with ``force``)."""
        configs = {
            topic: _json(config)
            for topic, config in meter_configs(
                self.settings, meter_id, state, self._version
            ).items()
        }
        if not configs:  # serial not known yet (or the link lost before one was seen)
            return
        old = self._configs.get(meter_id, {})
        for topic in old.keys() - configs.keys():  # another meter on that port: new device
            self._publish(topic, b"", retain=True)
        for topic, payload in configs.items():
            if force or old.get(topic) != payload:
                self._publish(topic, payload, retain=True)
        self._configs[meter_id] = configs

    def _withdraw(self, meter_id: str) -> None:
        """Empty the removed meter's retained configs and availability."""
        for topic in self._configs.pop(meter_id, {}):
            self._publish(topic, b"", retain=True)
        self._publish(self.topics.availability(meter_id), b"", retain=True)
        self._sent_at.pop(meter_id, None)
