"""DataFrame transforms that turn sample lines and warehouse rows into hashed match keys.

Both sides go through the same column builders in `jobs.normalise`, which is what makes an
equi-join on the hashed key meaningful.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.config import FIELDS, NormaliseConf
from jobs.normalise import (
    address_key,
    clean_email,
    clean_name,
    clean_phone,
    email_key,
    email_problem,
    fold_street,
    full_name,
    keyed_hash,
    name_key,
    normalise_country,
    normalise_postcode,
    phone_e164,
    split_address,
)

KEY_COLUMNS = [f"{f}_key" for f in FIELDS]
PARTS = ["name", "email", "phone", "country", "line1", "postcode"]


def with_normalised(df: DataFrame, conf: NormaliseConf) -> DataFrame:
    """Columns `name, email, phone, country, line1, postcode` (any may be null) -> adds the
    canonical values `email_n, phone_n, name_n, address_n` (still raw: hash before writing).

    Done in two projections so every costly clean-up runs once per value (a single nested
    expression would repeat them and outgrow Spark's generated-code limits)."""
    others = [c for c in df.columns if c not in PARTS]
    cleaned = df.select(
        *others,
        normalise_country(F.col("country")).alias("country"),
        clean_email(F.col("email")).alias("_email"),
        clean_phone(F.col("phone")).alias("_phone"),
        clean_name(F.col("name")).alias("_name"),
        fold_street(F.col("line1"), conf.abbreviations).alias("_street"),
        normalise_postcode(F.col("postcode")).alias("_postcode"),
        F.col("email").alias("_email_raw"),
        F.col("phone").alias("_phone_raw"),
        F.col("line1").alias("_line1_raw"),
    )
    keyed = cleaned.select(
        *others,
        "country",
        email_key(F.col("_email"), conf).alias("email_n"),
        phone_e164(F.col("_phone"), F.col("country"), conf).alias("phone_n"),
        name_key(F.col("_name")).alias("name_n"),
        address_key(F.col("_street"), F.col("_postcode")).alias("address_n"),
        "_email",
        "_phone_raw",
        "_line1_raw",
    )
    problems = F.array_compact(
        F.array(
            email_problem(F.col("_email")),
            _problem(F.col("_phone_raw"), F.col("phone_n"), "phone_unparseable"),
            _problem(F.col("_line1_raw"), F.col("address_n"), "address_unparsed"),
        )
    )
    return keyed.select(
        *others, "country", "email_n", "phone_n", "name_n", "address_n", problems.alias("problems")
    )


def _problem(value: Column, result: Column, name: str) -> Column:
    """A value was given but no key could be made from it."""
    return F.when((F.length(F.trim(value)) > 0) & result.isNull(), F.lit(name))


def sample_parts(default_country: str | None) -> list[Column]:
    """A parsed sample line's name, email, phone, country, line1, postcode: first + last name
    when there is no full name, a free-text address split when there are no street columns."""
    text_line1, text_postcode = split_address(F.trim(F.col("address")))
    street = F.concat_ws(" ", F.col("street"), F.col("house_number"))
    return [
        F.coalesce(F.col("name"), full_name(F.col("first_name"), F.col("last_name"))).alias("name"),
        F.col("email"),
        F.col("phone"),
        F.coalesce(F.col("country"), F.lit(default_country)).alias("country"),
        F.coalesce(text_line1, street).alias("line1"),
        F.coalesce(F.col("postcode"), text_postcode).alias("postcode"),
    ]


def with_sample_keys(
    df: DataFrame, conf: NormaliseConf, hash_key: str, default_country: str | None = None
) -> DataFrame:
    """Parsed sample lines -> one row per line with a hashed key per field (or null) and the
    reasons values were unusable. No raw value survives this transform."""
    parts = df.select("run_id", "source_file", "line_number", *sample_parts(default_country))
    normalised = with_normalised(parts, conf)
    return normalised.select(
        "run_id",
        "source_file",
        "line_number",
        "country",
        *[keyed_hash(F.col(f"{f}_n"), hash_key).alias(f"{f}_key") for f in FIELDS],
        "problems",
    )


def _rename(df: DataFrame, columns: Mapping[str, str], wanted: list[str]) -> DataFrame:
    """Select the role's columns under crosscheck's names (missing optional ones as null)."""
    return df.select(
        *[
            (F.col(columns[c]) if c in columns else F.lit(None)).cast("string").alias(c)
            for c in wanted
        ]
    )


def _index_rows(
    normalised: DataFrame, fields: tuple[str, ...], source: str, hash_key: str
) -> DataFrame:
    """Wide normalised rows -> narrow (field, match_key, customer_id, source) rows."""
    stack = ", ".join(f"'{f}', {f}_n" for f in fields)
    return (
        normalised.select("customer_id", F.expr(f"stack({len(fields)}, {stack}) as (field, value)"))
        .filter(F.col("value").isNotNull() & F.col("customer_id").isNotNull())
        .select(
            "field",
            keyed_hash(F.col("value"), hash_key).alias("match_key"),
            "customer_id",
            F.lit(source).alias("source"),
        )
    )


def customer_keys(
    customers: DataFrame, columns: Mapping[str, str], conf: NormaliseConf, hash_key: str
) -> DataFrame:
    wanted = ["customer_id", "first_name", "last_name", "name", "email", "phone", "country"]
    c = _rename(customers, columns, wanted)
    parts = c.select(
        "customer_id",
        F.coalesce(F.col("name"), full_name(F.col("first_name"), F.col("last_name"))).alias("name"),
        "email",
        "phone",
        "country",
        F.lit(None).cast("string").alias("line1"),
        F.lit(None).cast("string").alias("postcode"),
    )
    return _index_rows(
        with_normalised(parts, conf), ("email", "phone", "name"), "customers", hash_key
    )


def address_keys(
    addresses: DataFrame, columns: Mapping[str, str], conf: NormaliseConf, hash_key: str
) -> DataFrame:
    a = _rename(addresses, columns, ["customer_id", "line1", "postcode", "country"])
    parts = a.select(
        "customer_id",
        *[F.lit(None).cast("string").alias(c) for c in ("name", "email", "phone")],
        "country",
        "line1",
        "postcode",
    )
    return _index_rows(with_normalised(parts, conf), ("address",), "addresses", hash_key)


def order_keys(
    orders: DataFrame, columns: Mapping[str, str], conf: NormaliseConf, hash_key: str
) -> DataFrame:
    o = _rename(orders, columns, ["customer_id", "name", "phone", "line1", "postcode", "country"])
    parts = o.select(
        "customer_id",
        "name",
        F.lit(None).cast("string").alias("email"),
        "phone",
        "country",
        "line1",
        "postcode",
    )
    return _index_rows(
        with_normalised(parts, conf), ("name", "phone", "address"), "orders", hash_key
    )


def match_index(parts: list[DataFrame]) -> DataFrame:
    """Union of all roles' keys, one row per (field, key, customer, source)."""
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.dropDuplicates(["field", "match_key", "customer_id", "source"]).select(
        "field", "match_key", "customer_id", "source"
    )


def sample_keys_long(normalised: DataFrame, fields: tuple[str, ...]) -> DataFrame:
    """(line_number, field, match_key) for every usable key of every line."""
    stack = ", ".join(f"'{f}', {f}_key" for f in fields)
    return (
        normalised.select(
            "line_number", F.expr(f"stack({len(fields)}, {stack}) as (field, match_key)")
        )
        .filter(F.col("match_key").isNotNull())
        .select("line_number", "field", "match_key")
    )
