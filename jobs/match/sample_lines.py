"""Sample lines -> their parts and hashed keys: the line's country, its names and free-text
address split (`sample_parts`, computed once per run and shared by the exact keys and the
fuzzy rows), then one hashed key per field (`sample_keys`)."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.match.birth import BIRTH_PAYLOAD, birth_payload
from jobs.match.keys import with_normalised
from jobs.match.secrets import with_hash_key
from jobs.normalise import address_struct, full_name, keyed_hash, normalise_birth_date
from jobs.normalise.country import (
    address_country,
    country_conflict,
    country_of,
    country_table,
    email_country,
    phone_country,
    resolve_country,
)
from jobs.settings import FIELDS, NormaliseConf


def with_line_country(df: DataFrame, conf: NormaliseConf, default_country: str | None) -> DataFrame:
    """Parsed sample lines -> the same lines with `country` (ISO alpha-2 or null) read from,
    in order, the country column, the address's last part, the phone's international
    prefix, the e-mail's country domain and `default_country`; `country_source` names which
    one told (`none` when none did) and `country_conflict` flags sources that disagree."""
    table = country_table(conf.countries)
    email = F.lower(F.trim(F.col("email")))
    phone = F.regexp_replace(F.col("phone"), r"[^0-9+]", "")
    candidates = {
        "column": country_of(F.col("country"), table),
        "address": address_country(F.col("address"), table),
        "phone": phone_country(phone, conf.phone_countries),
        "email": email_country(email, table),
        "default": F.lit(default_country.upper() if default_country else None).cast("string"),
    }
    country, source = resolve_country(candidates)
    others = [c for c in df.columns if c != "country"]
    return df.select(
        *others,
        country.alias("country"),
        source.alias("country_source"),
        country_conflict(candidates, conf.phone_countries).alias("country_conflict"),
    )


def with_sample_parts(located: DataFrame, conf: NormaliseConf, keep: Sequence[str]) -> DataFrame:
    """Parsed lines (after `with_line_country`) -> `keep`, name, email, phone, country, line1,
    postcode, city, date_of_birth (normalised, where the lines have the column): first + last
    name when there is no full name, a free-text address split
    (postcodes sought in the line's country's shape) where there are no street, postcode or
    city columns. The text is parsed once, in a projection of its own."""
    text = address_struct(F.trim(F.col("address")), F.col("country"), conf)
    first = located.select(
        *keep,
        F.coalesce(F.col("name"), full_name(F.col("first_name"), F.col("last_name"))).alias("name"),
        "email",
        "phone",
        "country",
        F.concat_ws(" ", F.col("street"), F.col("house_number")).alias("_street"),
        "postcode",
        "city",
        _birth_date(located).alias("date_of_birth"),
        text.alias("_text"),
    )
    return first.select(
        *keep,
        "name",
        "email",
        "phone",
        "country",
        F.coalesce(F.col("_text.line1"), F.col("_street")).alias("line1"),
        F.coalesce(F.col("postcode"), F.col("_text.postcode")).alias("postcode"),
        F.coalesce(F.col("city"), F.col("_text.city")).alias("city"),
        "date_of_birth",
    )


def _birth_date(lines: DataFrame) -> Column:
    """The line's date of birth as `normalise_birth_date` writes it (null without the column:
    samples parsed before it existed)."""
    if "date_of_birth" not in lines.columns:
        return F.lit(None).cast("string")
    return normalise_birth_date(F.col("date_of_birth"))


# Line columns the sample's parts carry through to its keys.
SAMPLE_KEEP = ("run_id", "source_file", "line_number", "country_source", "country_conflict")


def sample_parts(
    df: DataFrame, conf: NormaliseConf, default_country: str | None = None
) -> DataFrame:
    """Parsed sample lines -> their parts (`with_line_country`, `with_sample_parts`): what both
    the exact keys (`sample_keys`) and the fuzzy rows (`fuzzy.fuzzy_rows_of_parts`) are made
    from. ingest-sample persists them, so each line's address text is parsed once."""
    located = with_line_country(df, conf, default_country)
    return with_sample_parts(located, conf, SAMPLE_KEEP)


def sample_keys(parts: DataFrame, conf: NormaliseConf, hash_key: str) -> DataFrame:
    """`sample_parts` -> one row per line with a hashed key per field (or null), the line's
    country and where it came from, and the reasons values were unusable. No raw value
    survives this transform."""
    normalised = with_normalised(parts.drop("city"), conf)
    return with_hash_key(normalised, hash_key).select(
        *SAMPLE_KEEP[:3],
        "country",
        *SAMPLE_KEEP[3:],
        *[keyed_hash(F.col(f"{f}_n")).alias(f"{f}_key") for f in FIELDS],
        birth_payload(F.col("date_of_birth")).alias(BIRTH_PAYLOAD),
        "problems",
    )
