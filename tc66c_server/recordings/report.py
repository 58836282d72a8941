"""A printable report of one or more recordings: one self-contained HTML page.

The page holds the summary table (one column per recording, side by side) and a chart per
quantity (voltage, current, power) with every recording overlaid from its start, drawn as
inline SVG: no script, no external file, so it prints to PDF from any browser and can be
saved and mailed as is. Every server- or device-provided string is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Line colours of the overlaid recordings (dark enough on white paper).
COLOURS = ("#1f5fbf", "#c2410c", "#15803d", "#7e22ce")
MAX_RECORDINGS = len(COLOURS)
_W, _H, _PAD_L, _PAD_B = 720, 200, 56, 28
_CHARTS = (("voltage", "Voltage", "V"), ("current", "Current", "A"), ("power", "Power", "W"))


@dataclass(frozen=True, slots=True)
class Trace:
    """One recording's points for the charts: seconds from its start, V, I, P."""

    t_s: Sequence[float]
    voltage: Sequence[float]
    current: Sequence[float]
    power: Sequence[float]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _stat(summary: dict[str, Any], key: str, which: str, digits: int) -> str:
    block = summary.get(key)
    return _num(block[which] if block else None, digits)


def _pair(summary: dict[str, Any], key: str, first: str, second: str) -> str:
    return f"{_stat(summary, key, first, 3)} / {_stat(summary, key, second, 3)}"


def _counters(summary: dict[str, Any], group: str) -> str:
    counters = summary.get("meter_counters")
    if not counters:
        return "–"
    g = counters[group]
    mark = "✓" if g["agrees"] else "≠"
    return f"{g['delta']['mah']} mAh / {g['delta']['mwh']} mWh {mark}"


def _rows(summaries: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    def each(fn: Any) -> list[str]:
        return [fn(s) for s in summaries]

    return [
        ("Meter", each(lambda s: s["meter"])),
        ("Start", each(lambda s: s["start"][:19].replace("T", " "))),
        ("End", each(lambda s: (s["end"] or "running")[:19].replace("T", " "))),
        ("Duration", each(lambda s: _duration(s["duration_s"]))),
        ("Run time (load connected)", each(lambda s: _duration(s["run_time_s"]))),
        ("Samples", each(lambda s: str(s["sample_count"]))),
        ("Energy (Wh)", each(lambda s: _num(s["energy_wh"], 4))),
        ("Charge (mAh)", each(lambda s: _num(s["charge_mah"], 1))),
        ("Power avg / max (W)", each(lambda s: _pair(s, "power", "avg", "max"))),
        ("Voltage min / max (V)", each(lambda s: _pair(s, "voltage", "min", "max"))),
        ("Current avg / max (A)", each(lambda s: _pair(s, "current", "avg", "max"))),
        ("PD levels", each(lambda s: ", ".join(f"{v} V" for v in s["pd_levels"]) or "–")),
        ("Meter group 0 (Δ)", each(lambda s: _counters(s, "group0"))),
        ("Meter group 1 (Δ)", each(lambda s: _counters(s, "group1"))),
        ("End reason", each(lambda s: s["end_reason"] or "running")),
        ("Recorded", each(lambda s: "automatically" if s["auto"] else "by hand")),
    ]  # fmt: skip


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low
    if span <= 0:
        return [low]
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step) + 1)]


def chart_svg(
    title: str, unit: str, traces: Sequence[tuple[Sequence[float], Sequence[float]]]
) -> str:
    """An SVG line chart of (seconds, values) traces over a shared axis."""
    xs = [x for t, _ in traces for x in t]
    ys = [y for _, v in traces for y in v if y is not None and math.isfinite(y)]
    x_max = max(xs, default=1.0) or 1.0
    y_low, y_high = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if y_high - y_low < 1e-9:
        y_low, y_high = y_low - 0.5, y_high + 0.5
    y_low = min(y_low, 0.0) if y_low >= 0 and y_low < 0.25 * y_high else y_low
    plot_w, plot_h = _W - _PAD_L - 10, _H - _PAD_B - 10

    def px(x: float) -> float:
        return _PAD_L + x / x_max * plot_w

    def py(y: float) -> float:
        return 10 + (1 - (y - y_low) / (y_high - y_low)) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{_e(title)}">',
        f'<rect x="{_PAD_L}" y="10" width="{plot_w}" height="{plot_h}" class="frame"/>',
    ]
    for tick in _ticks(y_low, y_high):
        y = py(tick)
        parts.append(f'<line x1="{_PAD_L}" x2="{_W - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{_PAD_L - 4}" y="{y + 4:.1f}" class="ylabel">{tick:g}</text>')
    for tick in _ticks(0, x_max):
        x = px(tick)
        parts.append(f'<text x="{x:.1f}" y="{_H - 8}" class="xlabel">{_duration(tick)}</text>')
    for colour, (t, v) in zip(COLOURS, traces, strict=False):
        points = " ".join(
            f"{px(x):.1f},{py(y):.1f}" for x, y in zip(t, v, strict=True) if y is not None
        )
        parts.append(f'<polyline points="{points}" stroke="{colour}" class="trace"/>')
    parts.append(f'<text x="{_PAD_L + 4}" y="24" class="title">{_e(title)} ({_e(unit)})</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;color:#111;margin:24px;max-width:820px}
h1{font-size:20px;margin:0 0 4px}p.sub{color:#555;margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:0 0 18px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
thead th{background:#f3f4f6}.swatch{display:inline-block;width:10px;height:10px;margin-right:6px}
.chart{width:100%;height:auto;margin:0 0 10px;break-inside:avoid}
.frame{fill:none;stroke:#999}.grid{stroke:#e5e7eb}.trace{fill:none;stroke-width:1.5}
.ylabel{font-size:11px;text-anchor:end;fill:#444}.xlabel{font-size:11px;text-anchor:middle;fill:#444}
.title{font-size:12px;font-weight:600;fill:#111}.note{color:#444;white-space:pre-wrap}
@page{margin:14mm}@media print{body{margin:0;max-width:none}a{color:inherit}}
"""


def report_html(
    summaries: Sequence[dict[str, Any]], traces: Sequence[Trace], generated: str
) -> str:
    """The whole report page for 1 to 4 recordings (summaries with their traces)."""
    if not 1 <= len(summaries) <= MAX_RECORDINGS or len(traces) != len(summaries):
        raise ValueError(f"a report shows 1 to {MAX_RECORDINGS} recordings")
    names = [s["name"] for s in summaries]
    title = names[0] if len(names) == 1 else " vs ".join(names)
    head = "".join(
        f'<th><svg class="swatch" viewBox="0 0 10 10"><rect width="10" height="10" fill="{c}"/>'
        f"</svg>{_e(s['name'])}</th>"
        for c, s in zip(COLOURS, summaries, strict=False)
    )
    body_rows = "".join(
        f"<tr><th>{_e(label)}</th>{''.join(f'<td>{_e(v)}</td>' for v in values)}</tr>"
        for label, values in _rows(summaries)
    )
    notes = "".join(
        f'<p class="note"><b>{_e(s["name"])}:</b> {_e(s["note"])}</p>'
        for s in summaries
        if s.get("note")
    )
    charts = "".join(
        chart_svg(label, unit, [(tr.t_s, getattr(tr, key)) for tr in traces])
        for key, label, unit in _CHARTS
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Recording report: {_e(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_CSS}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="sub">TC66C recording report · {_e(generated)} · '
        "aligned at each recording's start</p>"
        f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body_rows}</tbody></table>"
        f"{notes}{charts}</body></html>"
    )
