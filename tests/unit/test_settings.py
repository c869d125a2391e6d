"""Typed settings: defaults run, bad keys are named, secrets stay out of files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.settings import ConfigError, load_settings
from dashboard.sources import build_sources


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shanting.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_run_on_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, f'data_dir = "{tmp_path}"\n'))
    assert settings.server.port == 8050 and settings.server.host == "127.0.0.1"
    assert settings.resolved_store_url == f"sqlite:///{tmp_path}/shanting.db"
    assert settings.language == "zh-CN"


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'sever' \(did you mean 'server'\?\)"):
        load_settings(write(tmp_path, "[sever]\nport = 1\n"))
    with pytest.raises(ConfigError, match=r"unknown key 'server.prot' \(did you mean 'port'\?\)"):
        load_settings(write(tmp_path, "[server]\nprot = 1\n"))


def test_bad_value_names_the_key_and_the_allowed_range(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server.port: Input should be less than or equal to 65535 \(got 70000\)"):
        load_settings(write(tmp_path, "[server]\nport = 70000\n"))
    with pytest.raises(ConfigError, match=r"simulator.scale: Input should be 1 or 10"):
        load_settings(write(tmp_path, "[simulator]\nscale = 3\n"))


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHANTING_SERVER__PORT", "8061")
    assert load_settings(write(tmp_path, "[server]\nport = 8060\n")).server.port == 8061


def test_secrets_are_refused_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="secret_key is a secret; set SHANTING_SECRET_KEY"):
        load_settings(write(tmp_path, 'secret_key = "hunter2"\n'))
    with pytest.raises(ConfigError, match="store_url contains a password"):
        load_settings(write(tmp_path, 'store_url = "postgresql://u:pw@127.0.0.1/test"\n'))
    monkeypatch.setenv("SHANTING_SECRET_KEY", "from-env")
    assert load_settings(write(tmp_path, "")).secret_key.get_secret_value() == "from-env"


def test_feed_routes_must_name_known_feeds_and_sources(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown feed 'air_reading' \\(did you mean 'air_readings'\\?\\)"):
        load_settings(write(tmp_path, '[feeds]\nair_reading = "store"\n'))
    with pytest.raises(ConfigError, match=r"feeds\.air_readings: no source named 'sim'"):
        load_settings(write(tmp_path, '[feeds]\nair_readings = "sim"\n'))


def test_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, f'data_dir = "{tmp_path}"\n[sources.x]\nkind = "sqll"\n'))
    with pytest.raises(
        ConfigError,
        match=r"sources.x: unknown datasource kind 'sqll' \(did you mean 'sql'\?\); "
        r"known kinds: files, http, sql, synthetic",
    ):
        build_sources(settings)


def test_kind_options_are_checked_by_the_kind(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, f'data_dir = "{tmp_path}"\n[sources.sim]\nkind = "synthetic"\nscael = 10\n')
    )
    with pytest.raises(
        ConfigError, match=r"sources.sim: source 'sim' \(synthetic\): scael: Extra inputs are not permitted"
    ):
        build_sources(settings)


def test_missing_or_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[server\n"))


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings = load_settings(write(tmp_path, f'data_dir = "{blocker}/sub"\n'))
    with pytest.raises(ConfigError, match=r"data directory \S+ cannot be created"):
        build_sources(settings)


def test_tile_layer_must_declare_its_datum(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"tiles.datum: Field required"):
        load_settings(write(tmp_path, '[tiles]\nurl = "http://t/{z}/{x}/{y}.png"\nattribution = "x"\n'))
    settings = load_settings(
        write(tmp_path, '[tiles]\nurl = "http://t/{z}/{x}/{y}.png"\nattribution = "x"\ndatum = "gcj02"\n')
    )
    assert settings.tiles is not None and settings.tiles.datum == "gcj02"
    with pytest.raises(ConfigError, match=r"choropleth_kpi: Input should be 'working_rate'"):
        load_settings(write(tmp_path, 'choropleth_kpi = "star"\n'))
