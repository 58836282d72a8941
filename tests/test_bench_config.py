"""The bench's configuration: meters from every layer, pairs, and changes made at run time."""

from __future__ import annotations

from typing import Any

import pytest

from tc66c_server import bench_config as bc
from tc66c_server import config as cfg
from tc66c_server.bench_config import BenchConfig, MeterSpec, PairSpec
from tc66c_server.config import ConfigError


def test_default_bench_is_the_seeds_single_meter() -> None:
    bench = bc.resolve()
    assert bench.meters == (MeterSpec("m1", "/dev/ttyACM0", 1.0),)
    assert bench.seed_view().as_dict() == cfg.DEFAULT_CONFIG


def test_seed_keys_change_the_first_meter_only() -> None:
    layer = {"meters": ["in=/dev/ttyACM0", "out=/dev/ttyACM1"]}
    bench = bc.resolve(layer, {"port": "/dev/ttyUSB0", "polling_interval": 2.0})
    assert bench.meters == (
        MeterSpec("in", "/dev/ttyUSB0", 2.0),
        MeterSpec("out", "/dev/ttyACM1", 1.0),
    )


def test_interval_in_a_layer_with_meters_is_their_default() -> None:
    bench = bc.resolve({"meters": ["/dev/ttyACM0", "/dev/ttyACM1"], "polling_interval": 0.5})
    assert [m.polling_interval for m in bench.meters] == [0.5, 0.5]
    assert [m.id for m in bench.meters] == ["m1", "m2"]


def test_a_higher_layers_meters_replace_the_list() -> None:
    saved = {"meters": [{"id": "a", "port": "/dev/a"}, {"id": "b", "port": "/dev/b"}]}
    cli = bc.cli_devices(["x=/dev/ttyACM3", "y=/dev/ttyACM4"])
    bench = bc.resolve({"port": "demo"}, saved, {}, cli)
    assert [(m.id, m.port) for m in bench.meters] == [("x", "/dev/ttyACM3"), ("y", "/dev/ttyACM4")]


def test_one_plain_device_flag_is_the_seeds_port() -> None:
    assert bc.cli_devices(["/dev/ttyACM1"]) == {"port": "/dev/ttyACM1"}
    assert bc.cli_devices(None) == {}


def test_environment_lists_are_comma_separated() -> None:
    layer = cfg.from_environment(
        {"TC66C_DEVICES": "in=demo, out=demo-out", "TC66C_PAIRS": "in:out"}
    )
    bench = bc.resolve(layer)
    assert [m.id for m in bench.meters] == ["in", "out"]
    assert bench.pairs == (PairSpec("in-out", "in", "out"),)


