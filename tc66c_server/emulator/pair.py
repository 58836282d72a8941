"""Two virtual TC66Cs on one bench: a meter on the input of a converter (or cable), one on
its output, each on its own pty and link with its own fault injection.

Both meters read one scene at the same instants: they share one time origin (created
together on a held :class:`PairClock`), and the output meter's reading at session time t
is the model's output for the input meter's reading at t. Each keeps a log of the readings
it served (:class:`~.source.LoggedSource`), so a test can compute the pair's true
efficiency or resistance from the values themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .converter import FollowerSession, PairModel
from .host import EmulatorHost, ServedReply
from .signal import BenchSession
from .source import LoggedSource, ReadingSource


class PairClock:
    """One time base for both meters of a pair.

    A virtual meter counts session time from the clock's value when it is created. Until
    :meth:`release` this clock returns one fixed value, ``start_s`` before the base clock's
    present, so meters created meanwhile share their origin exactly and begin ``start_s``
    seconds into their session; afterwards it is the base clock.
    """

    def __init__(self, base: Callable[[], float] = time.monotonic, start_s: float = 0.0) -> None:
        self._base = base
        #: The base clock's value at session time 0.
        self.origin = base() - start_s
        self._held: float | None = self.origin

    def __call__(self) -> float:
        held = self._held
        return self._base() if held is None else held

    def release(self) -> None:
        """Let the clock run."""
        self._held = None


class EmulatorPair:
    """An input meter and an output meter across ``model``; a context manager.

    ``input`` and ``output`` are ordinary :class:`EmulatorHost` s (unplug, replug, inject
    faults on each), ``input_log`` and ``output_log`` what each served. ``start_s`` starts
    the bench session that many seconds in (e.g. 25 s: a phone charging at 9 V).
    """

    def __init__(
        self,
        input_link: str | Path,
        output_link: str | Path,
        model: PairModel,
        *,
        seed: int = 1,
        output_seed: int | None = None,
        start_s: float = 0.0,
        reply_delay_s: float = 0.09,
        chunked: bool = True,
        input_fault_rate: float = 0.0,
        output_fault_rate: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        input_on_reply: Callable[[ServedReply], None] | None = None,
        output_on_reply: Callable[[ServedReply], None] | None = None,
    ) -> None:
        out_seed = seed + 1 if output_seed is None else output_seed
        self.model = model
        self.input_session: ReadingSource = BenchSession(seed)
        self.output_session = FollowerSession(self.input_session, model, seed=out_seed)
        self.input_log = LoggedSource(self.input_session)
        self.output_log = LoggedSource(self.output_session)
        self.clock = PairClock(clock, start_s)
        self.input = EmulatorHost(
            input_link,
            seed=seed,
            reply_delay_s=reply_delay_s,
            chunked=chunked,
            fault_rate=input_fault_rate,
            clock=self.clock,
            session=self.input_log,
            on_reply=input_on_reply,
        )
        self.output = EmulatorHost(
            output_link,
            seed=out_seed,
            reply_delay_s=reply_delay_s,
            chunked=chunked,
            fault_rate=output_fault_rate,
            clock=self.clock,
            session=self.output_log,
            on_reply=output_on_reply,
        )
        self.clock.release()

    def session_time(self, base_time: float) -> float:
        """The session time at a value of the base clock (``time.monotonic`` by default)."""
        return base_time - self.clock.origin

    def start(self) -> EmulatorPair:
        """Start serving both meters; returns self."""
        self.input.start()
        try:
            self.output.start()
        except BaseException:
            self.input.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop both meters and remove their links; safe to call twice."""
        try:
            self.output.stop()
        finally:
            self.input.stop()

    def __enter__(self) -> EmulatorPair:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
