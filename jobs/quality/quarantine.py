"""Row-level quarantine: sample lines failing an expectation marked `meta.quarantine` are set
aside with the expectation as reason, told by a native Spark condition that mirrors GX's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.errors import ConfigError
from jobs.quality.suites import Rule, Suite
from jobs.quality.views import sample_raw_view
from jobs.settings import SAMPLE_FIELDS


def _within(value: Column, kwargs: Mapping[str, Any]) -> Column:
    ok = F.lit(True)
    if kwargs.get("min_value") is not None:
        low = F.lit(kwargs["min_value"])
        ok = ok & ((value > low) if kwargs.get("strict_min") else (value >= low))
    if kwargs.get("max_value") is not None:
        high = F.lit(kwargs["max_value"])
        ok = ok & ((value < high) if kwargs.get("strict_max") else (value <= high))
    return ok


def unexpected_condition(rule: Rule) -> Column:
    """True on the rows GX counts as unexpected for this expectation (nulls count only for
    the null checks, as in GX)."""
    k = rule.kwargs
    col = F.col(str(k["column"]))
    if rule.type == "expect_column_values_to_not_be_null":
        return col.isNull()
    if rule.type == "expect_column_values_to_be_null":
        return col.isNotNull()
    if rule.type == "expect_column_values_to_match_regex":
        bad = ~col.rlike(k["regex"])
    elif rule.type == "expect_column_values_to_not_match_regex":
        bad = col.rlike(k["regex"])
    elif rule.type == "expect_column_values_to_be_in_set":
        bad = ~col.isin(list(k["value_set"]))
    elif rule.type == "expect_column_values_to_not_be_in_set":
        bad = col.isin(list(k["value_set"]))
    elif rule.type == "expect_column_values_to_be_between":
        bad = ~_within(col, k)
    elif rule.type == "expect_column_value_lengths_to_be_between":
        bad = ~_within(F.length(col), k)
    else:
        raise ConfigError(f"{rule.type}: no row-level quarantine for this expectation type")
    return col.isNotNull() & bad


def quality_quarantine_rows(
    raw: DataFrame, suite: Suite | None, run_id: str
) -> tuple[DataFrame, DataFrame]:
    """Parsed lines -> (kept lines, quarantined lines) for the suite's expectations marked
    `meta.quarantine` (none without a suite). Every line lands in exactly one of the two, so
    lines_read = lines_parsed + lines_quarantined still holds; the reason is the first failing
    expectation's label. Quarantined lines have sample_quarantine's columns; their raw_line is
    the input's `raw_line` column when present, else the mapped fields as JSON.

    Supported expectation types: see QUARANTINE_TYPES; all lines that fail are moved,
    whatever the expectation's `mostly` (which only decides whether the run may go on)."""
    rules = [r for r in suite.rules if r.quarantine] if suite else []
    columns = [c for c in raw.columns if c != "raw_line"]
    reason = F.lit(None).cast("string")
    for rule in reversed(rules):
        reason = F.when(unexpected_condition(rule), F.lit(rule.label)).otherwise(reason)
    tagged = sample_raw_view(raw).withColumn("_quality_reason", reason)
    if "raw_line" in raw.columns:
        raw_line = F.col("raw_line")
    else:
        fields = [c for c in SAMPLE_FIELDS if c in raw.columns]
        raw_line = F.to_json(F.struct(*[F.col(c) for c in fields]))
    kept = tagged.filter(F.col("_quality_reason").isNull()).select(*columns)
    file_line = F.col("file_line") if "file_line" in raw.columns else F.col("line_number")
    quarantined = tagged.filter(F.col("_quality_reason").isNotNull()).select(
        F.lit(run_id).alias("run_id"),
        "source_file",
        "line_number",
        file_line.alias("file_line"),
        F.col("_quality_reason").alias("reason"),
        raw_line.alias("raw_line"),
    )
    return kept, quarantined


def reason_counts(quarantined: DataFrame) -> dict[str, int]:
    """Quarantined lines per reason, to add to sample_runs' quarantine_reasons."""
    rows = quarantined.groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()
    return {r.reason: int(r.n) for r in rows}
