"""The benchmark's baseline: the seed README implemented the way its author likely would.

Flask's threaded development server, a polling thread with pyserial and its own decode, a
global list of dicts with ``datetime`` timestamps, pruning by list comprehension, periods
parsed with a regex and statistics computed in Python on every request. Run it with
``python -m bench.baseline PORT --device PATH [--preload FILE.csv]``.
"""
