"""Port discovery: the TC66C is recognised by its USB identity."""

from __future__ import annotations

import pytest

from tc66c_server import ports
from tc66c_server.errors import PortNotFoundError


@pytest.mark.parametrize(
    ("vid", "manufacturer", "expected"),
    [
        (0x28E9, None, True),
        (None, "RuiDeng", True),
        (0x1234, " ruideng ", True),
        (0x0403, "FTDI", False),
        (None, None, False),
    ],
)
def test_meter_is_recognised_by_vendor_id_or_manufacturer(
    vid: int | None, manufacturer: str | None, expected: bool
) -> None:
    assert ports.is_likely_meter(vid, manufacturer) is expected


def test_listed_ports_put_likely_meters_first() -> None:
    listed = ports.list_serial_ports()
    flags = [p.likely_meter for p in listed]
    assert flags == sorted(flags, reverse=True)


def test_auto_without_a_meter_explains_what_it_looked_for() -> None:
    if any(p.likely_meter for p in ports.list_serial_ports()):
        pytest.fail("a real TC66C is attached: this test expects none")
    with pytest.raises(PortNotFoundError) as info:
        ports.find_meter()
    assert str(info.value) == "failed to open:auto"
    assert "0x28E9" in info.value.hint
