"""Canary records: customers that exist only in the warehouse, so a sample holding one came
from us."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def canary_hits(evidence: DataFrame, canaries: DataFrame, fields: Sequence[str]) -> DataFrame:
    """Evidence rows (line_number, field, customer_id, ...) that point at a canary customer:
    records that exist only in the warehouse, so any hit means the data came from us."""
    ids = canaries.select(F.col("customer_id").cast("string").alias("customer_id")).distinct()
    return (
        evidence.filter(F.col("customer_id").isNotNull() & F.col("field").isin(*fields))
        .join(ids, on="customer_id", how="inner")
        .select("line_number", "field", "customer_id", "source")
    )


def canary_section(hits: Sequence[Mapping[str, Any]], canaries_listed: int) -> dict[str, Any]:
    """Lines, fields and canary ids hit (internal ids, fine to report), first lines first."""
    lines = sorted({h["line_number"] for h in hits})
    fields: dict[str, set] = {}
    for h in hits:
        fields.setdefault(h["field"], set()).add(h["line_number"])
    return {
        "canary_ids_listed": int(canaries_listed),
        "lines": len(lines),
        "line_numbers": lines[:20],
        "fields": {f: len(v) for f, v in sorted(fields.items())},
        "canary_ids_hit": sorted({str(h["customer_id"]) for h in hits}),
    }
