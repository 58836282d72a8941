"""The live hub: fan-out to subscribers, and a slow subscriber never blocks the publisher."""

from __future__ import annotations

import asyncio
import threading
import time

from tc66c_server.hub import CLOSED, QUEUE_SIZE, Event, Hub


def test_every_subscriber_gets_every_event() -> None:
    async def scenario() -> list[list[bytes]]:
        hub = Hub()
        hub.bind(asyncio.get_running_loop())
        queues = [hub.open_queue() for _ in range(3)]
        for k in range(5):
            hub.publish(Event("sample", str(k).encode()))
        await asyncio.sleep(0.05)
        return [[q.get_nowait().data for _ in range(q.qsize())] for q in queues]

    received = asyncio.run(scenario())
    assert received == [[b"0", b"1", b"2", b"3", b"4"]] * 3


def test_a_slow_subscriber_loses_its_oldest_events_and_never_blocks() -> None:
    async def scenario() -> tuple[int, float, bytes, int]:
        hub = Hub()
        hub.bind(asyncio.get_running_loop())
        queue = hub.open_queue()  # never read while publishing
        done = threading.Event()
        elapsed: list[float] = []

        def producer() -> None:
            start = time.perf_counter()
            for k in range(QUEUE_SIZE * 4):
                hub.publish(Event("sample", str(k).encode()))
            elapsed.append(time.perf_counter() - start)
            done.set()

        thread = threading.Thread(target=producer)
        thread.start()
        while not done.is_set():
            await asyncio.sleep(0.01)
        thread.join()
        await asyncio.sleep(0.05)
        return queue.qsize(), elapsed[0], queue.get_nowait().data, hub.dropped

    size, elapsed_s, first, dropped = asyncio.run(scenario())
    assert size == QUEUE_SIZE
    assert first == str(QUEUE_SIZE * 3).encode()  # the newest QUEUE_SIZE events are kept
    assert dropped == QUEUE_SIZE * 3
    assert elapsed_s < 1.0


def test_publish_without_a_loop_or_subscribers_is_a_no_op() -> None:
    hub = Hub()
    hub.publish(Event("sample", b"{}"))
    assert hub.subscriber_count == 0


def test_closing_ends_every_stream_even_a_full_one_and_later_ones_at_once() -> None:
    async def scenario() -> tuple[list[Event], list[Event], Event, int]:
        hub = Hub()
        hub.bind(asyncio.get_running_loop())
        idle, full = hub.open_queue(), hub.open_queue()
        for k in range(QUEUE_SIZE):
            full.put_nowait(Event("sample", str(k).encode()))
        hub.close()
        hub.publish(Event("sample", b"after"))  # nothing is delivered once closed
        await asyncio.sleep(0.05)
        late = hub.open_queue()
        tails = [[q.get_nowait() for _ in range(q.qsize())] for q in (idle, full)]
        return tails[0], tails[1], late.get_nowait(), hub.subscriber_count

    idle, full, late, subscribers = asyncio.run(scenario())
    assert idle == [CLOSED]
    assert full[-1] is CLOSED and len(full) == QUEUE_SIZE
    assert late is CLOSED
    assert subscribers == 0
