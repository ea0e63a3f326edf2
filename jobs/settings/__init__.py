"""Configuration: YAML files in conf/ loaded once into frozen dataclasses.

`--set dotted.key=value` overrides are applied to the raw YAML before it is frozen, so a
scheduler can change any setting without editing files (`matching.*`: matching.yaml's).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jobs.errors import ConfigError
from jobs.settings.files import CONF_DIR, EXPECTATIONS_DIR, apply_overrides, read_yaml
from jobs.settings.matching import (
    COMPARATORS,
    KEYS,
    NEAR,
    PARTS,
    REFINES,
    BlockRule,
    LevelRule,
    LinkageConf,
    MatchingConf,
    load_matching,
    matching_conf,
)
from jobs.settings.normalise import CountriesConf, NormaliseConf, load_normalise

__all__ = [
    "COMPARATORS", "CONF_DIR", "DEMO_HASH_KEY", "EXPECTATIONS_DIR", "FIELDS", "IDENTIFYING",
    "KEYS", "NEAR", "PARTS", "REFINES", "SAMPLE_FIELDS", "BlockRule", "Config", "CountriesConf",
    "CrosscheckConf", "LevelRule", "LinkageConf",
    "MatchingConf", "NormaliseConf", "ProvenanceConf", "SampleConf", "SourceConf", "VerdictConf",
    "apply_overrides", "load_config", "load_matching", "load_normalise", "matching_conf",
]  # fmt: skip

DEMO_HASH_KEY = "crosscheck-DEMO-KEY-do-not-use-in-production"
FIELDS = ("email", "phone", "name", "address")
# the sample columns a dump can be mapped onto, and those that identify a person
SAMPLE_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "street",
    "house_number",
    "postcode",
    "city",
    "country",
    "date_of_birth",  # compared by record linkage where the warehouse holds it too
)
IDENTIFYING = ("name", "first_name", "last_name", "email", "phone", "address", "street")


@dataclass(frozen=True)
class SourceConf:
    """One warehouse role (customers/addresses/orders) mapped onto a company table."""

    columns: Mapping[str, str]
    table: str | None = None
    path: str | None = None
    format: str = "delta"
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleConf:
    path: str | None
    encoding: str = "auto"  # per file: byte-order mark, UTF-8, else charset-normalizer
    mapping: Mapping[str, str] = field(default_factory=dict)
    default_country: str | None = None
    delimiters: tuple[str, ...] = (",", ";", "\t", "|", ":")


@dataclass(frozen=True)
class CrosscheckConf:
    fields: tuple[str, ...] = FIELDS
    max_customers_per_key: int = 1000
    max_customers_unconfirmed: int = 50  # a line's widest key lists customers up to this
    broadcast_sample_keys_max: int = 20_000_000
    fuzzy_broadcast_rows_max: int = 5_000_000  # sample fuzzy rows sent whole to every task
    exact_pairs_flagged: int = 50_000_000  # the report flags a field whose join exceeds this
    fuzzy: bool = True  # fuzzy names/addresses, weak e-mail/phone levels (matching.yaml)


@dataclass(frozen=True)
class VerdictConf:
    match_same_record_rate: float = 0.01
    match_identifier_rate: float = 0.01
    chance_factor: float = 5.0  # same-record lines must exceed this many times chance
    max_unparsed_share: float = 0.5  # more lines quarantined than this: never NO_MATCH


STORED_KINDS = SAMPLE_FIELDS  # by default every identifying column a sample maps to
NEVER_COLLECTED = ("password", "national_id", "credit_card", "date_of_birth")


@dataclass(frozen=True)
class ProvenanceConf:
    """Evidence beyond matching: canaries, recycled samples, profile and schema fingerprints."""

    canary_ids: tuple[str, ...] = ()  # customer ids of honeytoken records, never used anywhere
    canary_table: str | None = None  # or a Delta path / catalog table with a customer_id column
    canary_fields: tuple[str, ...] = FIELDS  # fields on which a canary match is decisive
    recycled_threshold: float = 0.5  # share of keys seen in one earlier sample -> RECYCLED
    recycled_fields: tuple[str, ...] = ("email", "phone")  # fields that share is taken over
    recycled_min_keys: int = 10  # fewer distinct keys than this in those fields: never RECYCLED
    profile_top_n: int = 5  # values per dimension shown in the reports
    profile_min_count: int = 5  # rarer values are bucketed as "(other)", on both sides
    profile_refresh_share: float = 0.05  # refreshed customers share that keeps the profile
    divergence_threshold: float = 0.2  # Jensen-Shannon divergence (0..1) flagged as different
    content_min_share: float = 0.6  # share of a column's values a content kind must reach
    stored_kinds: tuple[str, ...] = STORED_KINDS  # sample column kinds the company stores
    never_collected: tuple[str, ...] = NEVER_COLLECTED  # kinds it never collects


@dataclass(frozen=True)
class Config:
    lakehouse: str
    reports_dir: str
    run_id: str | None
    hash_key_env: str
    tables_prefix: str
    spark_master: str | None
    spark_conf: Mapping[str, str]
    sample: SampleConf
    warehouse: Mapping[str, SourceConf]
    rebuild_index: bool
    index_full_rebuild_share: float
    index_max_records_per_file: int
    crosscheck: CrosscheckConf
    verdict: VerdictConf
    normalise: NormaliseConf
    headers: Mapping[str, tuple[str, ...]]
    matching: MatchingConf
    provenance: ProvenanceConf = field(default_factory=ProvenanceConf)
    hash_key_secret: str | None = None  # "scope/key" of a Databricks secret, where no env var

    def hash_key(self) -> tuple[str, bool]:
        """The secret for keyed hashes and whether it is the public demo key."""
        key = os.environ.get(self.hash_key_env)
        return (key, False) if key else (DEMO_HASH_KEY, True)

    def warehouse_maps(self, column: str) -> bool:
        """Whether a warehouse role maps this column (a `date_of_birth` is optional)."""
        return _maps(self.warehouse, column)

    def table(self, name: str) -> str:
        """Location of one of crosscheck's own Delta tables (a path, or a catalog name)."""
        if self.tables_prefix:
            return f"{self.tables_prefix}{name}"
        return f"{self.lakehouse.rstrip('/')}/{name}"


