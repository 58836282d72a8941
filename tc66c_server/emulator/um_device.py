"""A virtual UM24C / UM25C / UM34C: the UM command bytes as a pure state machine.

Every byte is one command (docs/protocol.md section 5): ``F0`` asks for the 130-byte reply,
``F1``-``F4`` move the screen, rotate or clear the selected group, ``A0+n`` selects group
n, ``B0+n``/``D0+n``/``E0+n`` set the recording threshold, brightness and screen timeout.
Bytes outside the command set are ignored (what a real meter does with them is not
documented). The measured values come from a :class:`ReadingSource` (the bench session),
at the model's resolution; the data groups count the session's charge and energy while
selected, as the real meter accumulates into its selected group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from .. import um_protocol as um
from ..reading import UM_GROUP_COUNT, Reading, UmFields
from .device import Reply
from .source import ReadingSource

#: Screens the UM cycles through with F1/F3 (an assumption; no source gives the count).
SCREEN_COUNT = 6
ROTATIONS = 4
#: Above this voltage the emulator reports a QC2.0 charging mode; below, none detected.
QC_VOLTS = 6.0


class VirtualUmMeter:
    """One UM meter's command handling and state, driven by an injected clock."""

    def __init__(
        self, session: ReadingSource, clock: Callable[[], float], model: um.UmModel
    ) -> None:
        self.session = session
        self.model = model
        self._clock = clock
        self._t0 = clock()
        self.selected_group = 0
        self.screen_index = 0
        self.rotation = 0
        self.brightness = 5
        self.screen_timeout_min = 0
        self.threshold_step = 10  # 0.10 A
        self.commands: Counter[str] = Counter()
        self.ignored_bytes = 0
        self.last_reading: Reading | None = None
        # Stored (mAh, mWh) per group, and the session counters when the selected group
        # last started counting.
        self._stored = [(0, 0)] * UM_GROUP_COUNT
        self._base = self._counters(0.0)

    def elapsed_s(self) -> float:
        return self._clock() - self._t0

    def _counters(self, t_s: float) -> tuple[int, int]:
        reading = self.session.reading_at(t_s)
        return reading.group0_mah, reading.group0_mwh

    def _groups(self, now: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        groups = list(self._stored)
        mah, mwh = groups[self.selected_group]
        groups[self.selected_group] = (
            mah + max(now[0] - self._base[0], 0),
            mwh + max(now[1] - self._base[1], 0),
        )
        return tuple(groups)

    def feed(self, data: bytes) -> list[Reply]:
        """Consume received bytes; the replies of the commands among them."""
        replies = []
        for byte in data:
            reply = self.handle(byte)
            if reply is not None:
                replies.append(reply)
        return replies

    def handle(self, byte: int) -> Reply | None:
        """Act on one command byte; the reply, or None (most commands have none)."""
        high, n = byte & 0xF0, byte & 0x0F
        t_s = self.elapsed_s()
        if byte == um.REQUEST_DATA[0]:
            self.commands["data"] += 1
            self.last_reading = self.reading_at(t_s)
            return Reply("data", um.encode_reply(self.last_reading, self.model))
        if byte == um.NEXT_SCREEN[0]:
            self.screen_index = (self.screen_index + 1) % SCREEN_COUNT
            name = "next"
        elif byte == um.PREVIOUS_SCREEN[0]:
            self.screen_index = (self.screen_index - 1) % SCREEN_COUNT
            name = "previous"
        elif byte == um.ROTATE[0]:
            self.rotation = (self.rotation + 1) % ROTATIONS
            name = "rotate"
        elif byte == um.CLEAR_GROUP[0]:
            self._stored[self.selected_group] = (0, 0)
            self._base = self._counters(t_s)
            name = "clear_group"
        elif high == 0xA0 and n < UM_GROUP_COUNT:
            now = self._counters(t_s)
            self._stored = list(self._groups(now))
            self.selected_group, self._base = n, now
            name = "select_group"
        elif high == 0xB0:
            self.threshold_step = n
            name = "threshold"
        elif high == 0xC0:  # B0 + 16..31 runs into C0..CF
            self.threshold_step = 16 + n
            name = "threshold"
        elif high == 0xD0 and n <= 5:
            self.brightness = n
            name = "brightness"
        elif high == 0xE0 and n <= 9:
            self.screen_timeout_min = n
            name = "screen_timeout"
        else:
            self.ignored_bytes += 1
            return None
        self.commands[name] += 1
        return None

    def reading_at(self, t_s: float) -> Reading:
        """What the meter reports ``t_s`` into the session, at the model's resolution."""
        base = self.session.reading_at(t_s)
        groups = self._groups((base.group0_mah, base.group0_mwh))
        threshold_a = self.threshold_step / 100
        model = self.model
        return Reading(
            product=model.product,
            firmware="",
            serial=0,
            runs=0,
            voltage=round(round(base.voltage / model.voltage_step) * model.voltage_step, 3),
            current=round(round(base.current / model.current_step) * model.current_step, 4),
            power=round(base.power, 3),
            resistance=min(base.resistance, 429_496_729.5),
            group0_mah=groups[0][0],
            group0_mwh=groups[0][1],
            group1_mah=groups[1][0],
            group1_mwh=groups[1][1],
            temperature=max(base.temperature, 0),
            d_plus=base.d_plus,
            d_minus=base.d_minus,
            um=UmFields(
                model_id=model.model_id,
                groups=groups,
                selected_group=self.selected_group,
                temperature_f=round(max(base.temperature, 0) * 9 / 5 + 32),
                charging_mode=1 if base.voltage > QC_VOLTS else 0,
                threshold_mah=groups[self.selected_group][0],
                threshold_mwh=groups[self.selected_group][1],
                threshold_current=threshold_a,
                recording_s=int(t_s),
                recording_active=base.current >= threshold_a,
                screen_timeout_min=self.screen_timeout_min,
                screen_brightness=self.brightness,
                screen_index=self.screen_index,
            ),
        )
