"""conf/normalise.yaml and conf/countries.yaml: the reference data of the column builders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.errors import ConfigError
from jobs.settings.files import CONF_DIR, read_yaml


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
    flat_words: tuple[str, ...] = ()  # a segment of one of these and a number is a flat
    flat_suffixes: tuple[str, ...] = ()  # or of a number and one of these


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
        "flat_words": tuple(str(v) for v in address.get("flat_words") or ()),
        "flat_suffixes": tuple(str(v) for v in address.get("flat_suffixes") or ()),
    }


def load_normalise(conf_dir: Path | None = None) -> NormaliseConf:
    """normalise.yaml and countries.yaml from `conf_dir` (each falls back to the shipped one)."""

    def read(name: str) -> dict[str, Any]:
        path = (conf_dir or CONF_DIR) / name
        return read_yaml(path if path.exists() else CONF_DIR / name)

    return _normalise_conf(read("normalise.yaml"), read("countries.yaml"))
