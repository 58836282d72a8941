"""UM24C/UM25C/UM34C decoding against vectors laid out by hand from docs/protocol.md section 5."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tc66c_server import um_protocol as um
from tc66c_server.protocol import BadMagicError, ChecksumError, ShortPacketError
from tc66c_server.reading import Reading, UmFields

XOR_OFFSETS = (1, 3, 7, 9, 15, 17, 19, 23, 31, 39, 41, 45, 49, 53, 55, 57, 59, 63, 67, 69, 73)
XOR_OFFSETS += (79, 83, 89, 97, 99, 109, 111, 113, 119, 121, 127)


def fact_sheet_reply(model_id: int, v_raw: int, i_raw: int, *, xor: bool = False) -> bytes:
    """A reply built field by field at the fact sheet's offsets (not with the module's code)."""
    buf = bytearray(130)

    def put(offset: int, size: int, value: int) -> None:
        buf[offset : offset + size] = value.to_bytes(size, "big")

    put(0, 2, model_id)
    put(2, 2, v_raw)
    put(4, 2, i_raw)
    put(6, 4, 10_235)  # 10.235 W
    put(10, 2, 31)  # degrees C
    put(12, 2, 88)  # degrees F
    put(14, 2, 9)  # selected group
    for g in range(10):
        put(16 + 8 * g, 4, 100 + g)  # mAh
        put(20 + 8 * g, 4, 1000 + g)  # mWh
    put(96, 2, 61)  # D+ 0.61 V
    put(98, 2, 245)  # D- 2.45 V
    put(100, 2, 2)  # QC3.0
    put(102, 4, 1234)
    put(106, 4, 5678)
    put(110, 2, 15)  # 0.15 A
    put(112, 4, 3600)
    put(116, 2, 1)
    put(118, 2, 3)
    put(120, 2, 4)
    put(122, 4, 47)  # 4.7 Ohm
    put(126, 2, 2)
    if xor:
        check = 0
        for offset in XOR_OFFSETS:
            check ^= buf[offset]
        buf[129] = check
    else:
        buf[128:130] = b"\xff\xf1"
    return bytes(buf)


def test_um24c_reply_decodes_at_10mv_and_1ma_steps() -> None:
    reading = um.decode_reply(fact_sheet_reply(0x0963, 512, 2013))
    assert reading.product == "UM24C"
    assert reading.voltage == 5.12
    assert reading.current == 2.013
    assert reading.power == 10.235
    assert reading.resistance == 4.7
    assert (reading.temperature, reading.d_plus, reading.d_minus) == (31, 0.61, 2.45)


def test_um25c_reply_keeps_its_finer_1mv_and_0_1ma_resolution() -> None:
    reading = um.decode_reply(fact_sheet_reply(0x09C9, 5123, 20137))
    assert reading.product == "UM25C"
    assert reading.voltage == 5.123
    assert reading.current == 2.0137


def test_um34c_reply_with_a_valid_xor_check_decodes() -> None:
    reading = um.decode_reply(fact_sheet_reply(0x0D4C, 2001, 3000, xor=True))
    assert reading.product == "UM34C"
    assert (reading.voltage, reading.current) == (20.01, 3.0)


def test_every_um_field_is_decoded() -> None:
    reading = um.decode_reply(fact_sheet_reply(0x09C9, 5000, 10000))
    assert reading.um == UmFields(
        model_id=0x09C9,
        groups=tuple((100 + g, 1000 + g) for g in range(10)),
        selected_group=9,
        temperature_f=88,
        charging_mode=2,
        threshold_mah=1234,
        threshold_mwh=5678,
        threshold_current=0.15,
        recording_s=3600,
        recording_active=True,
        screen_timeout_min=3,
        screen_brightness=4,
        screen_index=2,
    )
    assert (reading.group0_mah, reading.group0_mwh) == (100, 1000)
    assert (reading.group1_mah, reading.group1_mwh) == (101, 1001)
    assert reading.um.charging_mode_name == "QC3.0"


def test_group_9_is_read_from_the_last_group_slot() -> None:
    data = bytearray(fact_sheet_reply(0x09C9, 5000, 10000))
    data[88:96] = (4_000_000_000).to_bytes(4, "big") + (123_456).to_bytes(4, "big")
    reading = um.decode_reply(bytes(data))
    assert reading.um is not None
    assert reading.um.groups[9] == (4_000_000_000, 123_456)
    assert reading.as_dict()["group9_mah"] == 4_000_000_000


def test_flat_dict_has_every_group_and_names_the_charging_mode() -> None:
    flat = um.decode_reply(fact_sheet_reply(0x0963, 500, 100)).as_dict()
    for g in range(10):
        assert flat[f"group{g}_mah"] == 100 + g
    assert flat["charging_mode"] == "QC3.0"
    assert "um" not in flat


def test_unknown_charging_mode_code_is_kept_in_words() -> None:
    data = bytearray(fact_sheet_reply(0x0963, 500, 100))
    data[100:102] = (42).to_bytes(2, "big")
    reading = um.decode_reply(bytes(data))
    assert reading.um is not None and reading.um.charging_mode_name == "code 42"


def test_um34c_reply_with_a_bad_check_byte_is_refused() -> None:
    data = bytearray(fact_sheet_reply(0x0D4C, 2001, 3000, xor=True))
    data[3] ^= 0x01  # an offset the check covers
    with pytest.raises(ChecksumError):
        um.decode_reply(bytes(data))


def test_um25c_reply_without_its_end_marker_is_refused() -> None:
    data = bytearray(fact_sheet_reply(0x09C9, 5000, 100))
    data[129] = 0xF2
    with pytest.raises(ChecksumError):
        um.decode_reply(bytes(data))


def test_unknown_model_id_and_short_reply_are_refused() -> None:
    with pytest.raises(BadMagicError):
        um.decode_reply(b"\x12\x34" + fact_sheet_reply(0x09C9, 1, 1)[2:])
    with pytest.raises(ShortPacketError):
        um.decode_reply(fact_sheet_reply(0x09C9, 1, 1)[:129])


def test_a_reply_from_another_model_than_expected_is_refused() -> None:
    with pytest.raises(BadMagicError):
        um.decode_reply(fact_sheet_reply(0x0963, 1, 1), um.UM25C)


def test_misaligned_stream_resynchronises_on_the_model_id() -> None:
    reply = fact_sheet_reply(0x09C9, 5123, 20137)
    # A stray model id in the garbage must not fool the decoder: the end marker decides.
    stream = b"\x00\x09\xc9\x13" + reply[40:] + b"\x09\xc9\x01" + reply + reply[:50]
    reading, end = um.find_reply(stream)
    assert reading is not None and reading.voltage == 5.123
    assert stream[end - 130 : end] == reply


def test_stream_without_a_whole_reply_says_how_much_to_drop() -> None:
    reply = fact_sheet_reply(0x0963, 500, 100)
    reading, skip = um.find_reply(b"\x55" * 10 + reply[:100])
    assert reading is None
    assert skip == 0  # 110 bytes: a reply could still start at any of them
    reading, skip = um.find_reply(b"\x55" * 200)
    assert reading is None and skip == 71


def test_commands_are_the_documented_single_bytes() -> None:
    assert um.REQUEST_DATA == b"\xf0"
    assert (um.NEXT_SCREEN, um.ROTATE, um.PREVIOUS_SCREEN, um.CLEAR_GROUP) == (
        b"\xf1",
        b"\xf2",
        b"\xf3",
        b"\xf4",
    )
    assert um.select_group(0) == b"\xa0" and um.select_group(9) == b"\xa9"
    assert um.set_threshold(0.15) == b"\xbf"
    assert um.set_threshold(0.31) == b"\xcf"
    assert um.set_brightness(5) == b"\xd5"
    assert um.set_screen_timeout(9) == b"\xe9"


@pytest.mark.parametrize(
    "make",
    [
        lambda: um.select_group(10),
        lambda: um.select_group(-1),
        lambda: um.set_threshold(0.32),
        lambda: um.set_threshold(0.155),
        lambda: um.set_brightness(6),
        lambda: um.set_screen_timeout(10),
    ],
)
def test_out_of_range_command_arguments_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def _um_reading(model: um.UmModel, v_raw: int, i_raw: int, groups: list[int]) -> Reading:
    pairs = tuple((groups[2 * g], groups[2 * g + 1]) for g in range(10))
    return Reading(
        product=model.product,
        firmware="",
        serial=0,
        runs=0,
        voltage=round(v_raw * model.voltage_step, model.voltage_decimals),
        current=round(i_raw * model.current_step, model.current_decimals),
        power=1.234,
        resistance=12.5,
        group0_mah=pairs[0][0],
        group0_mwh=pairs[0][1],
        group1_mah=pairs[1][0],
        group1_mwh=pairs[1][1],
        temperature=25,
        d_plus=0.5,
        d_minus=0.6,
        um=UmFields(0, pairs, 3, 77, 1, 5, 6, 0.3, 60, False, 1, 2, 0),
    )


@given(
    model=st.sampled_from(list(um.MODELS.values())),
    v_raw=st.integers(0, 0xFFFF),
    i_raw=st.integers(0, 0xFFFF),
    groups=st.lists(st.integers(0, 2**32 - 1), min_size=20, max_size=20),
)
def test_encode_then_decode_gives_the_reading_back(
    model: um.UmModel, v_raw: int, i_raw: int, groups: list[int]
) -> None:
    reading = _um_reading(model, v_raw, i_raw, groups)
    decoded = um.decode_reply(um.encode_reply(reading, model))
    assert decoded.um is not None and reading.um is not None
    assert decoded.voltage == reading.voltage and decoded.current == reading.current
    assert decoded.um.groups == reading.um.groups
    assert decoded.um.threshold_current == 0.3


def test_encoder_matches_the_fact_sheet_layout() -> None:
    for model_id, xor in ((0x0963, False), (0x09C9, False), (0x0D4C, True)):
        expected = fact_sheet_reply(model_id, 777, 888, xor=xor)
        assert um.encode_reply(um.decode_reply(expected), um.BY_ID[model_id]) == expected
