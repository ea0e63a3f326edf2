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


def test_matching_overrides_reach_matching_yaml():
    """`matching.*` goes to matching.yaml (a one-line-per-person sample turns one_to_one on
    without a conf folder of its own); a setting matching.yaml does not have is an error."""
    default = load_config()
    cfg = load_config(
        overrides=["matching.linkage.one_to_one=true", "matching.linkage.threshold=0.9"]
    )
    assert default.matching.linkage.one_to_one is False
    assert cfg.matching.linkage.one_to_one is True
    assert cfg.matching.linkage.threshold == 0.9
    assert cfg.matching.rules == default.matching.rules
    with pytest.raises(ConfigError, match="matching.linkage.one_to_on"):
        load_config(overrides=["matching.linkage.one_to_on=true"])
    with pytest.raises(ConfigError, match="no such setting"):
        load_config(overrides=["matching.linkage.threshold.x=1"])


def test_a_mapped_date_of_birth_is_a_kind_we_store():
    default = load_config().provenance
    assert "date_of_birth" in default.never_collected
    assert "date_of_birth" not in default.stored_kinds
    mapped = load_config(
        overrides=["warehouse.customers.columns.date_of_birth=birth_date"]
    ).provenance
    assert "date_of_birth" in mapped.stored_kinds
    assert "date_of_birth" not in mapped.never_collected
    assert mapped.never_collected == tuple(
        k for k in default.never_collected if k != "date_of_birth"
    )


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


class _Secrets:
    """The runtime's `dbutils.secrets`: one scope holding one key."""

    def get(self, scope: str, key: str) -> str:
        if (scope, key) != ("crosscheck", "hash_key"):
            raise PermissionError("no such secret")
        return "from-the-scope"


@pytest.fixture
def databricks_runtime(monkeypatch):
    """What a Databricks runtime gives the job: its version variable and dbutils."""
    import sys
    import types

    runtime = types.ModuleType("databricks.sdk.runtime")
    runtime.dbutils = types.SimpleNamespace(secrets=_Secrets())
    for name in ("databricks", "databricks.sdk"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "databricks.sdk.runtime", runtime)
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "client.4.0")
    monkeypatch.delenv("CROSSCHECK_HASH_KEY", raising=False)


def test_serverless_reads_the_hash_key_from_the_secret_scope(databricks_runtime, monkeypatch):
    """No env var on serverless: `hash_key_secret` (the bundle's `--set`) names the secret;
    the env var still wins where a job cluster sets it."""
    from jobs.steps.common import hash_key

    config = load_config(overrides=["hash_key_secret=crosscheck/hash_key"])
    assert hash_key(config) == "from-the-scope"
    monkeypatch.setenv("CROSSCHECK_HASH_KEY", "from-the-cluster")
    assert hash_key(config) == "from-the-cluster"


@pytest.mark.parametrize("ref", ["crosscheck/other", "crosscheck"])
def test_a_secret_that_cannot_be_read_is_a_config_error(databricks_runtime, ref):
    from jobs.steps.common import hash_key

    with pytest.raises(ConfigError, match="crosscheck") as err:
        hash_key(load_config(overrides=[f"hash_key_secret={ref}"]))
    assert "from-the-scope" not in str(err.value)


def test_without_a_runtime_the_secret_setting_is_not_read(monkeypatch):
    """Off Databricks (local, spark-submit) the setting changes nothing: the env var or the
    demo key."""
    from jobs.steps.common import hash_key

    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.delenv("CROSSCHECK_HASH_KEY", raising=False)
    assert hash_key(load_config(overrides=["hash_key_secret=crosscheck/hash_key"])) == DEMO_HASH_KEY
