"""The printable report: a self-contained page with the summaries side by side and charts."""

from __future__ import annotations

import pytest

from tc66c_server.recordings.report import Trace, chart_svg, report_html
from tc66c_server.recordings.summary import RecordingInfo, SummaryAccumulator, summary

from .recordinghelpers import T0, bench_samples


def recorded(name: str, seed: int, note: str = "") -> tuple[dict[str, object], Trace]:
    acc = SummaryAccumulator(T0, gap_s=2.0)
    points = []
    for s, t in bench_samples(0, 179, 1.0, seed=seed):
        acc.add(s.ts, s.reading)
        points.append((t, s.reading))
    acc.close(T0 + 179, "manual")
    body = summary(acc, RecordingInfo(seed, name, "m1"))
    body["note"] = note
    trace = Trace(
        [t for t, _ in points],
        [r.voltage for _, r in points],
        [r.current for _, r in points],
        [r.power for _, r in points],
    )
    return body, trace


def test_a_comparison_report_shows_each_recording_side_by_side_with_three_charts() -> None:
    a, ta = recorded("charger A", 1)
    b, tb = recorded("charger B", 2)
    page = report_html([a, b], [ta, tb], "2026-11-29 10:00")
    assert page.startswith("<!doctype html>")
    assert "<title>Recording report: charger A vs charger B</title>" in page
    assert page.count('<svg class="chart"') == 3
    assert page.count("<polyline") == 6
    assert (
        "Energy (Wh)" in page
        and f"{a['energy_wh']:.4f}" in page
        and f"{b['energy_wh']:.4f}" in page
    )
    assert "5 V, 9 V, 12 V, 20 V" in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


def test_names_and_notes_are_escaped() -> None:
    a, ta = recorded("<img src=x onerror=alert(1)>", 1, note="</p><script>x</script>")
    page = report_html([a], [ta], "now")
    assert "<img" not in page and "<script" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_report_takes_one_to_four_recordings() -> None:
    a, ta = recorded("a", 1)
    with pytest.raises(ValueError, match="1 to 4"):
        report_html([a] * 5, [ta] * 5, "now")
    with pytest.raises(ValueError, match="1 to 4"):
        report_html([], [], "now")


def test_an_empty_chart_still_draws_its_frame() -> None:
    svg = chart_svg("Voltage", "V", [([], [])])
    assert svg.startswith("<svg") and "Voltage (V)" in svg
