"""From scored pairs to links: the u-probability of an exact key from the warehouse's key
frequencies, each line's best customer, and a one-to-one assignment for samples that hold
one line per person."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

LINK_COLUMNS = ["line_number", "customer_id", "match_weight", "match_probability"]


def exact_u(index: DataFrame) -> DataFrame:
    """match_index -> (field, u, customers holding the field): u is the chance that two
    different customers share a key of the field, sum over keys of (customers with the key /
    customers with the field)^2. A common surname makes it larger, so an exact name weighs
    less in a shop of Müllers."""
    per_key = index.select("field", "match_key", "customer_id").distinct()
    counts = per_key.groupBy("field", "match_key").agg(F.count(F.lit(1)).alias("n"))
    holders = per_key.select("field", "customer_id").distinct().groupBy("field").count()
    sums = counts.groupBy("field").agg(F.sum(F.col("n") * F.col("n")).alias("n2"))
    return sums.join(holders, on="field", how="inner").select(
        "field",
        (F.col("n2") / (F.col("count") * F.col("count"))).alias("u"),
        F.col("count").alias("customers"),
    )


def _order() -> list:
    return [F.col("match_weight").desc(), F.col("customer_id"), F.col("line_number")]


def best_per_line(scored: DataFrame, extra: Sequence[str] = ()) -> DataFrame:
    """Each line's best-weighted customer (ties: the smallest customer id)."""
    by_line = Window.partitionBy("line_number").orderBy(*_order())
    return (
        scored.withColumn("_rank", F.row_number().over(by_line))
        .filter(F.col("_rank") == 1)
        .select(*LINK_COLUMNS, *extra)
    )


def one_to_one(scored: DataFrame, rounds: int = 8, extra: Sequence[str] = ()) -> DataFrame:
    """Greedy by weight, each line and each customer used once. The best remaining pair is
    always the best of its line and of its customer, so taking every such mutually-best pair
    at once, removing their lines and customers and repeating gives the greedy assignment;
    after `rounds` the lines left keep their best remaining customer."""
    by_line = Window.partitionBy("line_number").orderBy(*_order())
    by_customer = Window.partitionBy("customer_id").orderBy(*_order())
    left, taken = scored, []
    for _ in range(rounds):
        ranked = left.withColumn("_l", F.row_number().over(by_line)).withColumn(
            "_c", F.row_number().over(by_customer)
        )
        chosen = (
            ranked.filter((F.col("_l") == 1) & (F.col("_c") == 1))
            .select(*LINK_COLUMNS, *extra)
            .localCheckpoint()
        )
        if chosen.isEmpty():
            break
        taken.append(chosen)
        left = left.join(chosen.select("line_number"), on="line_number", how="left_anti").join(
            chosen.select("customer_id"), on="customer_id", how="left_anti"
        )
    rest = best_per_line(left, extra)
    out = rest
    for part in taken:
        out = out.unionByName(part)
    return out.select(*LINK_COLUMNS, *extra)
