"""Outcomes as a console table and as ``docs/reliability.md``."""

from __future__ import annotations

from collections.abc import Sequence

from .outcome import Outcome

HEADER = """# Reliability

Written by `./scripts/reliability.sh` (`python -m reliability`); do not edit by hand. Each
scenario starts the real server (`python api_server.py PORT ...`) and, where it needs a
meter, the emulator in a process of its own (`python -m tc66c_server.emulator --log ...`),
drives them through faults or abuse for a bounded time and checks what the issue asks
(issue 8, "A reliability suite in the repo"). Samples are judged against the emulator's own
log of the replies it sent: a stored sample that no intact reply matches is *bad*, an
intact reply with no stored sample is *lost* (replies still in flight at a cut excepted,
as each scenario says). The same scenario functions run in CI as `tests/reliability/`
(pytest marker `reliability`). Run as root, the emulator (which stands for a meter, whose
replies do not wait for the host's CPU) runs at nice -5 and the load scenario's HTTP
clients at nice 19; the server and its poller run at the default priority. The timing
checks (stops within 3 s, a sample within 2 s of a replug, no missed slot under load) need
the machine to themselves: other jobs on its 2 cores show up as missed slots first.

"""


#: Longer check messages are cut in the doc (the JSON output keeps them whole).
SEEN_CHARS = 300


def _cell(text: object, limit: int = 0) -> str:
    flat = " ".join(str(text).split()).replace("|", "\\|")
    return flat if not limit or len(flat) <= limit else flat[: limit - 1] + "…"


def _figures(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_figures(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_figures(v) for v in value) + "]"
    return str(value)


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def totals(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Scenario counts, faults injected and survived, bad inputs tried, samples lost."""
    return {
        "scenarios": len(outcomes),
        "passed": sum(o.ok for o in outcomes),
        "failed": sum(o.skipped is None and not o.ok for o in outcomes),
        "skipped": sum(o.skipped is not None for o in outcomes),
        "faults": sum(o.faults for o in outcomes),
        "faults_survived": sum(o.faults for o in outcomes if o.ok),
        "bad_inputs": sum(o.bad_inputs for o in outcomes),
        "bad_inputs_handled": sum(o.bad_inputs for o in outcomes if o.ok),
        "samples_lost": sum(o.samples_lost or 0 for o in outcomes),
    }


def render_table(outcomes: Sequence[Outcome]) -> str:
    """One line per scenario, then the failed checks."""
    lines = []
    for o in outcomes:
        lines.append(
            f"{o.scenario:<42} {o.verdict:<28} faults {o.faults:>4}  bad inputs "
            f"{o.bad_inputs:>5}  lost {_num(o.samples_lost):>3}  {o.seconds:>5.1f} s"
        )
    for o in outcomes:
        lines.extend(f"  {o.scenario}: {problem}" for problem in o.problems)
    return "\n".join(lines)


def render_markdown(
    outcomes: Sequence[Outcome], machine: str, stamp: str, elapsed_s: float, commit: str
) -> str:
    """The whole ``docs/reliability.md``."""
    t = totals(outcomes)
    out = [HEADER]
    out.append(f"- Run: {stamp}, {elapsed_s:.0f} s, commit `{commit}`\n")
    out.append(f"- Machine: {machine}\n")
    out.append(
        f"- Scenarios: {t['scenarios']}: {t['passed']} passed, {t['failed']} failed, "
        f"{t['skipped']} skipped\n"
    )
    out.append(
        f"- Faults injected: {t['faults']:,} ({t['faults_survived']:,} in scenarios that "
        f"passed); bad inputs tried: {t['bad_inputs']:,} ({t['bad_inputs_handled']:,} in "
        f"scenarios that passed); samples lost: {t['samples_lost']:,}\n"
    )
    out.append(
        "- Reproduce: `./scripts/reliability.sh` (or `python -m reliability` in the venv)\n\n"
    )
    out.append("| scenario | what was done | result | faults | bad inputs | samples lost |\n")
    out.append("|---|---|---|---|---|---|\n")
    for o in outcomes:
        out.append(
            f"| {_cell(o.scenario)} | {_cell(o.done)} | {_cell(o.verdict)} | {o.faults:,} | "
            f"{o.bad_inputs:,} | {_num(o.samples_lost)} |\n"
        )
    measured = [o for o in outcomes if o.figures]
    if measured:
        out.append("\n## Figures\n\n")
        for o in measured:
            out.append(f"- **{_cell(o.scenario)}**: {_cell(_figures(o.figures), 600)}\n")
    failed = [o for o in outcomes if o.problems]
    if failed:
        out.append("\n## Failed checks\n\n")
        for o in failed:
            for problem in o.problems:
                out.append(f"- **{_cell(o.scenario)}**: {_cell(problem, SEEN_CHARS)}\n")
    skipped = [o for o in outcomes if o.skipped is not None]
    if skipped:
        out.append("\n## Skipped\n\n")
        out.extend(f"- **{_cell(o.scenario)}**: {_cell(o.skipped)}\n" for o in skipped)
    return "".join(out)
