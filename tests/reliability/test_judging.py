"""The suite's own judgement, without processes: log parsing, matching, outcomes, the report.

Fast, so not marked ``reliability``: a wrong verdict here would make every scenario lie.
"""

from __future__ import annotations

import json
import math
import socket
import threading

import pytest

from reliability.catalog import SCENARIOS, select
from reliability.outcome import Outcome
from reliability.rawhttp import send_raw
from reliability.report import render_markdown, totals
from reliability.served import KEYS, Served, Stored, compare, parse_log, values_of
from tc66c_server.emulator import BenchSession

READINGS = [BenchSession(3).reading_at(float(t)) for t in range(10)]
VALUES = [values_of(r.as_dict()) for r in READINGS]


def served(t: float, k: int, fault: str | None = None, complete: bool = True) -> Served:
    return Served(t, fault, complete, VALUES[k])


def test_log_lines_become_replies_and_events_and_a_cut_line_is_ignored() -> None:
    reading = READINGS[0].as_dict()
    lines = [
        json.dumps({"t": 1.0, "event": "plug", "pts": "/dev/pts/3"}),
        json.dumps({"t": 2.0, "event": "reply", "command": "query", "fault": None,
                    "complete": True, "reading": None}),
        json.dumps({"t": 3.0, "event": "reply", "command": "getva", "fault": "flip",
                    "complete": True, "reading": reading}),
        json.dumps({"t": 4.0, "event": "unplug"}),
        '{"t": 5.0, "event": "rep',
    ]  # fmt: skip
    log = parse_log(lines)
    assert log.events == [(1.0, "plug"), (4.0, "unplug")]
    assert log.replies == [Served(3.0, "flip", True, VALUES[0])]
    assert log.intact == [] and len(log.faulty) == 1
    assert log.times("unplug") == [4.0]


def test_values_cover_every_quantity_and_ignore_float_noise() -> None:
    point = {key: getattr(READINGS[1], key) + 1e-9 for key in KEYS}
    assert values_of(point) == VALUES[1]
    assert len(VALUES[1]) == len(KEYS) == 11


def test_each_stored_sample_matches_one_intact_reply_sent_close_to_it() -> None:
    replies = [served(10.0, 0), served(10.25, 1), served(10.5, 2, fault="flip"), served(10.75, 3)]
    stored = [Stored(10.01, VALUES[0]), Stored(10.26, VALUES[1]), Stored(10.76, VALUES[3])]
    result = compare(replies, stored)
    assert (result.matched, result.bad, result.lost, result.excused) == (3, [], [], [])


def test_a_sample_no_intact_reply_said_is_bad_even_if_a_faulty_one_did() -> None:
    replies = [served(10.0, 0), served(10.25, 1, fault="flip")]
    stored = [Stored(10.0, VALUES[0]), Stored(10.26, VALUES[1]), Stored(10.5, VALUES[4])]
    result = compare(replies, stored)
    assert result.bad == [Stored(10.26, VALUES[1]), Stored(10.5, VALUES[4])]


def test_a_match_must_be_close_in_time_and_is_used_once() -> None:
    replies = [served(10.0, 0)]
    stored = [Stored(10.0, VALUES[0]), Stored(10.1, VALUES[0]), Stored(20.0, VALUES[0])]
    result = compare(replies, stored)
    assert result.matched == 1 and len(result.bad) == 2


def test_an_unstored_intact_reply_is_lost_unless_in_an_excused_window() -> None:
    replies = [served(10.0, 0), served(11.0, 1), served(12.0, 2), served(12.1, 3, complete=False)]
    result = compare(replies, [], excused=[(11.5, math.inf)])
    assert result.lost == [replies[0], replies[1]]
    assert result.excused == [replies[2]]  # the incomplete one was never owed


def test_an_outcome_fails_on_any_failed_check_and_lists_it() -> None:
    outcome = Outcome("x", "did x")
    assert outcome.check("a", True) and outcome.ok
    outcome.check("b", False, "saw 3")
    outcome.fail("c", "crashed")
    assert not outcome.ok
    assert outcome.problems == ["b: saw 3", "c: crashed"]
    assert outcome.verdict == "FAILED 2 of 3 checks"
    assert outcome.as_dict()["ok"] is False


def test_a_skipped_outcome_is_neither_ok_nor_failed_in_the_totals() -> None:
    skipped = Outcome("disk", "d", skipped="no mount")
    passed = Outcome("soak", "s", faults=12, samples_lost=0)
    failed = Outcome("kill", "k", faults=1, bad_inputs=3, samples_lost=4)
    failed.check("kept", False)
    t = totals([skipped, passed, failed])
    assert (t["passed"], t["failed"], t["skipped"]) == (1, 1, 1)
    assert (t["faults"], t["faults_survived"], t["samples_lost"]) == (13, 12, 4)


def test_the_report_has_one_row_per_scenario_and_lists_failed_checks() -> None:
    failed = Outcome("web | hostile", "sent 3 bad requests", bad_inputs=3)
    failed.check("end=nan", False, "status 500\nwith a trace")
    page = render_markdown([failed, Outcome("soak", "s")], "a machine", "now", 12.0, "abc123")
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    assert len(rows) == 3  # header + two scenarios
    assert "web \\| hostile" in rows[1] and "FAILED 1 of 1 checks" in rows[1]
    assert "- **web \\| hostile**: end=nan: status 500 with a trace" in page


def test_scenarios_are_chosen_by_key_prefix_and_an_unknown_one_is_refused() -> None:
    assert [s.key for s in select("stop-sigint")] == ["stop-sigint-server", "stop-sigint-group"]
    assert len(select(None)) == len(SCENARIOS) == 17
    with pytest.raises(ValueError, match="no scenario matches"):
        select("nothing")


def _refusing_server(answer: bytes) -> tuple[socket.socket, threading.Thread]:
    """A server that reads only the request head, answers at once and closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(1024)
            conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_refusal_sent_before_the_body_is_read_is_seen_not_a_broken_pipe(chunked: bool) -> None:
    body = b'{"error":{"status":413}}'
    answer = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    listener, thread = _refusing_server(answer)
    port = listener.getsockname()[1]
    big = (b"x" * 2**20 for _ in range(20)) if chunked else b"x" * (20 * 2**20)
    try:
        response = send_raw(port, "POST", "/api/config", {"Content-Type": "application/json"}, big)
    finally:
        thread.join(5)
        listener.close()
    assert response.status_code == 413
    assert response.json() == {"error": {"status": 413}}
