"""How an index build goes: nothing to do, whole, or for the customers whose rows changed
(by their fingerprints, `jobs.io.incremental`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import tables as T
from jobs.io import incremental as incr
from jobs.io.delta import read_table, source_snapshot, table_exists
from jobs.settings import Config
from jobs.steps.common import field_of, key_fingerprint

Roles = dict[str, tuple[DataFrame, Any]]


@dataclass
class Build:
    """What this build does: whole or for the changed customers only."""

    fingerprint: str
    snapshots: dict[str, str]
    full: bool
    fuzzy_current: bool  # the fuzzy index exists and can be merged into
    changed: DataFrame | None = None  # customer_id of the customers to refresh
    customers: int = 0
    refreshed: int = 0
    # the index_builds row's time, and the run id of the build's quality results with it
    built_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    # a refresh's new rows per index ("exact", "fuzzy"), persisted until customer_fields
    new_rows: dict[str, DataFrame] = field(default_factory=dict)


def plan_build(spark: SparkSession, config: Config, key: str, rebuild: bool) -> Build | None:
    """None when nothing changed since the last build; else whether to build whole."""
    fingerprint = key_fingerprint(key, config.matching.rules)
    snapshots = {role: source_snapshot(spark, src) for role, src in config.warehouse.items()}
    names = (T.INDEX, T.INDEX_BUILDS, T.INDEX_FPS)
    last = None
    if all(table_exists(spark, config.table(n)) for n in names):
        builds = read_table(spark, config.table(T.INDEX_BUILDS))
        last = builds.orderBy(F.col("built_at").desc()).first()
    stale = last is None or last.key_fingerprint != fingerprint
    full = rebuild or config.rebuild_index or stale
    fuzzy_current = config.crosscheck.fuzzy and table_exists(spark, config.table(T.FUZZY_INDEX))
    known = "unknown" not in snapshots.values()
    unchanged = dict(field_of(last, "source_snapshots") or {}) == snapshots
    if not full and known and unchanged and (fuzzy_current or not config.crosscheck.fuzzy):
        return None
    return Build(fingerprint, snapshots, full, fuzzy_current)


def fingerprint_customers(
    spark: SparkSession, config: Config, roles: Roles, build: Build
) -> DataFrame:
    """Every customer's fingerprint (persisted); sets the customers to refresh, and turns an
    incremental build into a full one when too many changed."""
    with log.stage("index-fingerprints") as sub:
        current = incr.customer_fingerprints(roles).persist(StorageLevel.MEMORY_AND_DISK)
        build.customers = build.refreshed = sub["rows"] = current.count()
    if not build.full:
        previous = read_table(spark, config.table(T.INDEX_FPS))
        changed = incr.changed_customers(previous, current)
        build.changed = changed.persist(StorageLevel.MEMORY_AND_DISK)
        build.refreshed = build.changed.count()
        build.full = build.refreshed > config.index_full_rebuild_share * max(build.customers, 1)
    return current


def refreshed_roles(roles: Roles, build: Build) -> Roles:
    """The roles' rows of the customers this build normalises."""
    if build.full:
        return roles
    return {r: (incr.restrict(df, src, build.changed), src) for r, (df, src) in roles.items()}


def refreshed_since(
    spark: SparkSession, config: Config, since: datetime, until: datetime
) -> tuple[int, int | None] | None:
    """Customers refreshed by the builds after `since` up to `until`, and the customers of
    the last of them (None without one); None when one of them was not a refresh. What a
    refresh keeps from the last full measurement (the u, the warehouse profile) stays while
    the refreshed are a small share of the customers."""
    builds = read_table(spark, config.table(T.INDEX_BUILDS)).filter(
        (F.col("built_at") > F.lit(since)) & (F.col("built_at") <= F.lit(until))
    )
    rows = builds.select("mode", "customers_refreshed", "customers", "built_at").collect()
    if any(b.mode != "incremental" for b in rows):
        return None
    last = max(rows, key=lambda b: b.built_at).customers if rows else None
    return sum(b.customers_refreshed or 0 for b in rows), last