def _source(role: str, raw: Any) -> SourceConf:
    if not isinstance(raw, dict) or "columns" not in raw:
        raise ConfigError(f"warehouse.{role}: needs `columns` and `table` or `path`")
    if not raw.get("table") and not raw.get("path"):
        raise ConfigError(f"warehouse.{role}: give `table` or `path`")
    return SourceConf(
        columns=dict(raw["columns"]),
        table=raw.get("table"),
        path=raw.get("path"),
        format=str(raw.get("format", "delta")),
        options=dict(raw.get("options") or {}),
    )


def _provenance_conf(raw: Mapping[str, Any] | None) -> ProvenanceConf:
    """The `provenance:` section; lists become tuples, ids strings (they compare with the
    index's string customer ids)."""
    raw = dict(raw or {})
    lists = ("canary_ids", "canary_fields", "recycled_fields", "stored_kinds", "never_collected")
    for key in lists:
        if key in raw:
            raw[key] = tuple(str(v) for v in (raw[key] or ()))
    floats = (
        "recycled_threshold",
        "divergence_threshold",
        "content_min_share",
        "profile_refresh_share",
    )
    ints = ("recycled_min_keys", "profile_top_n", "profile_min_count")
    try:
        for key in floats:
            if key in raw:
                raw[key] = float(raw[key])
        for key in ints:
            if key in raw:
                raw[key] = int(raw[key])
        conf = ProvenanceConf(**raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"provenance: bad or unknown setting ({exc})") from None
    unknown = (set(conf.canary_fields) | set(conf.recycled_fields)) - set(FIELDS)
    if unknown:
        raise ConfigError(f"provenance: unknown field(s) {sorted(unknown)}")
    return conf


def _maps(warehouse: Mapping[str, SourceConf], column: str) -> bool:
    return any(column in src.columns for src in warehouse.values())


def _with_warehouse_kinds(
    conf: ProvenanceConf, warehouse: Mapping[str, SourceConf]
) -> ProvenanceConf:
    """A column kind the warehouse maps (a `date_of_birth` column) is one the company stores,
    whatever `never_collected` lists by default: a sample holding it is not told apart by it."""
    extra = [k for k in ("date_of_birth",) if _maps(warehouse, k) and k not in conf.stored_kinds]
    if not extra:
        return conf
    return replace(
        conf,
        stored_kinds=(*conf.stored_kinds, *extra),
        never_collected=tuple(k for k in conf.never_collected if k not in extra),
    )


