"""The reliability suite: real server and emulator processes driven through faults and abuse.

Each scenario module has a ``run(workdir, ...)`` that starts what it needs, bounded in time,
cleans up every process it started and returns an :class:`~reliability.outcome.Outcome`
(what was done, the checks that passed or failed, faults injected, bad inputs tried, samples
lost). ``tests/reliability/`` asserts on those outcomes; ``python -m reliability`` (run by
``scripts/reliability.sh``) runs the same functions and rewrites ``docs/reliability.md``.
"""
