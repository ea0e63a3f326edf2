"""What each customer holds, as field and part names: the bits of its `held_mask`, kept beside
the index (table `customer_fields`) so that a claim reads one row per candidate customer
instead of scanning both indexes for its candidates' keys and payloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from operator import add

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.match.linkage.compare import address_presence, part_presence, payloads
from jobs.match.linkage.vectors import HELD, held_bits
from jobs.settings import LevelRule


def customer_field_rows(index: DataFrame, fuzzy_index: DataFrame | None) -> DataFrame:
    """match_index + fuzzy_index -> (customer_id, field): each field a customer has a key for,
    the street and postcode an address key implies, the address parts and date its payloads
    hold (the rows a claim would otherwise make for its candidates)."""
    keyed = index.select("customer_id", "field")
    rows = keyed.unionByName(address_presence(keyed, "customer_id"))
    if fuzzy_index is not None:
        held = payloads(fuzzy_index, "customer_id", distinct=False)
        rows = rows.unionByName(part_presence(held, "customer_id"))
    return rows.filter(F.col("customer_id").isNotNull() & F.col("field").isNotNull())


def held_names(rows: DataFrame) -> DataFrame:
    """(customer_id, field) rows -> (customer_id, fields): the names each customer holds,
    sorted, once each."""
    return rows.groupBy("customer_id").agg(F.array_sort(F.collect_set("field")).alias("fields"))


def names_mask(names: DataFrame, levels: Mapping[str, Sequence[LevelRule]]) -> DataFrame:
    """`held_names` rows -> (customer_id, held_mask), as `held_mask` gives it from the rows:
    one `array_contains` per linkage field and part, no grouping and no lambda."""
    bits = [
        F.when(F.array_contains(F.col("fields"), name), F.lit(bit)).otherwise(F.lit(0))
        for name, bit in held_bits(levels).items()
    ]
    return names.select("customer_id", reduce(add, bits, F.lit(0)).alias(HELD))
