"""The Grafana dashboard in ``contrib/``: valid JSON, and only metrics the server exposes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tc66c_server.energy import EnergyTotals
from tc66c_server.exporters.prometheus import MeterView, PairView, render
from tc66c_server.poll_durations import PollDurations
from tc66c_server.poller import Counters, LinkState
from tc66c_server.reading import Reading, Sample
from tests.promhelpers import names

DASHBOARD = Path(__file__).resolve().parent.parent / "contrib" / "grafana-tc66c.json"
METRIC = re.compile(r"\btc66c_[a-z_]+")


def expressions(node: Any) -> Iterator[str]:
    """Every PromQL expression and variable query in the dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item)


def full_exposition() -> str:
    """/metrics of a bench where every family has a sample (a live meter and a pair)."""
    now = 1_800_000_000.0
    reading = Reading("TC66", "1.14", 1, 1, 5.0, 0.5, 2.5, 10.0, 1, 2, 3, 4, 25, 0.6, 0.6)
    meter = MeterView(
        id="in",
        port="/dev/tc66c",
        demo=False,
        polling_interval_s=1.0,
        gap_s=3.0,
        state=LinkState(True, "/dev/tc66c", product="TC66", firmware="1.14", serial=1),
        latest=Sample(now, reading),
        counters=Counters(),
        durations=PollDurations().observe(0.1),
        totals=EnergyTotals(1.0, 1.0),
    )
    pair = PairView("in-out", "in", "out", 0.9, 0.1)
    return render([meter], [pair], now=now, version="0", started_at=now)


def test_the_dashboard_is_valid_json_with_panels_and_a_prometheus_input() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["title"] and dashboard["uid"]
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    assert len(dashboard["panels"]) >= 8
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"bench", "meter"}


def test_every_metric_the_dashboard_uses_is_in_the_exposition() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {name for expr in expressions(dashboard) for name in METRIC.findall(expr)}
    assert "tc66c_energy_joules_total" in used
    missing = used - names(full_exposition())
    assert not missing, f"the dashboard uses metrics /metrics does not have: {sorted(missing)}"
