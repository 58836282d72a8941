"""Why a recording ended: one closed set of names, shown as is in the API."""

from __future__ import annotations

from enum import StrEnum


class EndReason(StrEnum):
    """The reason stored with a recording's end."""

    #: Stopped by hand (API, dashboard, CLI).
    MANUAL = "manual"
    #: Auto-record: the current stayed below the threshold for the end delay.
    CURRENT_BELOW_THRESHOLD = "current_below_threshold"
    #: Auto-record: no reading for the end delay (unplugged, stalled).
    METER_GONE = "meter_gone"
    #: Open when the server stopped and no reading came back within the resume window.
    INTERRUPTED = "interrupted"
    #: Stop rules of the recording.
    RULE_VOLTAGE = "rule_voltage"
    RULE_CURRENT = "rule_current"
    RULE_DURATION = "rule_duration"
    RULE_ENERGY = "rule_energy"
    #: A recording made from an import (CSV, the meter's ``gtrec``): complete when made.
    IMPORTED = "imported"
