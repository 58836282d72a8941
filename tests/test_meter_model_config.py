"""The meter model setting: per-meter config, ``--model`` for the command line's meters."""

from __future__ import annotations

import pytest

from tc66c_server.bench_config import BenchConfig, resolve
from tc66c_server.config import ConfigError


def test_a_meter_entry_names_its_model_and_keeps_it_when_saved() -> None:
    bench = resolve({"meters": [{"id": "um", "port": "/dev/rfcomm0", "model": "um25c"}]})
    assert bench.first.model == "um25c"
    saved = bench.as_dict()
    assert saved["meters"][0]["model"] == "um25c"
    assert resolve(saved).first.model == "um25c"


def test_auto_is_the_default_and_is_not_written_out() -> None:
    bench = resolve({"port": "/dev/ttyACM0"})
    assert bench.first.model == "auto"
    assert "model" not in bench.as_dict()["meters"][0]


def test_the_command_line_model_applies_to_the_command_line_meters() -> None:
    bench = resolve({"meters": ["a=/dev/rfcomm0", "b=/dev/rfcomm1"], "model": "um34c"})
    assert [m.model for m in bench.meters] == ["um34c", "um34c"]
    single = resolve({"port": "/dev/rfcomm0", "model": "um24c"})
    assert single.first.model == "um24c"


def test_an_unknown_model_is_a_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({"meters": [{"port": "/dev/rfcomm0", "model": "um99"}]})
    assert "um25c" in caught.value.fields["meters[0].model"]
    with pytest.raises(ConfigError):
        resolve({"port": "/dev/rfcomm0", "model": "tc99"})


def test_a_meter_added_through_the_api_may_name_its_model() -> None:
    bench = BenchConfig().with_new_meter({"port": "bt:00:11:22:33:44:55", "model": "um25c"})
    assert bench.meters[-1].model == "um25c"
    with pytest.raises(ConfigError) as caught:
        BenchConfig().with_new_meter({"port": "/dev/rfcomm0", "modle": "um25c"})
    assert "model" in caught.value.fields["body"]
