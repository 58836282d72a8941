from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tc66c_server import quantities as q
from tc66c_server.reading import Sample
from tc66c_server.store.codec import decode, encode

from .storehelpers import T0, sample


def test_round_trip_is_exact_for_the_real_capture() -> None:
    original = sample(T0 + 0.123456)
    raw = encode(original)
    assert raw.values[:3] == (51609, 1990, 1026)
    assert raw.device == ("TC66", "1.18", 48724, 40)
    assert decode(raw.ts_us, raw.device, raw.values) == original


def test_negative_temperature_is_kept() -> None:
    raw = encode(sample(T0, temperature=-12))
    assert decode(raw.ts_us, raw.device, raw.values).reading.temperature == -12


@given(
    ts_us=st.integers(0, 2**52),
    raws=st.tuples(*[st.integers(0, 2**32 - 1) for _ in q.ALL]),
)
def test_values_at_device_resolution_round_trip_through_quantities(
    ts_us: int, raws: tuple[int, ...]
) -> None:
    values = {
        quantity.key: quantity.from_raw(raw) for quantity, raw in zip(q.ALL, raws, strict=True)
    }
    original = sample(ts_us / 1e6, **values)
    encoded = encode(original)
    # The codec's inlined scaling is Quantity.to_raw.
    assert encoded.values == tuple(
        quantity.to_raw(getattr(original.reading, quantity.key)) for quantity in q.ALL
    )
    assert encoded.values == raws
    decoded = decode(encoded.ts_us, encoded.device, encoded.values)
    assert decoded.ts == original.ts
    assert decoded.reading.as_dict() == pytest.approx(original.reading.as_dict(), abs=0)


@pytest.mark.parametrize(
    "bad",
    [
        sample(float("nan")),
        sample(-1.0),
        sample(float("inf")),
        sample(T0, voltage=float("nan")),
        sample(T0, current=float("inf")),
        sample(T0, power=1e30),
        sample(T0, group0_mah=2**32),
    ],
)
def test_values_the_store_cannot_keep_are_refused(bad: Sample) -> None:
    with pytest.raises(ValueError):
        encode(bad)
