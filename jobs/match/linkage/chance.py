"""The linked lines' chance baseline: the same model on the same sample with each field's
values moved to other lines at random (one seeded permutation per field). What still links
then is what chance alone links; a breach links far more lines than that."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.match.linkage.vectors import SEEN, parts_of, seen_bit
from jobs.normalise.common import lit_strings
from jobs.settings import LevelRule


def permutations(lines: DataFrame, fields: Sequence[str], seed: int) -> DataFrame:
    """(field, line_number, to_line): per field, a random permutation of the lines. Each
    line's field moves to the next line in a seeded random order of the lines (a hash of
    (line, field)), the last line's to the first: one cycle through every line, so no field
    stays on its own line. One sort per field, and no join of two rankings."""
    per_field = lines.select(
        "line_number", F.explode(F.array(*[F.lit(f) for f in fields])).alias("field")
    )
    order = Window.partitionBy("field").orderBy(
        F.xxhash64("line_number", "field", F.lit(seed)), "line_number"
    )
    whole = order.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    following = F.lead("line_number").over(order)
    return per_field.select(
        "field",
        "line_number",
        F.coalesce(following, F.first("line_number").over(whole)).alias("to_line"),
    )


def field_moves(
    lines: DataFrame, levels: Mapping[str, Sequence[LevelRule]], seed: int
) -> DataFrame:
    """`permutations` of the linkage fields, with each address's parts moving with it: the
    parts of one address stay one address on the line they move to."""
    carried = F.array(F.col("field"))
    for f, rules in levels.items():
        if parts_of(rules):
            both = lit_strings([f, *parts_of(rules)])
            carried = F.when(F.col("field") == f, both).otherwise(carried)
    return permutations(lines, list(levels), seed).select(
        F.explode(carried).alias("field"), "line_number", "to_line"
    )


def repaired(rows: DataFrame, moves: DataFrame) -> DataFrame:
    """Rows keyed by (line_number, field) moved to their field's permuted line; other columns
    kept as they are."""
    others = [c for c in rows.columns if c != "line_number"]
    return rows.join(moves, on=["field", "line_number"], how="inner").select(
        F.col("to_line").alias("line_number"), *others
    )


def repaired_levels(
    best: DataFrame, moves: DataFrame, levels: Mapping[str, Sequence[LevelRule]]
) -> DataFrame:
    """`best_levels` rows once each field moved to its permuted line: the same as the levels
    of the moved evidence, since a (line, field)'s rows all move to one line, and a field's
    level reads that field's rows only. One row per (pair, field) moves, not the evidence
    rows it was judged from (a pair's name and address parts: a dozen rows)."""
    fields = list(levels)
    held = F.array(
        *[
            F.when(
                F.col(SEEN).bitwiseAND(F.lit(1 << i)) != 0,
                F.struct(F.lit(f).alias("field"), F.col(f"_{f}").alias("level")),
            )
            for i, f in enumerate(fields)
        ]
    )
    per_field = best.select("line_number", "customer_id", F.inline(F.array_compact(held)))
    moved = repaired(per_field, moves)
    return moved.groupBy("line_number", "customer_id").agg(
        F.bit_or(seen_bit(levels)).alias(SEEN),
        *[F.max(F.when(F.col("field") == f, F.col("level"))).alias(f"_{f}") for f in fields],
    )


def levelled_fields(best: DataFrame, levels: Mapping[str, Sequence[LevelRule]]) -> DataFrame:
    """`best_levels` rows with `_seen` cut to the fields at some level (1 or more), and the
    pairs left with none dropped. A field at "else" (0) or at none (null) needs no row to
    move: where the pair still exists after the move, its vector reads the field as "else"
    again from the sides' held fields (both hold it: it was compared). A pair with no level
    at all can link only where `levelless_may_link`; elsewhere the chance baseline moves
    these rows only: at 10 M customers, most pairs met through one field compare the others
    at "else"."""
    levelled = F.lit(0)
    for i, f in enumerate(levels):
        levelled = levelled + F.when(F.col(f"_{f}") > 0, F.lit(1 << i)).otherwise(F.lit(0))
    return best.withColumn(SEEN, F.col(SEEN).bitwiseAND(levelled)).filter(F.col(SEEN) != 0)
