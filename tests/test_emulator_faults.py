"""Fault injection on getva replies: what each kind does to the bytes, queueing and rate."""

from __future__ import annotations

import random

import pytest

from tc66c_server import protocol
from tc66c_server.emulator.faults import (
    RANDOM_KINDS,
    FaultInjector,
    FaultKind,
    corrupt,
)
from tc66c_server.emulator.signal import BenchSession

REPLY = protocol.encode_packet(BenchSession(seed=2).reading_at(42.0))


@pytest.mark.parametrize("seed", range(20))
def test_flip_changes_exactly_one_byte_and_breaks_the_packet(seed: int) -> None:
    data = corrupt(FaultKind.FLIP, REPLY, random.Random(seed))
    assert len(data) == len(REPLY)
    assert sum(a != b for a, b in zip(data, REPLY, strict=True)) == 1
    with pytest.raises((protocol.ChecksumError, protocol.BadMagicError)):
        protocol.decode_packet(data)


def test_truncate_sends_a_strict_prefix() -> None:
    data = corrupt(FaultKind.TRUNCATE, REPLY, random.Random(1))
    assert 0 < len(data) < len(REPLY)
    assert REPLY.startswith(data)


def test_random_sends_192_bytes_that_do_not_decode() -> None:
    data = corrupt(FaultKind.RANDOM, REPLY, random.Random(1))
    assert len(data) == protocol.PACKET_LEN
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_packet(data)


def test_extra_appends_garbage_after_an_intact_reply() -> None:
    data = corrupt(FaultKind.EXTRA, REPLY, random.Random(1))
    assert data.startswith(REPLY) and len(data) > len(REPLY)


@pytest.mark.parametrize("kind", [FaultKind.SILENCE, FaultKind.UNPLUG])
def test_silence_and_unplug_send_nothing(kind: FaultKind) -> None:
    assert corrupt(kind, REPLY, random.Random(1)) == b""


def test_queued_faults_hit_the_next_replies_in_order_then_stop() -> None:
    faults = FaultInjector()
    faults.inject(FaultKind.SILENCE, count=2)
    faults.inject(FaultKind.EXTRA)
    kinds = [faults.apply(REPLY)[0] for _ in range(4)]
    assert kinds == [FaultKind.SILENCE, FaultKind.SILENCE, FaultKind.EXTRA, None]
    assert faults.apply(REPLY) == (None, REPLY)
    assert faults.pending == 0


def test_applied_faults_are_counted_per_kind() -> None:
    faults = FaultInjector()
    faults.inject(FaultKind.FLIP, count=3)
    faults.inject(FaultKind.UNPLUG)
    for _ in range(5):
        faults.apply(REPLY)
    applied = faults.applied
    assert applied[FaultKind.FLIP] == 3
    assert applied[FaultKind.UNPLUG] == 1
    assert sum(applied.values()) == 4


def test_fault_rate_is_reproducible_from_the_seed_and_never_unplugs() -> None:
    def run(seed: int) -> list[FaultKind | None]:
        faults = FaultInjector(seed=seed, fault_rate=0.3)
        return [faults.apply(REPLY)[0] for _ in range(300)]

    first = run(9)
    assert first == run(9)
    assert first != run(10)
    struck = [kind for kind in first if kind is not None]
    assert 45 <= len(struck) <= 135
    assert set(struck) <= set(RANDOM_KINDS)


def test_zero_fault_rate_leaves_every_reply_intact() -> None:
    faults = FaultInjector(seed=1, fault_rate=0.0)
    assert all(faults.apply(REPLY) == (None, REPLY) for _ in range(100))


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_fault_rate_outside_0_1_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="fault_rate"):
        FaultInjector(fault_rate=rate)


def test_injecting_zero_faults_is_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        FaultInjector().inject(FaultKind.FLIP, count=0)
