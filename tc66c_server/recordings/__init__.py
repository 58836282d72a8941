"""Recordings: named time spans of one meter whose samples outlive retention.

The modules here are pure logic (no I/O): the live summary of a recording
(``summary.py``), the auto-record state machine (``detector.py``), per-recording stop
rules (``stop_rules.py``), automatic timeline annotations (``annotations.py``), PD level
plateaus (``pd.py``) and the meter's own offline recording turned into samples
(``gtrec.py``).
"""
