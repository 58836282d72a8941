"""Render figures as a console table and as docs/performance.md."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .common import Figure

HEADER = """# Performance

Measured by `python -m bench` (see README, "Benchmarks"). Every figure is measured in the
same run as its baseline, so noise on a shared machine mostly cancels out in the ratio
(ratio > 1 means ours is better). Benchmarks are not tests: CI does not run them.

The baseline, unless a row says otherwise, is `bench/baseline/`: the seed README implemented
the way its author likely would. Flask's threaded development server, a polling thread with
pyserial and its own AES + struct decode, a global list of dicts with `datetime` timestamps
pruned by list comprehension on every poll, periods parsed with a regex, statistics computed
in Python on every request, `jsonify`. It has no storage, so it is preloaded with the same
samples from our CSV export. Both servers run as separate processes on loopback.

"""


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def _verdict(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "met" if figure.met else "MISSED"


def render_table(figures: list[Figure]) -> str:
    """A plain console table."""
    lines = []
    for f in figures:
        ratio = f"x{f.ratio:.1f}" if f.ratio is not None else ""
        lines.append(
            f"{f.name:<72} {_num(f.ours):>12} {f.unit:<10} base {_num(f.baseline):>12} "
            f"{ratio:>7} {_verdict(f)}"
        )
    return "\n".join(lines)


def render_markdown(
    figures: list[Figure],
    machine: str,
    stamp: str,
    elapsed_s: float,
    quick: bool,
    methods: Mapping[str, str] | None = None,
) -> str:
    """The whole docs/performance.md; ``methods`` says how each section is measured."""
    out = [HEADER]
    out.append(f"- Run: {stamp}, {elapsed_s:.0f} s{' (quick mode)' if quick else ''}\n")
    out.append(f"- Machine: {machine}\n")
    out.append("- Reproduce: `./scripts/bench.sh` (or `python -m bench` in the venv)\n\n")
    sections: dict[str, list[Figure]] = {}
    for f in figures:
        sections.setdefault(f.section, []).append(f)
    for section, rows in sections.items():
        out.append(f"## {section}\n\n")
        how = (methods or {}).get(section)
        if how:
            out.append(f"How it is measured: {how}\n\n")
        out.append("| figure | ours | baseline | ratio | target | verdict | notes |\n")
        out.append("|---|---|---|---|---|---|---|\n")
        for f in rows:
            ratio = f"x{f.ratio:.1f}" if f.ratio is not None else "-"
            base = f"{_num(f.baseline)} ({f.baseline_label})" if f.baseline is not None else "-"
            out.append(
                f"| {f.name} | {_num(f.ours)} {f.unit} | {base} | {ratio} | {f.target} | "
                f"{_verdict(f)} | {f.note} |\n"
            )
        out.append("\n")
    history = Path(__file__).resolve().parent.parent / "docs" / "performance-history.md"
    if history.is_file():  # kept by hand: before/after of each optimisation
        out.append(history.read_text(encoding="utf-8"))
    return "".join(out)
