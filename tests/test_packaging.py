"""The package as users get it: built (sdist, then a wheel from it), installed in a fresh venv.

``python -m build`` builds the wheel from the sdist, so a file missing from either fails
here. The installed ``tc66c-server`` then runs from outside the checkout, so it can only
use what the wheel holds: its dashboard files, its catalogs, its version.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.serverproc import ROOT, free_port

pytestmark = pytest.mark.e2e

PACKAGE = ROOT / "tc66c_server"
BUILD_TIMEOUT_S = 240
START_TIMEOUT_S = 30


@dataclass(frozen=True)
class Installed:
    python: Path
    script: Path
    package: Path


def _run(*args: str | Path, cwd: Path) -> None:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("packaging")
    _run(sys.executable, "-m", "build", "--outdir", work / "dist", ROOT, cwd=work)
    wheels = list((work / "dist").glob("tc66c_server-*.whl"))
    assert len(wheels) == 1 and list((work / "dist").glob("tc66c_server-*.tar.gz"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", wheels[0], cwd=work)
    site = subprocess.run(
        [python, "-c", "import tc66c_server, os; print(os.path.dirname(tc66c_server.__file__))"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    package = Path(site.stdout.strip())
    assert ROOT not in package.parents, "imported the checkout, not the installed package"
    return Installed(python, env_dir / "bin" / "tc66c-server", package)


def files_under(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_installed_command_reports_its_version(installed: Installed) -> None:
    from tc66c_server import __version__

    result = subprocess.run(
        [installed.script, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == f"tc66c-server {__version__}"


def test_the_wheel_holds_every_dashboard_file_and_catalog(installed: Installed) -> None:
    for folder in ("static", "i18n"):
        missing = files_under(PACKAGE / folder) - files_under(installed.package / folder)
        assert not missing, f"not in the wheel: {sorted(missing)[:10]}"
    python_files = {p for p in files_under(PACKAGE) if p.endswith(".py")}
    assert python_files <= files_under(installed.package)


@pytest.fixture
def served(installed: Installed, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [installed.script, "serve", str(port), "--demo", "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,  # away from the checkout
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                httpx.get(f"{url}/api/config", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the installed server did not answer"
                time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    assert process.returncode == 0


def test_the_installed_server_serves_the_dashboard_and_the_demo_bench(served: str) -> None:
    page = httpx.get(f"{served}/", timeout=5)
    assert page.status_code == 200
    assert page.text == (PACKAGE / "static" / "index.html").read_text(encoding="utf-8")
    for name in ("static/i18n/fr.js", "static/i18n/en.js", "static/favicon.svg"):
        assert httpx.get(f"{served}/{name}", timeout=5).status_code == 200, name
    meters = httpx.get(f"{served}/api/meters", timeout=5).json()["meters"]
    assert [m["id"] for m in meters] == ["in", "out"]
    deadline = time.monotonic() + 20
    while httpx.get(f"{served}/api/data/latest", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "no sample from the demo meter"
        time.sleep(0.2)
    assert "tc66c_link_up" in httpx.get(f"{served}/metrics", timeout=5).text
