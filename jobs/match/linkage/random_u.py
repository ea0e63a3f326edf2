"""u-probabilities of the compared levels, measured on the warehouse: the same comparisons on
pairs of two different customers drawn at random. A shop where half the customers live in
one postcode learns that a shared postcode says little; a street name every town has weighs
less than a rare one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.match.linkage.compare import (
    COMPARED_METHODS,
    LONE,
    best_scores,
    compared_fields,
    payloads,
    score_floors,
    sides,
)
from jobs.match.linkage.vectors import best_levels
from jobs.settings import LevelRule

RESOLVED = 5  # random pairs a level needs before its measured share replaces a smaller conf u


def _draw(index_rows: DataFrame, side: int, seed: int, salt: int) -> DataFrame:
    """The payloads of `side` customers of the fuzzy index, those of least seeded hash: a
    top-k, no sort of the index."""
    order = F.xxhash64("customer_id", F.lit(seed), F.lit(salt))
    # a customer has a few rows (name, addresses): enough rows for `side` customers
    top = index_rows.select("customer_id").orderBy(order).limit(side * 8)
    ids = top.distinct().orderBy(order).limit(side)
    drawn = index_rows.join(F.broadcast(ids), on="customer_id", how="left_semi")
    return payloads(drawn, "customer_id")


def with_lone_tokens(payload_rows: DataFrame) -> DataFrame:
    """`payloads` rows, `_cut` false, and beside each name of several tokens its last token
    (mostly the surname) as a name of its own with its signature's two words, `_cut` true:
    what a line holds whose first name was left out. One token per name, not the best of
    them: a line has one. One pass over the rows."""
    whole = F.struct("payload", "sig", F.lit(False).alias("_cut"))
    cut = F.struct(
        F.array(F.element_at("payload", -1)).alias("payload"),
        F.slice("sig", -2, 2).alias("sig"),
        F.lit(True).alias("_cut"),
    )
    several = (F.col("field") == "name") & (F.size("payload") > 1)
    forms = F.when(several, F.array(whole, cut)).otherwise(F.array(whole))
    return payload_rows.select("customer_id", "field", F.inline(forms))


def random_pair_scores(
    index_rows: DataFrame,
    pairs: int,
    seed: int,
    initial_score: float,
    floors: Mapping[str, float] | None = None,
) -> DataFrame:
    """(a, b, field, method, score): about `pairs` pairs of different customers (two seeded
    draws of sqrt(pairs) each), every field both hold compared as a candidate pair's is, the
    best score over their values. The draws are small: joined on the field, in one task.
    The lone-token level (`compare.LONE`) is scored with `a`'s names cut to one token each
    (`with_lone_tokens`), as the lines it is for hold them, and no other level is."""
    side = max(int(pairs**0.5), 1)
    a = sides(
        with_lone_tokens(_draw(index_rows, side, seed, 1)), "customer_id", "a", True, ["_cut"]
    )
    b = sides(_draw(index_rows, side, seed, 2), "customer_id", "b", line=False)
    joined = a.join(F.broadcast(b), on="field", how="inner").filter(F.col("a") != F.col("b"))
    scored = best_scores(joined, ["a", "b", "_cut"], initial_score, floors)
    return scored.filter(F.col("_cut") == (F.col("method") == LONE)).drop("_cut")


def measured_u(
    index_rows: DataFrame,
    levels: Mapping[str, Sequence[LevelRule]],
    pairs: int,
    seed: int,
    initial_score: float,
) -> dict[tuple[str, str], float]:
    """(field, level name) -> the share of random customer pairs, among those where both hold
    the field, whose best level it is; for name and address-part levels that compare
    payloads. Add-one smoothed: a level no random pair reached is still possible. A level
    fewer than `RESOLVED` pairs reached is rarer than the draw can tell (the same street and
    house number): conf's u stands when it is smaller than the smoothed share."""
    fields = compared_fields(levels)
    if not fields:
        return {}
    floors = score_floors(levels)
    scored = random_pair_scores(index_rows, pairs, seed, initial_score, floors)
    # the random pairs as candidate pairs: each field's best level per pair, as for a run
    as_candidates = scored.withColumnsRenamed({"a": "line_number", "b": "customer_id"})
    best = best_levels(as_candidates, {f: levels[f] for f in fields})
    held = F.array(
        *[F.struct(F.lit(f).alias("field"), F.col(f"_{f}").alias("level")) for f in fields]
    )
    per_field = best.select(F.inline(held)).filter(F.col("level").isNotNull())
    counts = per_field.groupBy("field", "level").count().collect()
    n = {(r.field, r.level): r["count"] for r in counts}
    out = {}
    for f in fields:
        both = sum(c for (field, _), c in n.items() if field == f)
        if both == 0:  # no drawn pair holds it (no dates of birth mapped): conf's u stands
            continue
        for k, rule in enumerate(reversed(levels[f]), start=1):
            if rule.method in COMPARED_METHODS:
                seen = n.get((f, k), 0)
                smoothed = (seen + 1) / (both + 1)
                rare = seen < RESOLVED and rule.u is not None
                out[(f, rule.name)] = min(rule.u, smoothed) if rare else smoothed
    return out
