"""Column builders that give every sample line a country, and say which part of it told.

A national phone number (`0157 33131601`) is only a number once its country is known, and
samples rarely have a country column: the country is then read, in this order, from the
address's last part (`..., Deutschland`), the phone's international prefix, the e-mail's
country-code domain, and last `sample.default_country`. All native Spark expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.normalise.common import lit_map
from jobs.normalise.text import clean_name, fold_name
from jobs.settings import CountriesConf

# Where a line's country came from, in the order they are tried.
COUNTRY_SOURCES = ("column", "address", "phone", "email", "default")
NO_SOURCE = "none"


def normalise_country(col: Column) -> Column:
    """ISO 3166 alpha-2 upper case; anything else is null."""
    c = F.upper(F.trim(col))
    c = F.when(c == "UK", F.lit("GB")).otherwise(c)
    return F.when(c.rlike("^[A-Z]{2}$"), c)


@dataclass(frozen=True)
class CountryTable:
    """conf/countries.yaml ready for look-ups: folded name or code -> ISO alpha-2."""

    names: Mapping[str, str]
    email_tlds: Mapping[str, str]
    generic_tlds: tuple[str, ...]


@lru_cache(maxsize=4)
def country_table(conf: CountriesConf) -> CountryTable:
    """Every code and name of `conf` folded, mapped to its alpha-2 code (first listed wins)."""
    names: dict[str, str] = {}
    for code, entries in conf.names:
        for name in (code, *entries):
            names.setdefault(fold_name(name), code)
    return CountryTable(names, dict(conf.email_tlds), conf.generic_tlds)


@lru_cache(maxsize=8)
def _map(pairs: tuple[tuple[str, str], ...]) -> Column:
    return lit_map(dict(pairs))


def _lookup(table: Mapping[str, str], key: Column) -> Column:
    return F.try_element_at(_map(tuple(sorted(table.items()))), key)


def country_of(text: Column, conf: CountryTable) -> Column:
    """An ISO alpha-2 code from a country written as a code or a name in any listed
    language (`de`, `DEU`, `Deutschland`, `Germany`); null when it names none."""
    return _lookup(conf.names, clean_name(text))


def address_country(address: Column, conf: CountryTable) -> Column:
    """The country a free-text address ends with: its last comma part, else its last one or
    two words (`... 2235 NT Leiden Netherlands`). Null when it names none."""
    last = F.trim(F.substring_index(address, ",", -1))
    words = F.split(clean_name(address), " ")
    n = F.size(words)
    tail2 = F.when(n >= 3, F.concat_ws(" ", F.slice(words, -2, 2)))
    tail1 = F.when(n >= 2, F.element_at(words, -1))
    named = F.when(F.length(tail1) > 2, _lookup(conf.names, tail1))  # no bare 2-letter word
    return F.coalesce(country_of(last, conf), _lookup(conf.names, tail2), named)


def calling_code_countries(phone_countries: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Calling code -> the first country listed with it (US before CA for +1)."""
    out: dict[str, str] = {}
    for country, (code, _) in phone_countries.items():
        out.setdefault(code, country)
    return out


def phone_country(clean_phone: Column, phone_countries: Mapping[str, tuple[str, str]]) -> Column:
    """The country of a cleaned phone written internationally (`+49...`, `0049...`): its
    calling code, longest first (codes are prefix-free). Null for national numbers."""
    digits = F.when(clean_phone.startswith("+"), F.substring(clean_phone, 2, 99)).when(
        clean_phone.startswith("00"), F.substring(clean_phone, 3, 99)
    )
    table = calling_code_countries(phone_countries)
    return F.coalesce(*[_lookup(table, F.substring(digits, 1, n)) for n in (3, 2, 1)])


def email_country(clean_email: Column, conf: CountryTable) -> Column:
    """The country of an e-mail's country-code domain (`.de`, `.co.jp`, `.uk`); null for
    generic domains (`.com`, and ccTLDs used as generic ones, such as `.io`)."""
    tld = F.lower(F.substring_index(F.substring_index(clean_email, "@", -1), ".", -1))
    generic = tld.isin(*conf.generic_tlds) if conf.generic_tlds else F.lit(False)
    iso = F.coalesce(_lookup(conf.email_tlds, tld), F.upper(tld))
    known = _lookup(conf.names, F.lower(iso)).isNotNull()
    return F.when((F.length(tld) == 2) & ~generic & known, iso)


def resolve_country(candidates: Mapping[str, Column]) -> tuple[Column, Column]:
    """(country, source): the first candidate, in `COUNTRY_SOURCES` order, that gives one."""
    country = F.coalesce(*[candidates[s] for s in COUNTRY_SOURCES if s in candidates])
    source = reduce(
        lambda acc, s: acc.when(candidates[s].isNotNull(), F.lit(s)),
        [s for s in COUNTRY_SOURCES if s in candidates],
        F.when(F.lit(False), F.lit(None).cast("string")),
    )
    return country, F.coalesce(source, F.lit(NO_SOURCE))


def country_conflict(
    candidates: Mapping[str, Column], phone_countries: Mapping[str, tuple[str, str]]
) -> Column:
    """True when two sources of a line name different countries (an address in FR with a
    +49 phone). Compared by calling code, so US and CA (+1) or RU and KZ (+7) agree with a
    phone's prefix, which cannot tell them apart."""
    codes = {c: cc for c, (cc, _) in phone_countries.items()}
    told = [
        F.coalesce(_lookup(codes, candidates[s]), candidates[s])
        for s in COUNTRY_SOURCES
        if s in candidates and s != "default"
    ]
    return F.size(F.array_distinct(F.array_compact(F.array(*told)))) > 1


def country_counts(normalised: DataFrame) -> DataFrame:
    """sample_normalised rows of a run -> (country_source, country, lines, conflicts): how
    many lines each source placed in each country, and how many of them had sources that
    disagree. Counts only: what the report shows."""
    return normalised.groupBy("country_source", "country").agg(
        F.count(F.lit(1)).alias("lines"),
        F.sum(F.col("country_conflict").cast("int")).alias("conflicts"),
    )


def country_section(rows: list[Mapping]) -> dict:
    """`country_counts` rows -> the report's `countries` section: lines per source (every
    source listed, 0 included), lines per country, and conflicting lines."""
    by_source = dict.fromkeys((*COUNTRY_SOURCES, NO_SOURCE), 0)
    by_country: dict[str, int] = {}
    conflicts = 0
    for r in rows:
        by_source[r["country_source"]] = by_source.get(r["country_source"], 0) + r["lines"]
        if r["country"]:
            by_country[r["country"]] = by_country.get(r["country"], 0) + r["lines"]
        conflicts += r["conflicts"] or 0
    ordered = dict(sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0])))
    return {"lines_by_source": by_source, "lines_by_country": ordered, "conflicts": conflicts}
