"""DataFrame transforms that turn sample lines and warehouse rows into hashed match keys.

Both sides go through the same column builders in `jobs.normalise`, which is what makes an
equi-join on the hashed key meaningful.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import reduce

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
SOURCES = ("customers", "addresses", "orders")  # the warehouse roles, in bitmask order
ROLE_PARTS = ["name", "name_latin", "email", "phone", "country", "line1", "postcode"]


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


def _column(df: DataFrame, columns: Mapping[str, str], name: str) -> Column:
    return (F.col(columns[name]) if name in columns else F.lit(None)).cast("string")


def role_values(role: str, df: DataFrame, columns: Mapping[str, str]) -> DataFrame:
    """One warehouse role -> (customer_id, source, name, name_latin, email, phone, country,
    line1, postcode), source = role; unmapped fields are null. Raw and transient: only the
    index rows made from it (`index_keys`, `fuzzy.fuzzy_index`) are ever written.

    name is `name` or first + last; name_latin is `name_latin` or first_name_latin +
    last_name_latin (romanised names kept next to CJK/Hangul ones)."""
    if role not in SOURCES:
        raise ValueError(f"unknown warehouse role {role!r}: one of {', '.join(SOURCES)}")
    name = F.coalesce(
        _column(df, columns, "name"),
        full_name(_column(df, columns, "first_name"), _column(df, columns, "last_name")),
    )
    latin = F.coalesce(
        _column(df, columns, "name_latin"),
        full_name(
            _column(df, columns, "first_name_latin"), _column(df, columns, "last_name_latin")
        ),
    )
    return df.select(
        _column(df, columns, "customer_id").alias("customer_id"),
        F.lit(role).alias("source"),
        name.alias("name"),
        latin.alias("name_latin"),
        *[_column(df, columns, c).alias(c) for c in ROLE_PARTS[2:]],
    ).filter(F.col("customer_id").isNotNull())


def _case(value: Column, branches: Mapping[str, Column]) -> Column:
    """CASE value WHEN name THEN expr ...: a row computes its own branch only."""
    out = None
    for name, expr in branches.items():
        out = (F.when if out is None else out.when)(value == F.lit(name), expr)
    return out


def role_union(values: Sequence[DataFrame]) -> DataFrame:
    """Several roles' `role_values` as one DataFrame: each field's (or fuzzy rule's) values
    are then de-duplicated and cleaned over all roles at once."""
    return reduce(
        DataFrame.unionByName, [v.select("customer_id", "source", *ROLE_PARTS) for v in values]
    )


def source_bit(source: Column) -> Column:
    """A role's bit in a `_sources` / `sources` bitmask (`SOURCES` order)."""
    return _case(source, {s: F.lit(1 << i) for i, s in enumerate(SOURCES)})


def distinct_by_source(df: DataFrame, keys: Sequence[str]) -> DataFrame:
    """One row per distinct `keys`, the roles (`source`) it came from as a bitmask in `_sources`.

    A bitmask, not `collect_set`: `bit_or` is a plain hash aggregate, whereas collect_set's
    object aggregate falls back to sorting its input past 128 groups per task."""
    return df.groupBy(*keys).agg(F.bit_or(source_bit(F.col("source"))).alias("_sources"))


def explode_sources(
    df: DataFrame, before: Sequence[str], after: Sequence[str], keep: Column | None = None
) -> DataFrame:
    """`_sources` back to one row per role, as `source` between the `before` and `after`
    columns; a row where `keep` is false or null makes none.

    Why `keep` and not a filter: a filter on a value computed after `distinct_by_source`
    reads only its grouping columns, so the optimizer would push it below the aggregation and
    compute the value for every raw row (inlined, several times) instead of once per distinct
    one. An explode's input is not turned into a filter."""
    roles = F.array(
        *[
            F.when(F.col("_sources").bitwiseAND(1 << i) != 0, F.lit(s))
            for i, s in enumerate(SOURCES)
        ]
    )
    if keep is not None:
        roles = F.when(keep, roles)
    return df.select(*before, F.explode(roles).alias("source"), *after).filter(
        F.col("source").isNotNull()
    )


# The raw value(s) each field's key is made from: (value, the second input its key needs).
FIELD_INPUTS = {
    "email": ("email", None),
    "phone": ("phone", "country"),
    "name": ("name", None),
    "address": ("line1", "postcode"),
}


def _field_steps(field: str, conf: NormaliseConf) -> tuple[Callable, Callable | None, Callable]:
    """(clean the value, clean the second input, canonical form of both): the same two steps
    `with_normalised` runs on the sample side."""
    steps = {
        "email": (clean_email, None, lambda c, _: email_key(c, conf)),
        "phone": (clean_phone, normalise_country, lambda c, s: phone_e164(c, s, conf)),
        "name": (clean_name, None, lambda c, _: name_key(c)),
        "address": (
            lambda a: fold_street(a, conf.abbreviations),
            normalise_postcode,
            address_key,
        ),
    }
    return steps[field]


def field_keys(union: DataFrame, field: str, conf: NormaliseConf, hash_key: str) -> DataFrame:
    """`role_union` rows -> the index rows (field, match_key, customer_id, source) of one
    field, each once.

    One field at a time, each builder applied directly: inside one CASE over the field, Spark
    cannot share a builder's repeated subexpressions (the street fold was computed ~3 times
    per row that way), and they cost more than reading the roles once per field.
    One shuffle, by customer: both de-duplications (of raw values, before the costly
    cleaning; of keys, after it) then run where the rows already are."""
    value, second = FIELD_INPUTS[field]
    clean, clean_second, canonical = _field_steps(field, conf)
    inputs = {"a": value, "b": second} if second else {"a": value}
    raw = [F.col(c).alias(alias) for alias, c in inputs.items()]
    src = union.select("customer_id", "source", *raw).filter(F.col("a").isNotNull())
    by_customer = src.repartition("customer_id")
    distinct = distinct_by_source(by_customer, ["customer_id", *inputs])
    b = clean_second(F.col("b")) if clean_second else F.lit(None).cast("string")
    cleaned = distinct.select(
        "customer_id", "_sources", clean(F.col("a")).alias("_clean"), b.alias("_second")
    )
    keyed = cleaned.select(
        "customer_id",
        "_sources",
        canonical(F.col("_clean"), F.col("_second")).alias("value"),
    )
    hashed = keyed.select(
        keyed_hash(F.col("value"), hash_key).alias("match_key"), "customer_id", "_sources"
    )
    keep = F.col("match_key").isNotNull()
    rows = explode_sources(hashed, ["match_key", "customer_id"], [], keep)
    unique = rows.dropDuplicates(["match_key", "customer_id", "source"])
    return unique.select(F.lit(field).alias("field"), "match_key", "customer_id", "source")


def index_keys(
    values: Sequence[DataFrame],
    conf: NormaliseConf,
    hash_key: str,
) -> DataFrame:
    """`role_values` of every role -> the match index rows (field, match_key, customer_id,
    source), one per distinct combination.

    Per field, one pass over distinct raw values: an order's ship-to name, phone and address
    mostly repeat the customer's own and each other, so each (customer, field, raw value) is
    cleaned, keyed and hashed once, with the roles it came from kept as a bitmask and
    exploded back at the end.
    The same column builders as the sample side (`with_normalised`), field by field."""
    union = role_union(values)
    return reduce(DataFrame.unionByName, [field_keys(union, f, conf, hash_key) for f in FIELDS])


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