def _with_base(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """`extends: default` (the shipped conf/pipeline.yaml) or `extends: <file>` (beside this
    one): the base file's sections, each section this file gives replacing the base's whole."""
    base = raw.pop("extends", None)
    if base is None:
        return raw
    base_path = CONF_DIR / "pipeline.yaml" if base == "default" else path.parent / str(base)
    if base_path.resolve() == path.resolve():
        raise ConfigError(f"{path}: `extends` names the file itself")
    return {**_with_base(read_yaml(base_path), base_path), **raw}


def _crosscheck_conf(raw: dict[str, Any], conf_path: Path) -> tuple[CrosscheckConf, VerdictConf]:
    """The `crosscheck:` and `verdict:` sections, numbers coerced, fields checked."""
    try:
        given = CrosscheckConf(**(raw.get("crosscheck") or {}))
        crosscheck = CrosscheckConf(
            fields=tuple(given.fields),
            max_customers_per_key=int(given.max_customers_per_key),
            max_customers_unconfirmed=int(given.max_customers_unconfirmed),
            broadcast_sample_keys_max=int(given.broadcast_sample_keys_max),
            fuzzy_broadcast_rows_max=int(given.fuzzy_broadcast_rows_max),
            exact_pairs_flagged=int(given.exact_pairs_flagged),
            fuzzy=bool(given.fuzzy),
        )
        verdict = VerdictConf(**{k: float(v) for k, v in (raw.get("verdict") or {}).items()})
    except TypeError as exc:
        raise ConfigError(f"{conf_path}: unknown setting ({exc})") from None
    unknown = set(crosscheck.fields) - set(FIELDS)
    if unknown:
        raise ConfigError(f"crosscheck.fields: unknown field(s) {sorted(unknown)}")
    return crosscheck, verdict


# `--set matching.linkage.one_to_one=true` overrides matching.yaml's `linkage.one_to_one`.
MATCHING_PREFIX = "matching."


def _existing_setting(raw: Mapping[str, Any], key: str) -> None:
    """matching.yaml's reader ignores unknown keys: an override must name a setting the file
    has, or a typo would change nothing, silently."""
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"--set {MATCHING_PREFIX}{key}: matching.yaml has no such setting")
        node = node[part]


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load pipeline.yaml (plus normalise.yaml, headers.yaml and matching.yaml beside it) into
    a Config; overrides starting with `matching.` apply to matching.yaml."""
    conf_path = Path(path) if path else CONF_DIR / "pipeline.yaml"
    overrides = list(overrides or [])
    own = [o for o in overrides if not o.startswith(MATCHING_PREFIX)]
    raw = apply_overrides(_with_base(read_yaml(conf_path), conf_path), own)
    conf_dir = conf_path.parent
    headers_path = conf_dir / "headers.yaml"
    headers_raw = read_yaml(headers_path if headers_path.exists() else CONF_DIR / "headers.yaml")

    lakehouse = str(raw.get("lakehouse") or "lakehouse")
    sample = raw.get("sample") or {}
    spark = raw.get("spark") or {}
    index = raw.get("index") or {}
    crosscheck, verdict = _crosscheck_conf(raw, conf_path)
    warehouse = raw.get("warehouse") or {}
    if "customers" not in warehouse:
        raise ConfigError("warehouse: the `customers` role is required")
    matching_path = conf_dir / "matching.yaml"
    matching_raw = read_yaml(
        matching_path if matching_path.exists() else CONF_DIR / "matching.yaml"
    )
    matching_overrides = [
        o.removeprefix(MATCHING_PREFIX) for o in overrides if o.startswith(MATCHING_PREFIX)
    ]
    for item in matching_overrides:
        _existing_setting(matching_raw, item.partition("=")[0])
    matching = matching_conf(apply_overrides(matching_raw, matching_overrides))
    sources = {role: _source(role, src) for role, src in warehouse.items() if src}
    return Config(
        lakehouse=lakehouse,
        reports_dir=str(raw.get("reports_dir") or f"{lakehouse.rstrip('/')}/reports"),
        run_id=str(raw["run_id"]) if raw.get("run_id") else None,
        hash_key_env=str(raw.get("hash_key_env") or "CROSSCHECK_HASH_KEY"),
        hash_key_secret=str(raw["hash_key_secret"]) if raw.get("hash_key_secret") else None,
        tables_prefix=str(raw.get("tables_prefix") or ""),
        spark_master=spark.get("master"),
        spark_conf={str(k): str(v) for k, v in (spark.get("conf") or {}).items()},
        sample=SampleConf(
            path=sample.get("path"),
            encoding=str(sample.get("encoding") or "auto"),
            mapping=dict(sample.get("mapping") or {}),
            default_country=sample.get("default_country"),
            delimiters=tuple(sample.get("delimiters") or SampleConf.delimiters),
        ),
        warehouse=sources,
        rebuild_index=bool(index.get("rebuild", False)),
        index_full_rebuild_share=float(index.get("full_rebuild_share", 0.2)),
        index_max_records_per_file=int(index.get("max_records_per_file", 2_000_000)),
        crosscheck=crosscheck,
        verdict=verdict,
        normalise=load_normalise(conf_dir),
        headers={k: tuple(str(x) for x in v) for k, v in headers_raw.items()},
        matching=matching,
        provenance=_with_warehouse_kinds(_provenance_conf(raw.get("provenance")), sources),
    )
