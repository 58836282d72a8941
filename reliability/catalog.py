"""Every scenario of the suite, in the order the report shows them, and how one is run."""

from __future__ import annotations

import functools
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import acquisition, browser, load, schema, sse_cap, stops, storage, web
from .outcome import Outcome


@dataclass(frozen=True)
class Scenario:
    """A scenario's short key (for ``--only``) and its function of a work directory."""

    key: str
    run: Callable[[Path], Outcome]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("soak", acquisition.fault_soak),
    Scenario("replug", acquisition.replug),
    Scenario("kill9", acquisition.kill_tree),
    *(
        Scenario(f"corrupt-{how}", functools.partial(storage.corrupt_database, how=how))
        for how in storage.DAMAGES
    ),
    Scenario("disk-full", storage.disk_full),
    *(
        Scenario(
            f"stop-{signame.lower()}-{'group' if group else 'server'}",
            functools.partial(stops.stop, signame=signame, group=group),
        )
        for signame in stops.SIGNALS
        for group in (False, True)
    ),
    Scenario("web", web.hostile_requests),
    Scenario("sse-cap", sse_cap.sse_cap),
    Scenario("browser", browser.cross_origin_page),
    Scenario("schemathesis", schema.schema_fuzz),
    Scenario("load", load.load),
)


def select(only: str | None) -> list[Scenario]:
    """The scenarios whose key starts with one of the comma-separated prefixes (all: None)."""
    if not only:
        return list(SCENARIOS)
    prefixes = [p.strip() for p in only.split(",") if p.strip()]
    chosen = [s for s in SCENARIOS if any(s.key.startswith(p) for p in prefixes)]
    if not chosen:
        keys = ", ".join(s.key for s in SCENARIOS)
        raise ValueError(f"no scenario matches {only!r}; the keys are {keys}")
    return chosen


def run(scenario: Scenario) -> Outcome:
    """Run one scenario in a fresh directory; a crash becomes a failed outcome."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"tc66c-reliability-{scenario.key}-") as tmp:
        try:
            outcome = scenario.run(Path(tmp))
        except Exception as exc:
            outcome = Outcome(scenario.key, "(crashed before it could say)")
            last = traceback.format_exception_only(exc)[-1].strip()
            outcome.fail("the scenario runs to its end", last)
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome
