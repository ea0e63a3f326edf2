"""Configuration: YAML files in conf/ loaded once into frozen dataclasses.

`--set dotted.key=value` overrides are applied to the raw YAML before it is frozen, so a
scheduler can change any setting without editing files.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import zipfile
import zipimport
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from jobs.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Where the `conf` or `expectations` folder is, however the package was installed.

    A wheel carries them as package data (`jobs/conf`), a checkout has them at its top level,
    and spark-submit's `--py-files` zip holds them as `jobs/<name>/` members: those are
    unpacked once per process, because the YAML and JSON readers need real files.
    """
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    loader = globals().get("__loader__")
    if isinstance(loader, zipimport.zipimporter):
        return _unzip(loader.archive, f"jobs/{name}/")
    return PACKAGE_DIR.parent / name  # missing everywhere: the reader names this path


def _unzip(archive: str, prefix: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="crosscheck-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if m.startswith(prefix) and not m.endswith("/")]
        zf.extractall(target, members)
    return target / prefix


CONF_DIR = resource_dir("conf")
EXPECTATIONS_DIR = resource_dir("expectations")
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
    encoding: str = "utf-8"
    mapping: Mapping[str, str] = field(default_factory=dict)
    default_country: str | None = None
    delimiters: tuple[str, ...] = (",", ";", "\t", "|", ":")


@dataclass(frozen=True)
class CrosscheckConf:
    fields: tuple[str, ...] = FIELDS
    max_customers_per_key: int = 1000
    max_customers_unconfirmed: int = 1  # a line's widest key lists customers up to this
    broadcast_sample_keys_max: int = 20_000_000
    fuzzy_broadcast_rows_max: int = 5_000_000  # sample fuzzy rows sent whole to every task
    pair_budget: int = 50_000_000
    fuzzy: bool = True  # fuzzy names/addresses, weak e-mail/phone levels (matching.yaml)


@dataclass(frozen=True)
class VerdictConf:
    match_same_record_rate: float = 0.01
    match_identifier_rate: float = 0.01
    chance_factor: float = 5.0  # same-record lines must exceed this many times chance


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
    divergence_threshold: float = 0.2  # Jensen-Shannon divergence (0..1) flagged as different
    content_min_share: float = 0.6  # share of a column's values a content kind must reach
    stored_kinds: tuple[str, ...] = STORED_KINDS  # sample column kinds the company stores
    never_collected: tuple[str, ...] = NEVER_COLLECTED  # kinds it never collects


@dataclass(frozen=True)
class CountriesConf:
    """conf/countries.yaml as hashable tuples: (alpha-2, (alpha-3, names...)) per country,
    (domain, alpha-2) for e-mail domains that differ from the code, and generic ccTLDs."""

    names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    email_tlds: tuple[tuple[str, str], ...] = ()
    generic_tlds: tuple[str, ...] = ()


@dataclass(frozen=True)
class NormaliseConf:
    domain_aliases: Mapping[str, str]
    dotless_domains: tuple[str, ...]
    plus_tag_domains: tuple[str, ...]
    phone_countries: Mapping[str, tuple[str, str]]
    abbreviations: Mapping[str, str]
    countries: CountriesConf = field(default_factory=CountriesConf)
    # phone_numbering: national number lengths, pattern and international prefix per country
    phone_lengths: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    phone_patterns: Mapping[str, str] = field(default_factory=dict)
    phone_idd: Mapping[str, str] = field(default_factory=dict)
    # address: postcode shapes, city and region words (country names: `countries`)
    postcodes: Mapping[str, str] = field(default_factory=dict)
    postcode_any: tuple[str, ...] = ()
    city_prefixes: tuple[str, ...] = ()
    region_words: tuple[str, ...] = ()


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

    def hash_key(self) -> tuple[str, bool]:
        """The secret for keyed hashes and whether it is the public demo key."""
        key = os.environ.get(self.hash_key_env)
        return (key, False) if key else (DEMO_HASH_KEY, True)

    def table(self, name: str) -> str:
        """Location of one of crosscheck's own Delta tables (a path, or a catalog name)."""
        if self.tables_prefix:
            return f"{self.tables_prefix}{name}"
        return f"{self.lakehouse.rstrip('/')}/{name}"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b.c=value` overrides; values are parsed as YAML (numbers, booleans, lists)."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        node = raw
        parts = key.split(".")
        if key.startswith("spark.conf.") and len(parts) > 3:  # Spark keys contain dots
            parts = ["spark", "conf", key.removeprefix("spark.conf.")]
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {key}: {part} is not a section")
            node = child
        node[parts[-1]] = yaml.safe_load(value) if value != "" else None
    return raw


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


def _countries_conf(raw: dict[str, Any]) -> CountriesConf:
    countries = raw.get("countries") or {}
    if not isinstance(countries, dict):
        raise ConfigError("countries.yaml: `countries` must map ISO alpha-2 codes to name lists")
    return CountriesConf(
        names=tuple(
            (str(code).upper(), tuple(str(n) for n in names or ()))
            for code, names in countries.items()
        ),
        email_tlds=tuple(
            (str(k).lower(), str(v).upper()) for k, v in (raw.get("email_tlds") or {}).items()
        ),
        generic_tlds=tuple(str(t).lower() for t in raw.get("generic_tlds") or ()),
    )


def _normalise_conf(raw: dict[str, Any], countries: dict[str, Any] | None = None) -> NormaliseConf:
    email = raw.get("email", {})
    return NormaliseConf(
        countries=_countries_conf(countries or {}),
        domain_aliases=dict(email.get("domain_aliases", {})),
        dotless_domains=tuple(email.get("dotless_domains", ())),
        plus_tag_domains=tuple(email.get("plus_tag_domains", ())),
        phone_countries={k: (str(v[0]), str(v[1])) for k, v in raw["phone_countries"].items()},
        abbreviations=dict(raw.get("address", {}).get("abbreviations", {})),
        **_numbering_and_places(raw),
    )


def _numbering_and_places(raw: dict[str, Any]) -> dict[str, Any]:
    """The `phone_numbering` section and the address reference data besides abbreviations."""
    numbering = raw.get("phone_numbering") or {}
    address = raw.get("address") or {}
    return {
        "phone_lengths": {
            k: tuple(int(n) for n in v.get("lengths", ())) for k, v in numbering.items()
        },
        "phone_patterns": {k: str(v["pattern"]) for k, v in numbering.items() if "pattern" in v},
        "phone_idd": {k: str(v["idd"]) for k, v in numbering.items() if v.get("idd")},
        "postcodes": {k: str(v) for k, v in (address.get("postcodes") or {}).items()},
        "postcode_any": tuple(str(v) for v in address.get("postcode_any") or ()),
        "city_prefixes": tuple(str(v) for v in address.get("city_prefixes") or ()),
        "region_words": tuple(str(v) for v in address.get("region_words") or ()),
    }


def load_normalise(conf_dir: Path | None = None) -> NormaliseConf:
    """normalise.yaml and countries.yaml from `conf_dir` (each falls back to the shipped one)."""

    def read(name: str) -> dict[str, Any]:
        path = (conf_dir or CONF_DIR) / name
        return _read_yaml(path if path.exists() else CONF_DIR / name)

    return _normalise_conf(read("normalise.yaml"), read("countries.yaml"))


def _provenance_conf(raw: Mapping[str, Any] | None) -> ProvenanceConf:
    """The `provenance:` section; lists become tuples, ids strings (they compare with the
    index's string customer ids)."""
    raw = dict(raw or {})
    lists = ("canary_ids", "canary_fields", "recycled_fields", "stored_kinds", "never_collected")
    for key in lists:
        if key in raw:
            raw[key] = tuple(str(v) for v in (raw[key] or ()))
    floats = ("recycled_threshold", "divergence_threshold", "content_min_share")
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


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load pipeline.yaml (plus normalise.yaml and headers.yaml beside it) into a Config."""
    conf_path = Path(path) if path else CONF_DIR / "pipeline.yaml"
    raw = apply_overrides(_read_yaml(conf_path), list(overrides or []))
    conf_dir = conf_path.parent
    headers_path = conf_dir / "headers.yaml"
    headers_raw = _read_yaml(headers_path if headers_path.exists() else CONF_DIR / "headers.yaml")

    lakehouse = str(raw.get("lakehouse") or "lakehouse")
    sample = raw.get("sample") or {}
    spark = raw.get("spark") or {}
    try:
        crosscheck = CrosscheckConf(**{**(raw.get("crosscheck") or {})})
        crosscheck = CrosscheckConf(
            fields=tuple(crosscheck.fields),
            max_customers_per_key=int(crosscheck.max_customers_per_key),
            max_customers_unconfirmed=int(crosscheck.max_customers_unconfirmed),
            broadcast_sample_keys_max=int(crosscheck.broadcast_sample_keys_max),
            fuzzy_broadcast_rows_max=int(crosscheck.fuzzy_broadcast_rows_max),
            pair_budget=int(crosscheck.pair_budget),
            fuzzy=bool(crosscheck.fuzzy),
        )
        verdict = VerdictConf(**{k: float(v) for k, v in (raw.get("verdict") or {}).items()})
    except TypeError as exc:
        raise ConfigError(f"{conf_path}: unknown setting ({exc})") from None
    unknown = set(crosscheck.fields) - set(FIELDS)
    if unknown:
        raise ConfigError(f"crosscheck.fields: unknown field(s) {sorted(unknown)}")
    warehouse = raw.get("warehouse") or {}
    missing = {"customers"} - set(warehouse)
    if missing:
        raise ConfigError("warehouse: the `customers` role is required")
    matching_path = conf_dir / "matching.yaml"
    matching = matching_conf(
        _read_yaml(matching_path if matching_path.exists() else CONF_DIR / "matching.yaml")
    )
    return Config(
        lakehouse=lakehouse,
        reports_dir=str(raw.get("reports_dir") or f"{lakehouse.rstrip('/')}/reports"),
        run_id=str(raw["run_id"]) if raw.get("run_id") else None,
        hash_key_env=str(raw.get("hash_key_env") or "CROSSCHECK_HASH_KEY"),
        tables_prefix=str(raw.get("tables_prefix") or ""),
        spark_master=spark.get("master"),
        spark_conf={str(k): str(v) for k, v in (spark.get("conf") or {}).items()},
        sample=SampleConf(
            path=sample.get("path"),
            encoding=str(sample.get("encoding") or "utf-8"),
            mapping=dict(sample.get("mapping") or {}),
            default_country=sample.get("default_country"),
            delimiters=tuple(sample.get("delimiters") or SampleConf.delimiters),
        ),
        warehouse={role: _source(role, src) for role, src in warehouse.items() if src},
        rebuild_index=bool((raw.get("index") or {}).get("rebuild", False)),
        index_full_rebuild_share=float((raw.get("index") or {}).get("full_rebuild_share", 0.2)),
        index_max_records_per_file=int(
            (raw.get("index") or {}).get("max_records_per_file", 2_000_000)
        ),
        crosscheck=crosscheck,
        verdict=verdict,
        normalise=load_normalise(conf_dir),
        headers={k: tuple(str(x) for x in v) for k, v in headers_raw.items()},
        matching=matching,
        provenance=_provenance_conf(raw.get("provenance")),
    )


# ---- matching rules (conf/matching.yaml) ----------------------------------------------

KEYS = {
    "token_prefix": "name",
    "token_soundex": "name",
    "postcode_number": "address",
    "email_local": "email",
    "phone_tail": "phone",
}
REFINES = {
    "other_token_initial": "name",
    "street_initials": "address",
}
COMPARATORS = ("name_tokens", "dice", "differs")


@dataclass(frozen=True)
class BlockRule:
    """One blocking rule with its comparator: which values meet, how they are scored."""

    name: str
    field: str
    key: str
    comparator: str
    threshold: float
    method: str = "fuzzy"
    refine: str | None = None
    pair_budget: int = 5_000_000
    per_country: bool = False
    length: int = 3  # token_prefix
    digits: int = 9  # phone_tail
    min_length: int = 1  # email_local


@dataclass(frozen=True)
class MatchingConf:
    rules: tuple[BlockRule, ...]
    initial_score: float = 0.85
    heaviest_keys: int = 5

    def for_field(self, field: str) -> tuple[BlockRule, ...]:
        return tuple(r for r in self.rules if r.field == field)


def _rule(raw: Mapping[str, Any], default_budget: int) -> BlockRule:
    name = str(raw.get("name") or "")
    where = f"matching.rules[{name or '?'}]"
    known = set(BlockRule.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(unknown)}")
    key = raw.get("key")
    if not name or key not in KEYS:
        raise ConfigError(f"{where}: needs a name and a key among {sorted(KEYS)}")
    field = raw.get("field", KEYS[key])
    if field != KEYS[key]:
        raise ConfigError(f"{where}: key {key} works on {KEYS[key]}, not {field}")
    refine = raw.get("refine")
    refine = None if refine in (None, "none", "") else str(refine)
    if refine is not None and REFINES.get(refine) != field:
        raise ConfigError(f"{where}: refine {refine} does not apply to {field}")
    comparator = raw.get("comparator")
    if comparator not in COMPARATORS:
        raise ConfigError(f"{where}: comparator must be one of {list(COMPARATORS)}")
    if comparator == "name_tokens" and field != "name":
        raise ConfigError(f"{where}: name_tokens compares names only")
    return BlockRule(
        name=name,
        field=field,
        key=key,
        comparator=comparator,
        threshold=float(raw.get("threshold", 1.0)),
        method=str(raw.get("method", "fuzzy")),
        refine=refine,
        pair_budget=int(raw.get("pair_budget", default_budget)),
        per_country=bool(raw.get("per_country", False)),
        length=int(raw.get("length", 3)),
        digits=int(raw.get("digits", 9)),
        min_length=int(raw.get("min_length", 1)),
    )


def matching_conf(raw: Mapping[str, Any]) -> MatchingConf:
    """Parsed YAML (a mapping) -> MatchingConf, with every rule validated."""
    budget = int(raw.get("pair_budget", 5_000_000))
    rules = tuple(_rule(r, budget) for r in raw.get("rules") or [])
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ConfigError("matching.rules: rule names must be unique")
    return MatchingConf(
        rules=rules,
        initial_score=float(raw.get("initial_score", 0.85)),
        heaviest_keys=int(raw.get("heaviest_keys", 5)),
    )


def load_matching(path: str | Path | None = None) -> MatchingConf:
    """conf/matching.yaml (or `path`) -> MatchingConf."""
    return matching_conf(_read_yaml(Path(path) if path else CONF_DIR / "matching.yaml"))
