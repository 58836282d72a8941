"""The poller's clock, on explicit times: due slots, overruns, interval changes, retry room."""

from __future__ import annotations

import pytest

from tc66c_server.cadence import Cadence


def test_polls_are_due_one_interval_apart_from_the_origin() -> None:
    cadence = Cadence(0.5, now=100.0)
    dues = []
    for _ in range(4):
        dues.append(cadence.due)
        assert cadence.completed(cadence.due + 0.01) == 0
    assert dues == [100.0, 100.5, 101.0, 101.5]


def test_an_overrun_skips_the_slots_it_covered_and_counts_them() -> None:
    cadence = Cadence(0.1, now=0.0)
    assert cadence.completed(0.35) == 3  # slots 1, 2 and 3 passed during the poll
    assert cadence.due == pytest.approx(0.4)  # no burst of catch-up polls


def test_a_late_start_that_still_ends_within_its_slot_misses_nothing() -> None:
    cadence = Cadence(1.0, now=0.0)
    cadence.completed(0.2)
    assert cadence.completed(1.99) == 0
    assert cadence.due == 2.0


def test_lowering_the_interval_mid_poll_does_not_count_the_old_slots_as_missed() -> None:
    cadence = Cadence(1.0, now=0.0)
    for _ in range(60):  # a minute at 1 s
        cadence.completed(cadence.due + 0.01)
    # Lowered while the poll due at 60.0 is under way: the poller applies it after that poll.
    assert cadence.completed(60.05) == 0
    cadence.set_interval(0.1, now=60.05)
    assert cadence.due == pytest.approx(60.1)  # one new interval after the last due poll
    assert cadence.completed(60.12) == 0


def test_lowering_the_interval_between_polls_never_leaves_a_due_time_in_the_past() -> None:
    cadence = Cadence(10.0, now=0.0)
    cadence.completed(0.01)  # next due at 10.0
    cadence.set_interval(0.1, now=6.0)  # 0.0 + 0.1 is long past
    assert cadence.due == 6.0  # poll now, not 59 slots "late"
    assert cadence.completed(6.02) == 0
    assert cadence.due == pytest.approx(6.1)


def test_raising_the_interval_moves_the_next_poll_out() -> None:
    cadence = Cadence(0.1, now=0.0)
    cadence.completed(0.01)
    cadence.set_interval(2.0, now=0.05)
    assert cadence.due == 2.0
    assert cadence.completed(2.01) == 0
    assert cadence.due == 4.0


def test_an_interval_change_before_the_first_poll_keeps_it_due_now() -> None:
    cadence = Cadence(1.0, now=5.0)
    cadence.set_interval(0.2, now=5.5)
    assert cadence.due == 5.0


def test_restart_makes_the_next_poll_due_at_once() -> None:
    cadence = Cadence(0.5, now=0.0)
    cadence.completed(0.1)
    cadence.restart(now=42.0)
    assert cadence.due == 42.0
    assert cadence.completed(42.1) == 0 and cadence.due == 42.5


def test_time_left_is_until_the_poll_after_the_one_under_way() -> None:
    cadence = Cadence(1.0, now=0.0)
    assert cadence.time_left(0.3) == pytest.approx(0.7)
    cadence.completed(0.3)
    assert cadence.time_left(1.95) == pytest.approx(0.05)


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        Cadence(0.0, now=0.0)
    with pytest.raises(ValueError, match="interval_s"):
        Cadence(1.0, now=0.0).set_interval(-1.0, now=0.0)
