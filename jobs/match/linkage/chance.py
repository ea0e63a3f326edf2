"""The linked lines' chance baseline: the same model on the same sample with each field's
values moved to other lines at random (one seeded permutation per field). What still links
then is what chance alone links; a breach links far more lines than that."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def permutations(lines: DataFrame, fields: Sequence[str], seed: int) -> DataFrame:
    """(field, line_number, to_line): per field, a random permutation of the lines. The lines
    ranked by number are paired with the same lines ranked by a seeded hash of (line, field)."""
    per_field = lines.select(
        "line_number", F.explode(F.array(*[F.lit(f) for f in fields])).alias("field")
    )
    by_number = Window.partitionBy("field").orderBy("line_number")
    by_hash = Window.partitionBy("field").orderBy(
        F.xxhash64("line_number", "field", F.lit(seed)), "line_number"
    )
    natural = per_field.select(
        "field", F.col("line_number").alias("to_line"), F.row_number().over(by_number).alias("pos")
    )
    shuffled = per_field.select("field", "line_number", F.row_number().over(by_hash).alias("pos"))
    return shuffled.join(natural, on=["field", "pos"], how="inner").select(
        "field", "line_number", "to_line"
    )


def repaired(rows: DataFrame, moves: DataFrame) -> DataFrame:
    """Rows keyed by (line_number, field) moved to their field's permuted line; other columns
    kept as they are."""
    others = [c for c in rows.columns if c != "line_number"]
    return rows.join(moves, on=["field", "line_number"], how="inner").select(
        F.col("to_line").alias("line_number"), *others
    )
