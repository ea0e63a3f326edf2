"""Profile fingerprint: e-mail domains, calling codes and countries of the sample against our
customers, bucketed so a rare value cannot single anyone out, compared by divergence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.normalise import clean_email, clean_phone, email_key, normalise_country, phone_e164
from jobs.normalise.common import lit_map
from jobs.settings import NormaliseConf, ProvenanceConf

OTHER = "(other)"  # bucket of rare profile values: never a domain, code or country
DIMENSIONS = ("email_domain", "phone_code", "country")


def calling_code(e164: Column, codes: Iterable[str]) -> Column:
    """'+44...' -> '44': the longest known country calling code (1-3 digits) the number
    starts with, by three map look-ups; "(other)" for an E.164 number of no known code."""
    known = sorted(set(codes))
    lookup = lit_map({c: c for c in known})
    tries = [F.try_element_at(lookup, F.substring(e164, 2, n)) for n in (3, 2, 1)]
    return F.when(e164.isNotNull(), F.coalesce(*tries, F.lit(OTHER)))


def contact_columns(customers: DataFrame, columns: Mapping[str, str]) -> DataFrame:
    """A customers role's rows -> `email`, `phone`, `country` as strings (null where the role
    does not map the field): what `profile_values` reads."""
    return customers.select(
        *[
            (F.col(columns[c]) if c in columns else F.lit(None)).cast("string").alias(c)
            for c in ("email", "phone", "country")
        ]
    )


def profile_values(
    people: DataFrame, conf: NormaliseConf, default_country: str | None = None
) -> DataFrame:
    """Rows with `email`, `phone`, `country` (raw, any may be null) -> (dimension, value):
    the e-mail domain (after the same canonicalisation as the match keys), the phone's
    country calling code and the ISO country. The local part and the number are dropped here.

    Cleaned in one projection, canonicalised in the next, as `keys.with_normalised` does, so
    each costly clean-up runs once per value and the generated code stays small."""
    cleaned = people.select(
        clean_email(F.col("email")).alias("_email"),
        clean_phone(F.col("phone")).alias("_phone"),
        normalise_country(F.coalesce(F.col("country"), F.lit(default_country))).alias("country"),
    )
    canonical = cleaned.select(
        email_key(F.col("_email"), conf).alias("_email"),
        phone_e164(F.col("_phone"), F.col("country"), conf).alias("_phone"),
        "country",
    )
    codes = (cc for cc, _ in conf.phone_countries.values())
    parts = canonical.select(
        F.substring_index(F.col("_email"), "@", -1).alias("email_domain"),
        calling_code(F.col("_phone"), codes).alias("phone_code"),
        "country",
    )
    stack = ", ".join(f"'{d}', {d}" for d in DIMENSIONS)
    return (
        parts.select(F.expr(f"stack({len(DIMENSIONS)}, {stack}) as (dimension, value)"))
        .filter(F.col("value").isNotNull())
        .select("dimension", "value")
    )


def index_profile_values(
    values: Mapping[str, DataFrame], people: DataFrame, role_bit: int, conf: NormaliseConf
) -> DataFrame:
    """`profile_values` of the customers' rows, with e-mail and phone taken from
    `keys.index_values` (already canonical there: not cleaned a second time) where the
    customers role (`role_bit` of `_sources`) holds them, and the country from the rows
    (`people`: `country`). A customers table has one row per customer, so a customer and
    value pair there is one row; a duplicated customer row is counted once."""
    own = F.col("_sources").bitwiseAND(role_bit) != 0
    codes = (cc for cc, _ in conf.phone_countries.values())
    parts = [
        values["email"]
        .filter(own)
        .select(F.substring_index(F.col("value"), "@", -1).alias("value"))
        .select(F.lit("email_domain").alias("dimension"), "value"),
        values["phone"]
        .filter(own)
        .select(calling_code(F.col("value"), codes).alias("value"))
        .select(F.lit("phone_code").alias("dimension"), "value"),
        people.select(
            F.lit("country").alias("dimension"), normalise_country(F.col("country")).alias("value")
        ),
    ]
    union = parts[0].unionByName(parts[1]).unionByName(parts[2])
    return union.filter(F.col("value").isNotNull()).select("dimension", "value")


def profile_counts(values: DataFrame, min_count: int) -> DataFrame:
    """(dimension, value) -> (dimension, value, n); values seen fewer than `min_count` times
    are counted as "(other)", so a rare personal domain cannot single anyone out."""
    counts = values.groupBy("dimension", "value").agg(F.count(F.lit(1)).alias("n"))
    return bucket_counts(counts, min_count)


def bucket_counts(counts: DataFrame, min_count: int) -> DataFrame:
    """(dimension, value, n) -> the same with values under `min_count` merged into "(other)"."""
    bucket = F.when(F.col("n") >= min_count, F.col("value")).otherwise(F.lit(OTHER))
    return (
        counts.select("dimension", bucket.alias("value"), "n")
        .groupBy("dimension", "value")
        .agg(F.sum("n").cast("long").alias("n"))
        .select("dimension", "value", "n")
    )


def _shares(counts: DataFrame, prefix: str) -> DataFrame:
    totals = counts.groupBy("dimension").agg(F.sum("n").alias("_total"))
    return counts.join(totals, on="dimension", how="inner").select(
        "dimension",
        "value",
        F.col("n").cast("long").alias(f"{prefix}_n"),
        (F.col("n") / F.col("_total")).cast("double").alias(f"{prefix}_share"),
    )


def compare_profiles(sample: DataFrame, warehouse: DataFrame) -> DataFrame:
    """Bucketed counts of both sides -> (dimension, value, sample_n, sample_share, warehouse_n,
    warehouse_share), zeros where a side lacks the value."""
    joined = _shares(sample, "sample").join(
        _shares(warehouse, "warehouse"), on=["dimension", "value"], how="full"
    )
    return joined.select(
        "dimension",
        "value",
        F.coalesce(F.col("sample_n"), F.lit(0)).cast("long").alias("sample_n"),
        F.coalesce(F.col("sample_share"), F.lit(0.0)).alias("sample_share"),
        F.coalesce(F.col("warehouse_n"), F.lit(0)).cast("long").alias("warehouse_n"),
        F.coalesce(F.col("warehouse_share"), F.lit(0.0)).alias("warehouse_share"),
    )


def profile_divergence(sample: DataFrame, warehouse: DataFrame) -> DataFrame:
    """Jensen-Shannon divergence (base 2: 0 = same distribution, 1 = disjoint) per dimension.

    `warehouse` holds bucketed counts; `sample` holds the sample's counts before bucketing
    (an aggregate that is never stored), so each sample value lands exactly where the
    warehouse counts it: under its own name, or in "(other)" with the warehouse's rare values
    and the values we do not hold at all."""
    known = warehouse.filter(F.col("value") != OTHER).select(
        "dimension", "value", F.lit(True).alias("_known")
    )
    mapped = (
        sample.join(known, on=["dimension", "value"], how="left")
        .select(
            "dimension",
            F.when(F.col("_known"), F.col("value")).otherwise(F.lit(OTHER)).alias("value"),
            "n",
        )
        .groupBy("dimension", "value")
        .agg(F.sum("n").alias("n"))
    )
    p = _shares(mapped, "p")
    q = _shares(warehouse, "q")
    both = p.join(q, on=["dimension", "value"], how="full").select(
        "dimension",
        F.coalesce(F.col("p_share"), F.lit(0.0)).alias("p"),
        F.coalesce(F.col("q_share"), F.lit(0.0)).alias("q"),
        F.coalesce(F.col("p_n"), F.lit(0)).alias("p_n"),
        F.coalesce(F.col("q_n"), F.lit(0)).alias("q_n"),
    )
    m = (F.col("p") + F.col("q")) / 2

    def term(x: Column) -> Column:
        return F.when(x > 0, x * F.log2(x / m)).otherwise(F.lit(0.0))

    return (
        both.groupBy("dimension")
        .agg(
            (F.sum(term(F.col("p"))) / 2 + F.sum(term(F.col("q"))) / 2).alias("divergence"),
            F.sum("p_n").cast("long").alias("sample_values"),
            F.sum("q_n").cast("long").alias("warehouse_values"),
        )
        .filter((F.col("sample_values") > 0) & (F.col("warehouse_values") > 0))
        .select(
            "dimension",
            F.greatest(F.least(F.col("divergence"), F.lit(1.0)), F.lit(0.0))
            .cast("double")
            .alias("divergence"),
            "sample_values",
            "warehouse_values",
        )
    )


def profile_section(
    comparison: Sequence[Mapping[str, Any]],
    divergence: Sequence[Mapping[str, Any]],
    conf: ProvenanceConf,
) -> dict[str, Any]:
    """Per dimension: divergence, whether it is flagged, and the sample's top values with
    their share here and among our customers (values seen >= `profile_min_count` times)."""
    out: dict[str, Any] = {
        "min_count": conf.profile_min_count,
        "divergence_threshold": conf.divergence_threshold,
        "dimensions": {},
    }
    by_dim = {d["dimension"]: d for d in divergence}
    for dim in DIMENSIONS:
        rows = [r for r in comparison if r["dimension"] == dim and r["sample_n"] > 0]
        if not rows and dim not in by_dim:
            continue
        rows.sort(key=lambda r: (r["value"] == OTHER, -r["sample_n"], r["value"]))
        d = by_dim.get(dim)
        div = round(float(d["divergence"]), 6) if d else None
        out["dimensions"][dim] = {
            "divergence": div,
            "flagged": div is not None and div >= conf.divergence_threshold,
            "sample_values": int(d["sample_values"]) if d else sum(r["sample_n"] for r in rows),
            "warehouse_values": int(d["warehouse_values"]) if d else 0,
            "top": [
                {
                    "value": r["value"],
                    "sample_n": int(r["sample_n"]),
                    "sample_share": round(float(r["sample_share"]), 6),
                    "warehouse_n": int(r["warehouse_n"]),
                    "warehouse_share": round(float(r["warehouse_share"]), 6),
                }
                for r in rows[: conf.profile_top_n]
            ],
        }
    return out
