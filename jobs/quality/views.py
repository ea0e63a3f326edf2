"""The DataFrames the suites validate, each shaped so a suite file can name its columns."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.match import keys, sample_lines
from jobs.settings import IDENTIFYING, NormaliseConf


def sample_raw_view(raw: DataFrame) -> DataFrame:
    """Parsed lines plus `identifying_fields`: how many identifying fields each line has."""
    if "identifying_fields" in raw.columns:
        return raw
    present = [c for c in IDENTIFYING if c in raw.columns]
    count = F.lit(0)
    for c in present:
        count = count + F.col(c).isNotNull().cast("int")
    return raw.withColumn("identifying_fields", count)


def sample_canonical_view(
    raw: DataFrame, conf: NormaliseConf, default_country: str | None = None
) -> DataFrame:
    """Canonical e-mail, E.164 phone and country per line, made by the transforms that feed
    the hashes (so the check sees exactly what gets hashed). A value given but unusable is ""
    (counted as unexpected), an absent one null (not counted). `phone_no_country` is true
    for a national number on a line whose country nothing tells (null when the line has
    no such number), and such a number is not counted as unusable in `phone_n`: a country
    would make it valid. Validate it; never write it."""
    located = sample_lines.with_line_country(raw, conf, default_country)
    parts = located.select(
        "line_number",
        F.lit(None).cast("string").alias("name"),
        F.col("email"),
        F.col("phone"),
        F.col("country"),
        F.lit(None).cast("string").alias("line1"),
        F.lit(None).cast("string").alias("postcode"),
    )
    canonical = keys.with_normalised(parts, conf)
    problems = F.col("problems")
    no_country = F.array_contains(problems, "phone_no_country")
    return canonical.select(
        "line_number",
        "country",
        F.when(F.array_contains(problems, "email_invalid"), F.lit(""))
        .otherwise(F.col("email_n"))
        .alias("email_n"),
        F.when(F.array_contains(problems, "phone_unparseable"), F.lit(""))
        .otherwise(F.col("phone_n"))
        .alias("phone_n"),
        F.when(no_country, F.lit(True))
        .when(F.col("phone_n").isNotNull(), F.lit(False))
        .alias("phone_no_country"),
    )


def customers_view(customers: DataFrame, columns: Mapping[str, str]) -> DataFrame:
    """The customers role under crosscheck's names (only the columns the role maps)."""
    wanted = [c for c in ("customer_id", "email", "phone", "country") if c in columns]
    return customers.select(*[customers[columns[c]].cast("string").alias(c) for c in wanted])


def index_volume_view(builds: DataFrame, current: Mapping[str, int] | None = None) -> DataFrame:
    """(field, rows, previous_rows, rows_ratio) per field of the previous build.

    With `current` (counts of a build not yet recorded) the previous build is the last
    index_builds row; without it, the last row is compared with the one before. A field
    that vanished has rows 0; a new field has no previous count and so no ratio."""
    latest_first = Window.orderBy(F.col("built_at").desc())
    ranked = builds.select("rows_per_field", F.row_number().over(latest_first).alias("rank"))
    previous = ranked.filter(F.col("rank") == (1 if current is not None else 2))
    if current is None:
        now = ranked.filter(F.col("rank") == 1)
    else:
        pairs = [F.lit(x) for field, n in sorted(current.items()) for x in (field, int(n))]
        counts = F.create_map(*pairs).cast("map<string,bigint>")
        now = previous.select(counts.alias("rows_per_field"))
    before = previous.select(F.explode("rows_per_field").alias("field", "previous_rows"))
    after = now.select(F.explode("rows_per_field").alias("field", "rows"))
    rows = F.coalesce(F.col("rows"), F.lit(0)).cast("bigint")
    previous_rows = F.col("previous_rows").cast("bigint")
    ratio = F.try_divide(rows.cast("double"), previous_rows.cast("double"))
    return before.join(after, on="field", how="left").select(
        "field", rows.alias("rows"), previous_rows.alias("previous_rows"), ratio.alias("rows_ratio")
    )
