"""Schemathesis over ``/openapi.json`` with all its checks, bounded in time.

It generates requests from the schema (valid ones, and invalid ones that must be refused
with a 4xx), sends undeclared methods, and checks every answer against the documented
statuses, content types and bodies. ``/api/stream`` never ends, so it is left out here
(the SSE cap and load scenarios cover it).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from .api import client, status
from .outcome import Outcome
from .procs import start_server

MAX_TIME_S = 45
MAX_EXAMPLES = 10
SERVER_ERROR = "ST101"
# Answers the API documents as 503 on purpose: no sample yet (the fuzz may switch the port
# to a meter that is not plugged), the stream cap, a config that could not be saved.
DOCUMENTED_5XX = frozenset({"no_data", "too_many_streams", "config_not_saved"})
# Rules JSON Schema cannot state (a period of at most 366 d, a port that must be a tty,
# fields checked against each other) make schema-valid requests answer 400 on purpose:
# schemathesis's "positive data acceptance" check is therefore left out.
EXCLUDED_CHECKS = "positive_data_acceptance"
_TITLE = re.compile(r"^- (ST\d+ .+)$", re.MULTILINE)
_SERVER_ANSWER = re.compile(r"^\[5\d\d\][^\n]*\n\s*`(.*)`$", re.MULTILINE)
_CODE = re.compile(r'"code":"([a-z_]+)"')


def _documented(text: str) -> bool:
    """Whether every 5xx in a failure is one the API documents (its error code says so)."""
    answers = _SERVER_ANSWER.findall(text)
    codes = [_CODE.search(body) for body in answers]
    return bool(answers) and all(c is not None and c[1] in DOCUMENTED_5XX for c in codes)


def _failures(junit: Path) -> dict[str, list[str]]:
    """Failure titles (``ST204 Wrong response...``) by operation, from the JUnit report."""
    found: dict[str, list[str]] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        for failure in case.iter("failure"):
            text = failure.text or ""
            titles = sorted(set(_TITLE.findall(text))) or [failure.get("message", "failure")]
            if _documented(text):
                titles = [t for t in titles if SERVER_ERROR not in t]
            if titles:
                found.setdefault(case.get("name", "?"), []).extend(titles)
    return found


def schema_fuzz(workdir: Path, max_time_s: int = MAX_TIME_S) -> Outcome:
    """``st run`` against a running server; no 5xx, every answer as documented."""
    outcome = Outcome(
        "schemathesis",
        f"`st run --checks all` (but {EXCLUDED_CHECKS}) over /openapi.json "
        f"for at most {max_time_s} s "
        f"({MAX_EXAMPLES} examples per operation and phase), /api/stream excluded",
    )
    report = workdir / "schemathesis"
    with contextlib.ExitStack() as stack:
        server = start_server(workdir, workdir / "data", None, interval_s=0.5)
        stack.callback(server.stop)
        argv = [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json"]
        argv += ["--checks", "all", "--exclude-checks", EXCLUDED_CHECKS]
        argv += ["--max-examples", str(MAX_EXAMPLES)]
        argv += ["--max-time", str(max_time_s), "--exclude-path", "/api/stream"]
        argv += ["--request-timeout", "10", "--generation-database", "none", "--seed", "1"]
        argv += ["--no-color", "--report", "junit", "--report-dir", str(report)]
        try:
            run = subprocess.run(
                argv, cwd=workdir, capture_output=True, text=True, timeout=max_time_s + 60
            )
        except subprocess.TimeoutExpired:
            outcome.fail("schemathesis finishes in time", f"over {max_time_s + 60} s")
            return outcome
        (workdir / "schemathesis.out").write_text(run.stdout + run.stderr, encoding="utf-8")
        if "No module named" in run.stderr:
            outcome.fail("schemathesis is installed", "pip install -e '.[test]'")
            return outcome
        with client(server.url) as http:
            outcome.check("the server still answers", status(http)["running"])
        output = server.output()
    generated = re.search(r"(\d+) generated", run.stdout)
    outcome.bad_inputs = int(generated[1]) if generated else 0
    junits = sorted(report.glob("junit*.xml"))
    failures = _failures(junits[-1]) if junits else {}
    outcome.figures = {"generated": outcome.bad_inputs, "failures": failures}
    server_errors = [
        op for op, titles in failures.items() if any(SERVER_ERROR in t for t in titles)
    ]
    ran = bool(junits and generated)
    outcome.check("schemathesis ran and reported", ran, "" if ran else run.stdout[-500:])
    outcome.check("no undocumented 5xx", not server_errors, server_errors)
    for operation, titles in sorted(failures.items()):
        outcome.fail(f"{operation} conforms to the schema", "; ".join(titles))
    # schemathesis exits 1 for the documented 503s too: its status only counts when the
    # report could not be read.
    if not ran:
        outcome.check("schemathesis exit status 0", run.returncode == 0, run.returncode)
    outcome.check("no traceback in the server's output", "Traceback" not in output)
    return outcome
