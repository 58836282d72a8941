"""The RDTech UM24C / UM25C / UM34C reply and commands, as pure functions over bytes.

Facts and their sources are in ``docs/protocol.md`` (sections 5 and 10). Nothing here does
I/O. A reply is 130 bytes, all integers big-endian, starting with the model id; the UM24C
and UM25C end with the marker ``FF F1``, the UM34C's last byte is an XOR check. Commands
are single bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from .protocol import BadMagicError, ChecksumError, ProtocolError, ShortPacketError
from .reading import UM_GROUP_COUNT, Reading, UmFields

REPLY_LEN = 130
END_MARKER = b"\xff\xf1"
#: The UM34C's check byte is the XOR of the bytes at these offsets (SIGROK-UM).
UM34C_XOR_OFFSETS = (
    1, 3, 7, 9, 15, 17, 19, 23, 31, 39, 41, 45, 49, 53, 55, 57,
    59, 63, 67, 69, 73, 79, 83, 89, 97, 99, 109, 111, 113, 119, 121, 127,
)  # fmt: skip

ModelName = Literal["um24c", "um25c", "um34c"]


@dataclass(frozen=True, slots=True)
class UmModel:
    """One UM model: its id in the reply and the resolution of its voltage and current."""

    name: ModelName
    product: str
    model_id: int
    voltage_step: float  # V per raw step
    current_step: float  # A per raw step
    xor_check: bool  # True: XOR check byte (UM34C); False: FF F1 end marker

    @property
    def voltage_decimals(self) -> int:
        return 3 if self.voltage_step < 0.005 else 2

    @property
    def current_decimals(self) -> int:
        return 4 if self.current_step < 0.0005 else 3


UM24C = UmModel("um24c", "UM24C", 0x0963, 0.01, 0.001, xor_check=False)
UM25C = UmModel("um25c", "UM25C", 0x09C9, 0.001, 0.0001, xor_check=False)
UM34C = UmModel("um34c", "UM34C", 0x0D4C, 0.01, 0.001, xor_check=True)
MODELS: dict[str, UmModel] = {m.name: m for m in (UM24C, UM25C, UM34C)}
BY_ID: dict[int, UmModel] = {m.model_id: m for m in MODELS.values()}

# id V I P tC tF group | 10 x (mAh mWh) | D+ D- mode thr_mAh thr_mWh thr_A rec_s rec
# timeout brightness R screen | end
_HEAD = struct.Struct(">HHHIHHH")
_GROUPS = struct.Struct(">" + "II" * UM_GROUP_COUNT)
_TAIL = struct.Struct(">HHHIIHIHHHIH")
_GROUPS_AT = _HEAD.size  # 16
_TAIL_AT = _GROUPS_AT + _GROUPS.size  # 96
_END_AT = _TAIL_AT + _TAIL.size  # 128
assert _END_AT + 2 == REPLY_LEN

# -- commands (RDSER tool.py, IDX-31702563326, SIGROK-UM) ------------------------------------
REQUEST_DATA = b"\xf0"
NEXT_SCREEN = b"\xf1"
ROTATE = b"\xf2"
PREVIOUS_SCREEN = b"\xf3"
CLEAR_GROUP = b"\xf4"
MAX_THRESHOLD_STEP = 31  # B0 + n: n x 0.01 A, n 0-31


def _ranged(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def select_group(group: int) -> bytes:
    """Select data group 0-9 (``A0 + n``)."""
    return bytes([0xA0 + _ranged("group", group, 0, UM_GROUP_COUNT - 1)])


def set_threshold(current_a: float) -> bytes:
    """Set the recording threshold, 0.00-0.31 A in 10 mA steps (``B0 + n``)."""
    step = round(current_a * 100)
    if not 0 <= step <= MAX_THRESHOLD_STEP or abs(step - current_a * 100) > 1e-6:
        raise ValueError(f"threshold must be 0.00 to 0.31 A in 0.01 A steps, got {current_a!r}")
    return bytes([0xB0 + step])


def set_brightness(level: int) -> bytes:
    """Set the screen brightness 0-5 (``D0 + n``)."""
    return bytes([0xD0 + _ranged("brightness", level, 0, 5)])


def set_screen_timeout(minutes: int) -> bytes:
    """Set the screen timeout 0-9 minutes (``E0 + n``)."""
    return bytes([0xE0 + _ranged("screen timeout", minutes, 0, 9)])


# -- checks ----------------------------------------------------------------------------------
def um34c_check(reply: bytes) -> int:
    """The UM34C check byte of a reply: XOR of the bytes at :data:`UM34C_XOR_OFFSETS`."""
    value = 0
    for offset in UM34C_XOR_OFFSETS:
        value ^= reply[offset]
    return value


def model_of(reply: bytes) -> UmModel:
    """The model a reply's first two bytes name; :class:`BadMagicError` for any other id."""
    if len(reply) < 2:
        raise ShortPacketError(f"reply has {len(reply)} bytes, expected {REPLY_LEN}")
    model = BY_ID.get(int.from_bytes(reply[:2], "big"))
    if model is None:
        # The id is not quoted: error texts never carry bytes from the device.
        raise BadMagicError("the reply does not start with a UM24C/UM25C/UM34C model id")
    return model


