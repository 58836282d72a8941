"""The udev rule in ``contrib/``: valid udev syntax, and one name per meter as well as a common one.

``udevadm verify`` (systemd 255 and later) checks the file where it exists; elsewhere the
rule is parsed here with udev's grammar: comma-separated ``KEY[{attr}]OP"value"`` pairs,
match keys with ``==``/``!=``, assignment keys with ``=``/``+=``/``-=``/``:=``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tc66c_server.ports import RUIDENG_VID

RULES = Path(__file__).resolve().parent.parent / "contrib" / "99-tc66c.rules"
_PAIR = re.compile(r'\s*([A-Z_]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')
MATCH_KEYS = {"SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "ACTION", "ATTRS", "ATTR", "ENV", "DRIVERS"}
ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "OWNER", "IMPORT", "ENV", "TAG", "RUN"}


@dataclass(frozen=True)
class Pair:
    key: str
    attr: str | None
    op: str
    value: str


def parse_rule(line: str) -> list[Pair]:
    """The key/value pairs of one rule line; AssertionError naming what udev would reject."""
    pairs: list[Pair] = []
    position = 0
    while position < len(line):
        match = _PAIR.match(line, position)
        assert match, f"cannot parse {line[position:]!r}"
        key, attr, op, value = match.groups()
        if op in ("==", "!="):
            assert key in MATCH_KEYS, f"{key} is not a match key"
        else:
            assert key in ASSIGN_KEYS, f"{key} cannot be assigned"
        pairs.append(Pair(key, attr, op, value))
        position = match.end()
    return pairs


def rules() -> list[list[Pair]]:
    return [
        parse_rule(line.strip())
        for line in RULES.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def has(rule: list[Pair], key: str, op: str, value: str, attr: str | None = None) -> bool:
    return Pair(key, attr, op, value) in rule


def test_every_rule_parses_and_matches_only_the_meter_s_serial_port() -> None:
    found = rules()
    assert len(found) == 2
    for rule in found:
        assert has(rule, "SUBSYSTEM", "==", "tty")
        vendors = [p.value for p in rule if p.key == "ATTRS" and p.attr == "idVendor"]
        assert [int(v, 16) for v in vendors] == [RUIDENG_VID]


def test_the_meter_gets_a_common_name_for_the_dialout_group() -> None:
    common = next(r for r in rules() if has(r, "SYMLINK", "+=", "tc66c"))
    assert has(common, "GROUP", "=", "dialout")
    assert has(common, "MODE", "=", "0660")


def test_each_meter_gets_a_name_with_its_usb_serial_when_it_has_one() -> None:
    per_device = next(r for r in rules() if any(p.value.startswith("tc66c-") for p in r))
    assert has(per_device, "SYMLINK", "+=", "tc66c-$env{ID_SERIAL_SHORT}")
    assert has(per_device, "ENV", "==", "?*", attr="ID_SERIAL_SHORT")  # no serial: no link
    assert any(has(r, "IMPORT", "=", "usb_id", attr="builtin") for r in rules())


def test_udevadm_verify_accepts_the_rule_where_it_exists() -> None:
    udevadm = shutil.which("udevadm")
    if udevadm is None:
        pytest.skip("udevadm is not installed")
    probe = subprocess.run(
        [udevadm, "verify", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        pytest.skip("this udevadm has no 'verify' (systemd < 255): the rule is parsed above")
    result = subprocess.run(
        [udevadm, "verify", str(RULES)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "line",
    ['SUBSYSTEM="tty"', 'SYMLINK=="x"', 'SUBSYSTEM=="tty" GROUP="x"', "GROUP=dialout"],
)
def test_the_parser_rejects_what_udev_rejects(line: str) -> None:
    with pytest.raises(AssertionError):
        parse_rule(line)
