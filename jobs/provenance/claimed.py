"""The seller's claimed record count against our customer count."""

from __future__ import annotations

from typing import Any


def claimed_size_section(claimed: int | None, warehouse_customers: int | None) -> dict[str, Any]:
    """The seller's claimed record count against our distinct customers: more is impossible
    (for customer records; say by how much)."""
    out: dict[str, Any] = {"claimed_records": claimed, "warehouse_customers": warehouse_customers}
    if claimed is None or warehouse_customers is None:
        out["impossible"] = None
        return out
    excess = claimed - warehouse_customers
    out["impossible"] = excess > 0
    out["excess"] = max(excess, 0)
    out["ratio"] = round(claimed / warehouse_customers, 6) if warehouse_customers else None
    return out
