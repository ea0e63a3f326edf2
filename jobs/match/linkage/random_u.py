"""u-probabilities of the compared levels, measured on the warehouse: the same comparisons on
pairs of two different customers drawn at random. A shop where half the customers live in
one postcode learns that a shared postcode says little; a street name every town has weighs
less than a rare one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.match.linkage.compare import ADDRESS_PARTS, compared_pairs, part_presence, payloads
from jobs.match.linkage.vectors import comparison_vectors, gamma
from jobs.settings import LevelRule

MEASURED_METHODS = ("fuzzy", "compared")


def random_customer_pairs(index_rows: DataFrame, pairs: int, seed: int) -> DataFrame:
    """(line_number, customer_id): about `pairs` pairs of different customers, each side a
    seeded draw of sqrt(pairs) customers of the fuzzy index; a customer id stands in for
    the line. A draw is the customers of least hash: a top-k, no sort of the index."""
    side = max(int(pairs**0.5), 1)

    def draw(salt: int) -> DataFrame:
        order = F.xxhash64("customer_id", F.lit(seed), F.lit(salt))
        # a customer has a few rows (name, addresses): enough rows for `side` customers
        top = index_rows.select("customer_id").orderBy(order).limit(side * 8)
        return top.distinct().orderBy(order).limit(side)

    a = draw(1).select(F.col("customer_id").alias("line_number"))
    return a.crossJoin(draw(2)).filter(F.col("line_number") != F.col("customer_id"))


def measured_u(
    index_rows: DataFrame,
    levels: Mapping[str, Sequence[LevelRule]],
    pairs: int,
    seed: int,
    initial_score: float,
) -> dict[tuple[str, str], float]:
    """(field, level name) -> the share of random customer pairs, among those where both hold
    the field, whose best level it is; for name and address-part levels that compare
    payloads. Add-one smoothed: a level no random pair reached is still possible."""
    fields = [f for f in levels if f == "name" or f in ADDRESS_PARTS]
    if not fields:
        return {}
    sample = random_customer_pairs(index_rows, pairs, seed).persist()
    drawn = sample.select("customer_id").union(sample.select("line_number")).distinct()
    customer_payloads = payloads(
        index_rows.join(F.broadcast(drawn), on="customer_id", how="left_semi"), "customer_id"
    )
    lines = customer_payloads.select(F.col("customer_id").alias("line_number"), "field", "payload")
    evidence = compared_pairs(sample, lines, customer_payloads, initial_score)
    held = part_presence(customer_payloads, "customer_id").unionByName(
        customer_payloads.filter(F.col("field") == "name").select("customer_id", "field")
    )
    vectors = comparison_vectors(
        evidence,
        held.withColumnRenamed("customer_id", "line_number"),
        held,
        {f: levels[f] for f in fields},
    )
    counts = vectors.agg(
        *[
            F.count(F.when(F.col(gamma(f)) == k, 1)).alias(f"{f}#{k}")
            for f in fields
            for k in range(len(levels[f]) + 1)
        ]
    ).first()
    sample.unpersist()
    out = {}
    for f in fields:
        both = sum(counts[f"{f}#{k}"] for k in range(len(levels[f]) + 1))
        for k, rule in enumerate(reversed(levels[f]), start=1):
            if rule.method in MEASURED_METHODS:
                out[(f, rule.name)] = (counts[f"{f}#{k}"] + 1) / (both + 1)
    return out
