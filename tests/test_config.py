"""Configuration: validation of every field, precedence of layers, persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tc66c_server import config as cfg
from tc66c_server.config import ConfigError, MeterConfig
from tc66c_server.emulator import EmulatorHost
from tc66c_server.server import allowed_hosts_of, check_allowed_host


def test_defaults_are_the_seeds() -> None:
    assert MeterConfig().as_dict() == {
        "port": "/dev/ttyACM0",
        "polling_interval": 1.0,
        "data_retention_minutes": 10,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"port": "/dev/ttyACM1"},
        {"port": "COM3"},
        {"port": "auto"},
        {"port": "demo"},
        {"polling_interval": 0.1},
        {"polling_interval": 2},
        {"data_retention_minutes": 30},
        {"data_retention_minutes": 30.0},
        {"port": "/tmp/ttyTC66", "polling_interval": 2.0, "data_retention_minutes": 10080},
    ],
)
def test_valid_changes_are_accepted(changes: dict[str, Any]) -> None:
    updated = MeterConfig().updated(changes)
    for key, value in changes.items():
        assert getattr(updated, key) == value


BAD: list[tuple[Any, str]] = [
    ({"port": ""}, "port"),
    ({"port": 5}, "port"),
    ({"port": "ttyACM0"}, "port"),
    ({"port": "/dev/tty\x00"}, "port"),
    ({"port": " /dev/ttyACM0"}, "port"),
    ({"polling_interval": 0}, "polling_interval"),
    ({"polling_interval": -1}, "polling_interval"),
    ({"polling_interval": 0.05}, "polling_interval"),
    ({"polling_interval": "1"}, "polling_interval"),
    ({"polling_interval": True}, "polling_interval"),
    ({"polling_interval": float("nan")}, "polling_interval"),
    ({"polling_interval": 1e9}, "polling_interval"),
    ({"data_retention_minutes": 0}, "data_retention_minutes"),
    ({"data_retention_minutes": 1.5}, "data_retention_minutes"),
    ({"data_retention_minutes": "10"}, "data_retention_minutes"),
    ({"data_retention_minutes": 10**9}, "data_retention_minutes"),
    ({"colour": "red"}, "colour"),
    ([1, 2], "body"),
    ("text", "body"),
]


@pytest.mark.parametrize(("changes", "field"), BAD)
def test_invalid_change_names_the_field_and_changes_nothing(changes: Any, field: str) -> None:
    original = MeterConfig()
    with pytest.raises(ConfigError) as info:
        original.updated(changes)
    assert field in info.value.fields
    assert original == MeterConfig()


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        MeterConfig().updated({"polling_interval": -1, "data_retention_minutes": 0, "x": 1})
    assert set(info.value.fields) == {"polling_interval", "data_retention_minutes", "x"}


def test_later_layers_win() -> None:
    config = cfg.resolve(
        seed_config={"port": "/dev/ttyACM0", "polling_interval": 1.0},
        saved={"polling_interval": 2.0, "data_retention_minutes": 20},
        environ={"data_retention_minutes": 30},
        cli={"port": "demo", "polling_interval": None},
    )
    assert config == MeterConfig("demo", 2.0, 30)


def test_environment_variables_are_read_and_validated() -> None:
    env = {"TC66C_PORT": "auto", "TC66C_INTERVAL": "0.5", "TC66C_RETENTION": "60"}
    assert cfg.from_environment(env) == {
        "port": "auto",
        "polling_interval": 0.5,
        "data_retention_minutes": 60,
    }
    with pytest.raises(ConfigError) as info:
        cfg.from_environment({"TC66C_INTERVAL": "fast"})
    assert "TC66C_INTERVAL" in info.value.fields


@pytest.mark.parametrize(
    ("raw", "flag"), [("1", True), ("true", True), ("off", False), ("0", False)]
)
def test_tc66c_auto_record_turns_auto_record_on_or_off(raw: str, flag: bool) -> None:
    assert cfg.from_environment({"TC66C_AUTO_RECORD": raw}) == {"auto_record": flag}


def test_tc66c_auto_record_that_is_not_a_flag_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as info:
        cfg.from_environment({"TC66C_AUTO_RECORD": "sometimes"})
    assert set(info.value.fields) == {"TC66C_AUTO_RECORD"}


def test_environment_auto_record_wins_over_the_saved_settings() -> None:
    saved = {"auto_record": False, "auto_record_threshold_a": 0.2}
    environ = cfg.from_environment({"TC66C_AUTO_RECORD": "yes"})
    config = cfg.resolve(saved=saved, environ=environ)
    assert (config.auto_record, config.auto_record_threshold_a) == (True, 0.2)


def test_saved_config_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    assert cfg.load_saved(path) == {}
    cfg.save(path, MeterConfig("/dev/ttyACM1", 2.0, 30))
    assert cfg.load_saved(path) == {
        "port": "/dev/ttyACM1",
        "polling_interval": 2.0,
        "data_retention_minutes": 30,
    }


def test_corrupt_saved_config_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        cfg.load_saved(path)


def test_default_data_dir_follows_xdg() -> None:
    assert cfg.default_data_dir({"XDG_DATA_HOME": "/x"}) == Path("/x/tc66c-server")
    assert cfg.default_data_dir({"TC66C_DATA_DIR": "/d"}) == Path("/d")


@pytest.mark.parametrize("port", ["/etc/passwd", "/tmp", "/dev/null", "/dev/zero", "/etc/passwd/x"])
def test_port_that_exists_but_is_no_serial_device_is_refused(port: str) -> None:
    with pytest.raises(ConfigError) as info:
        MeterConfig().updated({"port": port})
    assert set(info.value.fields) == {"port"}


def test_port_link_to_a_regular_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("secret")
    (tmp_path / "ttyFAKE").symlink_to(target)
    with pytest.raises(ConfigError, match="not a serial device"):
        MeterConfig().updated({"port": str(tmp_path / "ttyFAKE")})


def test_port_link_to_a_pty_is_accepted(emulator: EmulatorHost) -> None:
    assert MeterConfig().updated({"port": str(emulator.link)}).port == str(emulator.link)


def test_port_that_does_not_exist_yet_is_accepted(tmp_path: Path) -> None:
    for port in (str(tmp_path / "ttyACM3"), "/dev/serial/by-id/usb-RuiDeng-not-plugged"):
        assert MeterConfig().updated({"port": port}).port == port
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "not-yet")
    assert MeterConfig().updated({"port": str(dangling)}).port == str(dangling)


def test_unknown_setting_names_are_shortened_in_errors() -> None:
    with pytest.raises(ConfigError) as info:
        MeterConfig().updated({"x" * 10_000: 1})
    (name,) = info.value.fields
    assert len(name) <= cfg.MAX_SHOWN_KEY + 3 and name.endswith("...")
    assert len(str(info.value)) < 200


def test_failed_save_raises_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    cfg.save(path, MeterConfig("/dev/ttyACM1", 2.0, 30))
    path.with_suffix(".tmp").mkdir()  # the temp file cannot be written
    with pytest.raises(cfg.ConfigSaveError, match="cannot save the configuration"):
        cfg.save(path, MeterConfig("/dev/ttyACM1", 5.0, 30))
    assert cfg.load_saved(path)["polling_interval"] == 2.0


def test_allowed_hosts_come_from_flags_else_the_environment() -> None:
    assert allowed_hosts_of(["a", "b:81"], "c") == ("a", "b:81")
    assert allowed_hosts_of(None, "c, d:81  e") == ("c", "d:81", "e")
    assert allowed_hosts_of(None, None) == ()
    check_allowed_host("pi.local:5000")
    check_allowed_host("*")
    for bad in ("http://pi.local", "pi.local/x", "pi local", ""):
        with pytest.raises(ConfigError, match="--allowed-host"):
            check_allowed_host(bad)