@pytest.mark.parametrize(
    ("layer", "field"),
    [
        ({"meters": ["a=/dev/x", "a=/dev/y"]}, "meters"),
        ({"meters": ["bad name=/dev/x"]}, "meters[0].id"),
        ({"meters": ["a=relative"]}, "meters[0].port"),
        ({"meters": [{"id": "a"}]}, "meters[0]"),
        ({"meters": 5}, "meters"),
        ({"pairs": ["m1:nope"]}, "pairs"),
        ({"pairs": ["m1:m1"]}, "pairs"),
        ({"pairs": ["m1"]}, "pairs[0]"),
        ({"meters": [f"/dev/tty{i}" for i in range(cfg.MAX_METERS + 1)]}, "meters"),
    ],
)
def test_bad_layers_name_the_field(layer: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        bc.resolve(layer)
    assert field in caught.value.fields


def test_pairs_of_meters_a_higher_layer_dropped_are_dropped() -> None:
    saved = {"meters": ["in=demo", "out=demo-out"], "pairs": ["in:out"]}
    bench = bc.resolve(saved, {"meters": ["/dev/ttyACM0"]})
    assert bench.pairs == ()


def test_saved_form_round_trips() -> None:
    bench = bc.resolve({"meters": ["in=demo", "out=demo-out"], "pairs": ["in:out"]})
    again = bc.resolve(bench.as_dict())
    assert again == bench


def test_meter_changes_validate_and_touch_one_meter() -> None:
    bench = bc.resolve({"meters": ["in=demo", "out=demo-out"]})
    new = bench.with_meter_changes("out", {"polling_interval": 0.5, "data_retention_minutes": 5})
    assert new.meter("out") == MeterSpec("out", "demo-out", 0.5)
    assert new.meter("in") == bench.meter("in")
    assert new.data_retention_minutes == 5
    with pytest.raises(ConfigError):
        bench.with_meter_changes("out", {"polling_interval": -1})
    with pytest.raises(KeyError):
        bench.with_meter_changes("nope", {})


def test_new_meters_get_free_ids_and_unique_names() -> None:
    bench = BenchConfig()
    bench = bench.with_new_meter({"port": "demo"})
    assert bench.meters[-1] == MeterSpec("m2", "demo", 1.0)
    with pytest.raises(ConfigError) as caught:
        bench.with_new_meter({"id": "m2", "port": "demo"})
    assert "id" in caught.value.fields
    with pytest.raises(ConfigError) as caught:
        bench.with_new_meter({"port": "demo", "colour": "red"})
    assert "body" in caught.value.fields


def test_removing_a_meter_removes_its_pairs_but_never_the_last_meter() -> None:
    bench = bc.resolve({"meters": ["in=demo", "out=demo-out"], "pairs": ["in:out"]})
    smaller = bench.without_meter("out")
    assert [m.id for m in smaller.meters] == ["in"] and smaller.pairs == ()
    with pytest.raises(ConfigError):
        smaller.without_meter("in")


def test_pairs_are_added_and_removed_by_id() -> None:
    bench = bc.resolve({"meters": ["in=demo", "out=demo-out"]})
    bench = bench.with_new_pair({"input": "in", "output": "out", "id": "charger"})
    assert bench.pair("charger") == PairSpec("charger", "in", "out")
    with pytest.raises(ConfigError):
        bench.with_new_pair({"input": "in", "output": "out", "id": "charger"})
    assert bench.without_pair("charger").pairs == ()


def test_two_meters_never_share_a_port_but_any_number_may_be_auto() -> None:
    with pytest.raises(ConfigError) as info:
        bc.resolve({"meters": ["a=/dev/ttyACM0", "b=/dev/ttyACM0"]})
    assert "already meter 'a'" in info.value.fields["meters"]
    bench = bc.resolve({"meters": ["a=auto", "b=auto", "c=/dev/ttyACM1"]})
    assert [m.port for m in bench.meters] == ["auto", "auto", "/dev/ttyACM1"]
    with pytest.raises(ConfigError) as info:
        bench.with_new_meter({"port": "/dev/ttyACM1"})
    assert "already meter 'c'" in info.value.fields["port"]
    with pytest.raises(ConfigError) as info:
        bench.with_meter_changes("a", {"port": "/dev/ttyACM1"})
    assert set(info.value.fields) == {"port"}
    assert bench.with_new_meter({"port": "auto"}).meters[-1].port == "auto"


def test_auto_record_of_a_layer_is_the_default_of_meters_without_their_own() -> None:
    saved = {"meters": [{"id": "a", "port": "/dev/a", "auto_record": False}, "b=/dev/b"]}
    bench = bc.resolve(saved, {"auto_record": True})  # the flag, or TC66C_AUTO_RECORD
    assert bench.recording_settings("a")["auto_record"] is False
    assert bench.recording_settings("b")["auto_record"] is True
    assert bench.recording_settings()["auto_record"] is True


def test_a_meters_own_auto_record_round_trips_and_outlives_a_device_list() -> None:
    bench = bc.resolve({"meters": ["a=/dev/a", "b=/dev/b"]})
    bench = bench.with_meter_changes("b", {"auto_record": True, "auto_record_end_delay_s": 5})
    saved = bench.as_dict()
    assert saved["meters"][1] == {
        "id": "b", "port": "/dev/b", "polling_interval": 1.0,
        "auto_record": True, "auto_record_end_delay_s": 5.0,
    }  # fmt: skip
    assert "auto_record" not in saved["meters"][0] and saved["auto_record"] is False
    assert bc.resolve(saved) == bench
    # Restarted with the same --device list: the meters keep what the API saved.
    again = bc.resolve(saved, bc.cli_devices(["a=/dev/a", "b=/dev/b"]))
    assert again.recording_settings("b")["auto_record_end_delay_s"] == 5.0
    assert again.recording_settings("a")["auto_record"] is False


def test_a_bad_auto_record_setting_in_a_meters_entry_is_named() -> None:
    with pytest.raises(ConfigError) as err:
        bc.resolve({"meters": [{"port": "/dev/a", "auto_record": "yes"}]})
    assert list(err.value.fields) == ["meters[0].auto_record"]
