"""What a scenario reports: the checks it made, and the few numbers the report shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Check:
    """One expectation of the issue, met or not, with what was seen."""

    name: str
    ok: bool
    seen: str = ""


@dataclass
class Outcome:
    """The result of one scenario run.

    ``faults`` counts the faults injected (bad replies, unplugs, kills, corruptions, full
    disks, signals), ``bad_inputs`` the hostile or malformed requests tried, and
    ``samples_lost`` the intact readings the meter sent that the store does not have
    (None where the scenario does not measure it).
    """

    scenario: str
    done: str
    checks: list[Check] = field(default_factory=list)
    faults: int = 0
    bad_inputs: int = 0
    samples_lost: int | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    seconds: float = 0.0

    def check(self, name: str, ok: bool, seen: object = "") -> bool:
        """Record one expectation; returns ``ok`` so callers can branch on it."""
        self.checks.append(Check(name, bool(ok), str(seen)))
        return bool(ok)

    def fail(self, name: str, seen: object) -> None:
        """Record an expectation that could not even be tried (a crash, a timeout)."""
        self.check(name, False, seen)

    @property
    def ok(self) -> bool:
        """True when nothing failed (a skipped scenario is not ok, but not failed either)."""
        return self.skipped is None and all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[str]:
        """One line per failed check: what was expected and what was seen."""
        return [f"{c.name}: {c.seen}" if c.seen else c.name for c in self.checks if not c.ok]

    @property
    def verdict(self) -> str:
        """``passed``, ``skipped: why`` or ``FAILED n of m checks``."""
        if self.skipped is not None:
            return f"skipped: {self.skipped}"
        failed = sum(not c.ok for c in self.checks)
        if failed:
            return f"FAILED {failed} of {len(self.checks)} checks"
        return f"passed ({len(self.checks)} checks)"

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        out = asdict(self)
        out["ok"] = self.ok
        return out
