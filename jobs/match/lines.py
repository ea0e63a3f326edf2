"""Per-line figures of the exact cross-check, and the words the report uses for blocking."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def line_counts(line_matches: DataFrame, same_record: DataFrame) -> DataFrame:
    """One row: lines matched on any field, on a unique identifier (e-mail or phone), and on
    two or more fields of the same customer."""
    per_line = line_matches.groupBy("line_number").agg(
        F.max(F.col("field").isin("email", "phone").cast("int")).alias("ident")
    )
    return (
        per_line.join(same_record, on="line_number", how="full")
        .agg(
            F.count(F.col("ident")).alias("matched_any_field"),
            F.coalesce(F.sum("ident"), F.lit(0)).alias("matched_unique_identifier"),
            F.count(F.when(F.col("max_fields_same_customer") >= 2, 1)).alias("same_record_2plus"),
        )
        .select("matched_any_field", "matched_unique_identifier", "same_record_2plus")
    )


def blocking_action(max_per_key: int, budget: int) -> Column:
    """What was done about each field's candidate pairs, in words for the report."""
    over = F.col("candidate_pairs") > budget
    hot_note = F.concat(
        F.col("hot_keys").cast("string"),
        F.lit(
            f" hot key(s) hitting > {max_per_key} customers each were counted but "
            "expanded only to customers another field of the same line matches"
        ),
        F.when(over, F.lit(f"; unrestricted join would exceed the pair budget {budget}")).otherwise(
            F.lit("")
        ),
    )
    return (
        F.when(F.col("hot_keys") > 0, hot_note)
        .when(over, F.lit(f"above the pair budget {budget}: run as a broadcast semi-join"))
        .otherwise(F.lit("within budget: joined as is"))
    )
