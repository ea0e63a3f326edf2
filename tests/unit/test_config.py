"""Config is data: YAML into frozen dataclasses, `--set` overrides, clear errors."""

from __future__ import annotations

import dataclasses

import pytest

from jobs.errors import ConfigError
from jobs.settings import DEMO_HASH_KEY, load_config


def test_defaults_load_and_are_frozen():
    cfg = load_config()
    assert cfg.crosscheck.fields == ("email", "phone", "name", "address")
    assert cfg.normalise.phone_countries["NO"] == ("47", "")  # "NO" is not YAML's false
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lakehouse = "elsewhere"  # type: ignore[misc]


def test_overrides_are_parsed_as_yaml():
    cfg = load_config(
        overrides=["lakehouse=/tmp/x", "crosscheck.max_customers_per_key=7", "index.rebuild=true"]
    )
    assert cfg.lakehouse == "/tmp/x"
    assert cfg.table("evidence") == "/tmp/x/evidence"
    assert cfg.crosscheck.max_customers_per_key == 7
    assert cfg.rebuild_index is True


def test_catalog_prefix_names_tables():
    assert load_config(overrides=["tables_prefix=crosscheck."]).table("evidence") == (
        "crosscheck.evidence"
    )


@pytest.mark.parametrize(
    "override",
    ["novalue", "crosscheck.fields=[email, shoe_size]", "crosscheck.unknown_knob=1"],
)
def test_bad_settings_are_config_errors(override):
    with pytest.raises(ConfigError):
        load_config(overrides=[override])


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_hash_key_from_environment(monkeypatch):
    cfg = load_config()
    monkeypatch.delenv("CROSSCHECK_HASH_KEY", raising=False)
    assert cfg.hash_key() == (DEMO_HASH_KEY, True)
    monkeypatch.setenv("CROSSCHECK_HASH_KEY", "real-secret")
    assert cfg.hash_key() == ("real-secret", False)
