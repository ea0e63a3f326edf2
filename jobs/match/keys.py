"""DataFrame transforms that turn sample lines and warehouse rows into hashed match keys.

Both sides go through the same column builders in `jobs.normalise`, which is what makes an
equi-join on the hashed key meaningful.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.match.secrets import with_hash_key
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
    name_keys,
    normalise_birth_date,
    normalise_city,
    normalise_country,
    normalise_postcode,
    phone_e164,
)
from jobs.settings import FIELDS, NormaliseConf

KEY_COLUMNS = [f"{f}_key" for f in FIELDS]
PARTS = ["name", "email", "phone", "country", "line1", "postcode"]
SOURCES = ("customers", "addresses", "orders")  # the warehouse roles, in bitmask order
ROLE_PARTS = [
    "name", "name_latin", "email", "phone", "country", "line1", "postcode", "city", "date_of_birth",
]  # fmt: skip


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
        "_phone",
        "_phone_raw",
        "_line1_raw",
    )
    problems = F.array_compact(
        F.array(
            email_problem(F.col("_email")),
            phone_problem(F.col("_phone_raw"), F.col("_phone"), F.col("country"), F.col("phone_n")),
            _problem(F.col("_line1_raw"), F.col("address_n"), "address_unparsed"),
        )
    )
    return keyed.select(
        *others, "country", "email_n", "phone_n", "name_n", "address_n", problems.alias("problems")
    )


def phone_problem(raw: Column, clean: Column, country: Column, e164: Column) -> Column:
    """Why a given phone gives no key: `phone_no_country` for a number in national form
    (6-14 digits, no `+` or `00`) on a line whose country is unknown, which a country
    would make valid; `phone_unparseable` for anything else (letters, too few digits, an
    e-mail: a swapped column). Null when fine or absent."""
    national = ~clean.startswith("+") & ~clean.startswith("00") & (F.length(clean).between(6, 14))
    reason = F.when(country.isNull() & national, F.lit("phone_no_country")).otherwise(
        F.lit("phone_unparseable")
    )
    return F.when((F.length(F.trim(raw)) > 0) & e164.isNull(), reason)


def _problem(value: Column, result: Column, name: str) -> Column:
    """A value was given but no key could be made from it."""
    return F.when((F.length(F.trim(value)) > 0) & result.isNull(), F.lit(name))


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


# The raw inputs of each field, as `role_union` names them: a row of `field_values` is one
# distinct combination of these per customer. The name keeps its romanised form and country
# (the fuzzy rows block per country), which the exact key ignores.
FIELD_INPUTS = {
    "email": ("email",),
    "phone": ("phone", "country"),
    "name": ("name", "name_latin", "country"),
    "address": ("line1", "postcode", "city"),
    # record linkage only, no exact key (`index_values`); blocked with the name's initials
    "date_of_birth": ("date_of_birth", "name", "name_latin"),
}


def cleaned(df: DataFrame, field: str, conf: NormaliseConf, ids: Sequence[str]) -> DataFrame:
    """The raw inputs of one field (`FIELD_INPUTS`) -> `ids`, its cleaned columns (phone:
    `phone_c`; name: `country`, `name_c`, `latin_c`; address: `street`, `postcode`, `city`) and
    `value`, its canonical form: the exact key before hashing (for a name, an array of
    them: `normalise.name_keys`).

    The costly clean-ups run once per row, in a projection of their own (then each is
    evaluated once however often the next one reads it), and both the exact key and the
    fuzzy rows (`jobs.fuzzy`) are made from their output: the same steps as
    `with_normalised` on the sample side."""
    if field == "email":
        first = df.select(*ids, clean_email(F.col("email")).alias("_email"))
        return first.select(*ids, email_key(F.col("_email"), conf).alias("value"))
    if field == "phone":
        first = df.select(
            *ids,
            clean_phone(F.col("phone")).alias("phone_c"),
            normalise_country(F.col("country")).alias("_country"),
        )
        value = phone_e164(F.col("phone_c"), F.col("_country"), conf)
        return first.select(*ids, "phone_c", value.alias("value"))
    if field == "name":
        first = df.select(
            *ids,
            normalise_country(F.col("country")).alias("country"),
            clean_name(F.col("name")).alias("name_c"),
            clean_name(F.col("name_latin")).alias("latin_c"),
        )
        value = name_keys(F.col("name_c"), F.col("latin_c"))  # an array: several keys
        return first.select(*ids, "country", "name_c", "latin_c", value.alias("value"))
    if field == "address":
        first = df.select(
            *ids,
            fold_street(F.col("line1"), conf.abbreviations).alias("street"),
            normalise_postcode(F.col("postcode")).alias("postcode"),
            normalise_city(F.col("city"), conf).alias("city"),
        )
        value = address_key(F.col("street"), F.col("postcode"))
        return first.select(*ids, "street", "postcode", "city", value.alias("value"))
    if field == "date_of_birth":
        return df.select(
            *ids,
            clean_name(F.col("name")).alias("name_c"),
            clean_name(F.col("name_latin")).alias("latin_c"),
            normalise_birth_date(F.col("date_of_birth")).alias("value"),
        )
    raise ValueError(f"unknown field {field!r}: one of {', '.join(FIELD_INPUTS)}")


def field_values(union: DataFrame, field: str, conf: NormaliseConf) -> DataFrame:
    """`role_union` rows -> (customer_id, _sources, cleaned columns, value) of one field: one
    row per customer and distinct raw inputs, the roles they came from as a bitmask.

    One shuffle, by customer: the de-duplication of raw values (an order's ship-to name,
    phone and address mostly repeat the customer's own) runs before the costly cleaning, and
    whatever later de-duplicates per customer (`field_keys`) needs no other shuffle. Persist
    it when both the exact keys and the fuzzy rows are made from it."""
    inputs = FIELD_INPUTS[field]
    present = F.col(inputs[0]).isNotNull()
    if field == "name":
        present = present | F.col("name_latin").isNotNull()
    src = union.select("customer_id", "source", *inputs).filter(present)
    distinct = distinct_by_source(src.repartition("customer_id"), ["customer_id", *inputs])
    return cleaned(distinct, field, conf, ["customer_id", "_sources"])


def field_keys(values: DataFrame, field: str, hash_key: str) -> DataFrame:
    """`field_values` of one field -> its index rows (field, match_key, customer_id, source),
    each once."""
    value = F.explode(F.col("value")) if field == "name" else F.col("value")  # see cleaned
    one = values.select(value.alias("value"), "customer_id", "_sources")
    hashed = with_hash_key(one, hash_key).select(
        keyed_hash(F.col("value")).alias("match_key"), "customer_id", "_sources"
    )
    # Two raw values of a customer can make one key ("J. Smith", "j smith"): their roles are
    # merged before they are exploded, so each (key, customer, role) comes out once.
    unique = hashed.groupBy("match_key", "customer_id").agg(F.bit_or("_sources").alias("_sources"))
    keep = F.col("match_key").isNotNull()
    rows = explode_sources(unique, ["match_key", "customer_id"], [], keep)
    return rows.select(F.lit(field).alias("field"), "match_key", "customer_id", "source")


def index_values(
    values: Sequence[DataFrame], conf: NormaliseConf, birth_dates: bool = False
) -> dict[str, DataFrame]:
    """`role_values` of every role -> `field_values` per field: what the exact index
    (`keys_of`) and the fuzzy index (`fuzzy.fuzzy_index_of`) are both made from; with
    `birth_dates` (a role maps `date_of_birth`), the dates too, for record linkage only."""
    union = role_union(values)
    fields = [*FIELDS, "date_of_birth"] if birth_dates else FIELDS
    return {f: field_values(union, f, conf) for f in fields}


def keys_of(values: Mapping[str, DataFrame], hash_key: str) -> DataFrame:
    """`index_values` -> the match index rows (field, match_key, customer_id, source)."""
    return reduce(DataFrame.unionByName, [field_keys(values[f], f, hash_key) for f in FIELDS])


def index_keys(
    values: Sequence[DataFrame],
    conf: NormaliseConf,
    hash_key: str,
) -> DataFrame:
    """`role_values` of every role -> the match index rows (field, match_key, customer_id,
    source), one per distinct combination.

    Per field, one pass over distinct raw values (`field_values`): each (customer, field, raw
    value) is cleaned, keyed and hashed once, with the roles it came from kept as a bitmask
    and exploded back at the end. The same column builders as the sample side
    (`with_normalised`), field by field: inside one CASE over the field, Spark cannot share a
    builder's repeated subexpressions (the street fold was computed ~3 times per row that
    way), and they cost more than reading the roles once per field."""
    return keys_of(index_values(values, conf), hash_key)


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
