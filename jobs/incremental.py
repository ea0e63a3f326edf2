"""Incremental refresh of the match index: only customers whose warehouse rows changed are
normalised again. A per-customer fingerprint (hash of every mapped column of every row in
every role) is kept beside the index; comparing it with the current one names the customers
to refresh, and a Delta MERGE swaps their index rows."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.config import SourceConf


def role_fingerprints(df: DataFrame, role: str, source: SourceConf) -> DataFrame:
    """(customer_id, role, fp): an order-independent hash of the customer's rows in a role."""
    cols = sorted(source.columns.items())
    row_hash = F.xxhash64(*[F.col(src).cast("string").alias(dst) for dst, src in cols])
    return (
        df.select(
            F.col(source.columns["customer_id"]).cast("string").alias("customer_id"),
            row_hash.alias("h"),
        )
        .groupBy("customer_id")
        .agg(F.bit_xor("h").alias("x"), F.count(F.lit(1)).alias("n"))
        .select("customer_id", F.lit(role).alias("role"), F.xxhash64("x", "n").alias("fp"))
    )


def customer_fingerprints(roles: Mapping[str, tuple[DataFrame, SourceConf]]) -> DataFrame:
    """(customer_id, fp) over all roles."""
    parts = [role_fingerprints(df, role, src) for role, (df, src) in roles.items()]
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return (
        out.groupBy("customer_id")
        .agg(F.sort_array(F.collect_list(F.struct("role", "fp"))).alias("fps"))
        .select("customer_id", F.xxhash64(F.col("fps")).alias("fp"))
    )


def changed_customers(previous: DataFrame, current: DataFrame) -> DataFrame:
    """Customers added, removed or changed since the previous fingerprints."""
    joined = previous.select("customer_id", F.col("fp").alias("old")).join(
        current.select("customer_id", F.col("fp").alias("new")), on="customer_id", how="full"
    )
    return joined.filter(
        F.col("old").isNull() | F.col("new").isNull() | (F.col("old") != F.col("new"))
    ).select("customer_id")


def restrict(df: DataFrame, source: SourceConf, customers: DataFrame) -> DataFrame:
    """Rows of a role that belong to the given customers."""
    key = F.col(source.columns["customer_id"]).cast("string")
    ids = customers.select(F.col("customer_id").alias("_cid"))
    return df.join(F.broadcast(ids), on=key == F.col("_cid"), how="left_semi")
