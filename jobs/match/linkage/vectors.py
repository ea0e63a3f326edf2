"""Comparison vectors of candidate (line, customer) pairs, from the evidence the exact and
fuzzy matchers already wrote: hashes and scores only, no value is looked at again.

A field's levels are listed best first in conf (`LevelRule`): a piece of evidence reaches a
level when its method is the level's and its score is at least the level's; a `parts` level
(the address) when each of its parts' best scores reaches the part's minimum (and no part
it is `unless`, compared, scores under its value). A pair's level
for a field is the best any of its evidence reaches, numbered k (the first listed) down to 1;
0 when both sides hold the field and nothing agreed; -1 when either side has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from operator import or_

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.settings import PARTS, LevelRule

PAIR = ["line_number", "customer_id"]


def parts_of(rules: Sequence[LevelRule]) -> list[str]:
    """The parts a field's `parts` levels read, in a stable order; [] for a plain field."""
    return sorted(
        {p for rule in rules if rule.method == PARTS for p, _ in (*rule.parts, *rule.unless)}
    )


def part_column(part: str) -> str:
    """The column of a part's best score beside a pair (`comparison_vectors`, random pairs)."""
    return f"_part_{part}"


def parts_level(levels: Sequence[LevelRule]) -> Column:
    """A pair's level among `parts` levels, from its parts' best scores (`part_column`; null
    when a side lacks the part): the first level all of whose parts reach their minimum and
    none of whose `unless` parts, compared, scores under its value."""
    out = F.lit(0)
    for i, rule in reversed(list(enumerate(levels))):
        reached = F.lit(True)
        for part, least in rule.parts:
            reached = reached & (F.coalesce(F.col(part_column(part)), F.lit(-1.0)) >= least)
        for part, most in rule.unless:
            reached = reached & (F.coalesce(F.col(part_column(part)), F.lit(1.0)) >= most)
        out = F.when(reached, F.lit(len(levels) - i)).otherwise(out)
    return out


def gamma(field: str) -> str:
    """The comparison vector's column for `field`."""
    return f"gamma_{field}"


def reaches(rule: LevelRule) -> Column:
    """Whether an evidence row (method, score) reaches `rule`'s level; no score is full."""
    return (F.col("method") == rule.method) & (
        F.coalesce(F.col("score"), F.lit(1.0)) >= rule.min_score
    )


def level_of(levels: Sequence[LevelRule]) -> Column:
    """An evidence row's level among its field's `levels` (k for the first, 0 for none)."""
    out = F.lit(0)
    for i, rule in reversed(list(enumerate(levels))):
        out = F.when(reaches(rule), F.lit(len(levels) - i)).otherwise(out)
    return out


SEEN = "_seen"  # one bit per field of which a pair has evidence, its parts' rows included


def seen_bit(levels: Mapping[str, Sequence[LevelRule]]) -> Column:
    """A row's field bit in `SEEN`, by its `field` (a part's row sets its field's bit)."""
    bit = F.lit(0)
    for i, (f, rules) in reversed(list(enumerate(levels.items()))):
        names = F.col("field").isin(f, *parts_of(rules))
        bit = F.when(names, F.lit(1 << i)).otherwise(bit)
    return bit


def best_levels(evidence: DataFrame, levels: Mapping[str, Sequence[LevelRule]]) -> DataFrame:
    """Evidence -> (line_number, customer_id, _seen, _<field>...): per pair and field the best
    level its evidence reaches; a `parts` field's from its parts' best scores, judged together
    (null when no part was compared). `_seen`: the fields the pair has any evidence of."""
    fields = list(levels)
    plain = [f for f in fields if not parts_of(levels[f])]
    parts = sorted({p for f in fields for p in parts_of(levels[f])})
    scored = evidence.filter(F.col("customer_id").isNotNull()).select(
        *PAIR,
        "field",
        "score",
        F.coalesce(
            *[F.when(F.col("field") == f, level_of(levels[f])) for f in plain], F.lit(0)
        ).alias("level"),
    )
    best = scored.groupBy(*PAIR).agg(
        *[F.max(F.when(F.col("field") == f, F.col("level"))).alias(f"_{f}") for f in plain],
        *[F.max(F.when(F.col("field") == p, F.col("score"))).alias(part_column(p)) for p in parts],
        F.bit_or(seen_bit(levels)).alias(SEEN),
    )
    return best.select(
        *PAIR,
        SEEN,
        *[f"_{f}" for f in plain],
        *[
            F.when(
                reduce(or_, [F.col(part_column(p)).isNotNull() for p in parts_of(levels[f])]),
                parts_level(levels[f]),
            ).alias(f"_{f}")
            for f in fields
            if f not in plain
        ],
    )