def check_reply(reply: bytes) -> UmModel:
    """The reply's model, or the right :class:`ProtocolError` when it is not a valid reply."""
    if len(reply) < REPLY_LEN:
        raise ShortPacketError(f"reply has {len(reply)} bytes, expected {REPLY_LEN}")
    model = model_of(reply)
    if model.xor_check:
        if reply[REPLY_LEN - 1] != um34c_check(reply):
            raise ChecksumError(f"{model.product} reply check byte mismatch")
    elif reply[_END_AT:REPLY_LEN] != END_MARKER:
        raise ChecksumError(f"{model.product} reply does not end with FF F1")
    return model


# -- decoding --------------------------------------------------------------------------------
def decode_reply(data: bytes, expected: UmModel | None = None) -> Reading:
    """Decode one 130-byte reply (extra bytes ignored), checking its id and end/check bytes.

    With ``expected``, a reply from another model is a :class:`BadMagicError`.
    """
    reply = bytes(data[:REPLY_LEN])
    model = check_reply(reply)
    if expected is not None and model is not expected:
        raise BadMagicError(f"expected a {expected.product}, the reply is a {model.product}'s")
    _, v, i, p, temp_c, temp_f, group = _HEAD.unpack_from(reply, 0)
    flat = _GROUPS.unpack_from(reply, _GROUPS_AT)
    groups = tuple((flat[2 * g], flat[2 * g + 1]) for g in range(UM_GROUP_COUNT))
    (dp, dm, mode, thr_mah, thr_mwh, thr_a, rec_s, rec, timeout, bright, r, screen) = (
        _TAIL.unpack_from(reply, _TAIL_AT)
    )
    return Reading(
        product=model.product,
        firmware="",
        serial=0,
        runs=0,
        voltage=round(v * model.voltage_step, model.voltage_decimals),
        current=round(i * model.current_step, model.current_decimals),
        power=p / 1000,
        resistance=r / 10,
        group0_mah=groups[0][0],
        group0_mwh=groups[0][1],
        group1_mah=groups[1][0],
        group1_mwh=groups[1][1],
        temperature=temp_c,
        d_plus=dp / 100,
        d_minus=dm / 100,
        um=UmFields(
            model_id=model.model_id,
            groups=groups,
            selected_group=group,
            temperature_f=temp_f,
            charging_mode=mode,
            threshold_mah=thr_mah,
            threshold_mwh=thr_mwh,
            threshold_current=thr_a / 100,
            recording_s=rec_s,
            recording_active=bool(rec),
            screen_timeout_min=timeout,
            screen_brightness=bright,
            screen_index=screen,
        ),
    )


def find_reply(stream: bytes, expected: UmModel | None = None) -> tuple[Reading | None, int]:
    """Re-synchronise on a byte stream: the first valid reply, found by its model id.

    Returns ``(reading, end)`` with ``end`` just past the reply, or ``(None, skip)`` where
    ``skip`` bytes can be discarded because no reply can start in them.
    """
    ids = [expected.model_id] if expected is not None else list(BY_ID)
    last_start = len(stream) - REPLY_LEN
    for start in range(max(last_start + 1, 0)):
        if int.from_bytes(stream[start : start + 2], "big") not in ids:
            continue
        try:
            reading = decode_reply(stream[start : start + REPLY_LEN], expected)
        except ProtocolError:
            continue
        return reading, start + REPLY_LEN
    return None, max(last_start + 1, 0)


# -- encoding (the emulator's side) ----------------------------------------------------------
def _raw(name: str, value: float, step: float, bits: int) -> int:
    raw = round(value / step)
    if not 0 <= raw < 2**bits:
        raise ValueError(f"{name}={value} does not fit the reply's {bits}-bit field")
    return raw


def encode_reply(reading: Reading, model: UmModel) -> bytes:
    """Lay a reading out as the 130 bytes ``model`` would send (``reading.um`` required)."""
    um = reading.um
    if um is None:
        raise ValueError("a UM reply needs the reading's UM fields (reading.um)")
    if len(um.groups) != UM_GROUP_COUNT:
        raise ValueError(f"a UM reply has {UM_GROUP_COUNT} data groups, got {len(um.groups)}")
    head = _HEAD.pack(
        model.model_id,
        _raw("voltage", reading.voltage, model.voltage_step, 16),
        _raw("current", reading.current, model.current_step, 16),
        _raw("power", reading.power, 0.001, 32),
        _raw("temperature", reading.temperature, 1, 16),
        _raw("temperature_f", um.temperature_f, 1, 16),
        _raw("selected_group", um.selected_group, 1, 16),
    )
    groups = _GROUPS.pack(
        *(_raw(f"group{g}", value, 1, 32) for g, pair in enumerate(um.groups) for value in pair)
    )
    tail = _TAIL.pack(
        _raw("d_plus", reading.d_plus, 0.01, 16),
        _raw("d_minus", reading.d_minus, 0.01, 16),
        _raw("charging_mode", um.charging_mode, 1, 16),
        _raw("threshold_mah", um.threshold_mah, 1, 32),
        _raw("threshold_mwh", um.threshold_mwh, 1, 32),
        _raw("threshold_current", um.threshold_current, 0.01, 16),
        _raw("recording_s", um.recording_s, 1, 32),
        1 if um.recording_active else 0,
        _raw("screen_timeout_min", um.screen_timeout_min, 1, 16),
        _raw("screen_brightness", um.screen_brightness, 1, 16),
        _raw("resistance", reading.resistance, 0.1, 32),
        _raw("screen_index", um.screen_index, 1, 16),
    )
    body = head + groups + tail
    if model.xor_check:
        body += b"\x00"
        return body + bytes([um34c_check(body + b"\x00")])
    return body + END_MARKER
