"""Incremental refresh of the match index: only customers whose warehouse rows changed are
normalised again. A per-customer fingerprint (hash of every mapped column of every row in
every role) is kept beside the index; comparing it with the current one names the customers
to refresh, and a Delta MERGE swaps their index rows."""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.settings import SourceConf


def role_row_hashes(df: DataFrame, role: str, source: SourceConf) -> DataFrame:
    """(customer_id, h): a hash of each row's role and mapped columns."""
    cols = sorted(source.columns.items())
    row_hash = F.xxhash64(F.lit(role), *[F.col(src).cast("string").alias(dst) for dst, src in cols])
    return df.select(
        F.col(source.columns["customer_id"]).cast("string").alias("customer_id"),
        row_hash.alias("h"),
    )


def customer_fingerprints(roles: Mapping[str, tuple[DataFrame, SourceConf]]) -> DataFrame:
    """(customer_id, fp): an order-independent hash of every row the customer has in every
    role (XOR of the row hashes, and their number). One aggregation over all roles' rows:
    per-role fingerprints combined by a second grouping cost two more shuffles and a sort."""
    parts = [role_row_hashes(df, role, src) for role, (df, src) in roles.items()]
    rows = reduce(DataFrame.unionByName, parts)
    return (
        rows.groupBy("customer_id")
        .agg(F.bit_xor("h").alias("x"), F.count(F.lit(1)).alias("n"))
        .select("customer_id", F.xxhash64("x", "n").alias("fp"))
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