HELD = "held_mask"  # one bit per field or part a line or customer holds (`held_mask`)


def held_bits(levels: Mapping[str, Sequence[LevelRule]]) -> dict[str, int]:
    """Each linkage field and part -> its bit in a `held_mask`."""
    names = sorted({n for f, rules in levels.items() for n in (f, *parts_of(rules))})
    return {n: 1 << i for i, n in enumerate(names)}


def held_mask(
    fields: DataFrame, id_col: str, levels: Mapping[str, Sequence[LevelRule]]
) -> DataFrame:
    """(id_col, field) rows -> (id_col, held_mask): the fields and parts each line or customer
    holds as bits OR-ed together, a native aggregate where a set of names would be collected
    and sorted (a million customers at claim time); a frame that has its mask is kept."""
    if HELD in fields.columns:
        return fields
    bit = F.lit(0)
    for name, b in held_bits(levels).items():
        bit = F.when(F.col("field") == name, F.lit(b)).otherwise(bit)
    return fields.groupBy(id_col).agg(F.bit_or(bit).alias(HELD))


def comparison_vectors(
    evidence: DataFrame,
    line_fields: DataFrame,
    customer_fields: DataFrame,
    levels: Mapping[str, Sequence[LevelRule]],
) -> DataFrame:
    """Candidate pairs -> (line_number, customer_id, gamma_<field>...), one row per pair.

    `evidence`: (line_number, field, customer_id, method, score) rows of both matchers; every
    pair in it with a customer is a candidate. `line_fields` / `customer_fields`: (line_number,
    field) / (customer_id, field) for every field a side holds, or their `held_mask`, to tell
    "disagrees" (0) from "missing" (-1)."""
    return vectors_of(best_levels(evidence, levels), line_fields, customer_fields, levels)


def vectors_of(
    best: DataFrame,
    line_fields: DataFrame,
    customer_fields: DataFrame,
    levels: Mapping[str, Sequence[LevelRule]],
    broadcast_lines: bool = False,
) -> DataFrame:
    """`best_levels` rows -> comparison vectors (`comparison_vectors`): the pairs' levels with
    "disagrees" (0) told from "missing" (-1) by the sides' held fields. `broadcast_lines`:
    the lines' masks (one row per line) are sent whole to every task, and the pairs stay
    where they are to meet them."""
    fields = list(levels)
    bits = held_bits(levels)
    line = held_mask(line_fields, "line_number", levels).withColumnRenamed(HELD, "_line_held")
    line = F.broadcast(line) if broadcast_lines else line
    customer = held_mask(customer_fields, "customer_id", levels).withColumnRenamed(
        HELD, "_customer_held"
    )
    joined = best.join(line, on="line_number", how="left").join(
        customer, on="customer_id", how="left"
    )

    def held(side: str, f: str) -> Column:
        wanted = sum(bits[n] for n in {f, *parts_of(levels[f])})
        return F.coalesce(F.col(side), F.lit(0)).bitwiseAND(F.lit(wanted)) != 0

    both = {f: held("_line_held", f) & held("_customer_held", f) for f in fields}
    return joined.select(
        *PAIR,
        *[
            F.coalesce(F.col(f"_{f}"), F.when(both[f], F.lit(0)).otherwise(F.lit(-1)))
            .cast("int")
            .alias(gamma(f))
            for f in fields
        ],
    )


def line_fields_of(normalised: DataFrame, fields: Sequence[str]) -> DataFrame:
    """sample_normalised -> (line_number, field) for each field whose key the line holds."""
    held = F.array(*[F.when(F.col(f"{f}_key").isNotNull(), F.lit(f)) for f in fields])
    return normalised.select("line_number", F.explode(F.array_compact(held)).alias("field"))
