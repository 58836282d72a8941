"""The virtual meter's command handling, over bytes, with a hand-driven clock."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tc66c_server import protocol
from tc66c_server.emulator.device import MAX_RECORDS, PAGE_COUNT, Reply, VirtualMeter
from tc66c_server.emulator.signal import BenchSession


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: float = 5000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def meter(clock: FakeClock) -> VirtualMeter:
    return VirtualMeter(BenchSession(seed=4), clock)


TERMINATORS = [b"", b"\r\n", b"\n", b"\r"]


@pytest.mark.parametrize("end", TERMINATORS)
def test_getva_answers_with_the_encrypted_reading_of_now(
    meter: VirtualMeter, clock: FakeClock, end: bytes
) -> None:
    clock.now += 70.0
    [reply] = meter.feed(b"getva" + end)
    assert reply.command == "getva"
    assert len(reply.data) == protocol.PACKET_LEN
    assert protocol.decode_packet(reply.data) == meter.session.reading_at(70.0)
    assert meter.last_reading == meter.session.reading_at(70.0)


@pytest.mark.parametrize("end", TERMINATORS)
def test_query_answers_firm(meter: VirtualMeter, end: bytes) -> None:
    assert meter.feed(b"query" + end) == [Reply("query", b"firm")]


@given(cuts=st.lists(st.integers(min_value=0, max_value=7), max_size=4))
def test_command_split_across_writes_is_recognised(cuts: list[int]) -> None:
    meter = VirtualMeter(BenchSession(seed=4), FakeClock())
    stream = b"query\r\n"
    bounds = [0, *sorted(cuts), len(stream)]
    replies = []
    for start, end in itertools.pairwise(bounds):
        replies += meter.feed(stream[start:end])
    assert replies == [Reply("query", b"firm")]


def test_garbage_before_a_command_is_skipped_and_counted(meter: VirtualMeter) -> None:
    assert meter.feed(b"\x00\xffzzgetvquery") == [Reply("query", b"firm")]
    assert meter.ignored_bytes == len(b"\x00\xffzzgetv")


def test_back_to_back_commands_in_one_write_each_get_their_reply(meter: VirtualMeter) -> None:
    replies = meter.feed(b"getvaquery\r\ngetva")
    assert [r.command for r in replies] == ["getva", "query", "getva"]


def test_unknown_command_gets_no_reply_and_is_not_counted(meter: VirtualMeter) -> None:
    assert meter.feed(b"hello\r\nbogus") == []
    assert sum(meter.commands.values()) == 0


def test_page_commands_change_the_page_silently_and_wrap(meter: VirtualMeter) -> None:
    assert meter.feed(b"nextp") == []
    assert meter.screen_page == 1
    assert meter.feed(b"lastplastp") == []
    assert meter.screen_page == PAGE_COUNT - 1
    meter.feed(b"nextp")
    assert meter.screen_page == 0


def test_rotat_cycles_through_four_orientations(meter: VirtualMeter) -> None:
    rotations = []
    for _ in range(5):
        assert meter.feed(b"rotat\r\n") == []
        rotations.append(meter.rotation)
    assert rotations == [1, 2, 3, 0, 1]


def test_commands_acted_on_are_counted_by_name(meter: VirtualMeter) -> None:
    meter.feed(b"getvagetvanextpquery")
    assert meter.commands == {"getva": 2, "nextp": 1, "query": 1}


def test_bootloader_answers_boot_and_update_only(clock: FakeClock) -> None:
    meter = VirtualMeter(BenchSession(seed=4), clock, bootloader=True)
    assert meter.feed(b"query") == [Reply("query", b"boot")]
    assert meter.feed(b"getva\r\ngtrec\r\nnextp") == []
    assert meter.screen_page == 0
    assert meter.feed(b"update\r\n") == [Reply("update", b"uprdy")]


def test_update_is_ignored_by_the_normal_firmware(meter: VirtualMeter) -> None:
    assert meter.feed(b"update") == []


def test_gtrec_returns_one_point_per_interval_since_start(
    clock: FakeClock,
) -> None:
    meter = VirtualMeter(BenchSession(seed=4), clock, record_interval_s=2.0)
    clock.now += 21.0
    [reply] = meter.feed(b"gtrec")
    recording = protocol.decode_recording(reply.data)
    assert recording.trailing_bytes == 0
    assert len(recording.points) == 11  # t = 0, 2, ..., 20
    expected = meter.session.reading_at(14.0)
    assert recording.points[7] == protocol.RecordPoint(expected.voltage, expected.current)


def test_gtrec_keeps_only_the_last_1440_points(meter: VirtualMeter, clock: FakeClock) -> None:
    clock.now += MAX_RECORDS + 99.5
    [reply] = meter.feed(b"gtrec")
    points = protocol.decode_recording(reply.data).points
    assert len(points) == MAX_RECORDS
    newest = meter.session.reading_at(MAX_RECORDS + 99.0)
    assert points[-1] == protocol.RecordPoint(newest.voltage, newest.current)


def test_non_positive_record_interval_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="record_interval_s"):
        VirtualMeter(BenchSession(), clock, record_interval_s=0)
