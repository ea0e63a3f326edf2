"""ingest-warehouse: the warehouse roles -> the match index (exact keys), the fuzzy index and
our customers' profile.

Unchanged sources (same Delta versions / same files) -> nothing to do. Changed sources -> only
customers whose rows changed are normalised again and MERGEd, unless more than
`index.full_rebuild_share` of them changed, the hash key or index format changed, or a rebuild
is asked for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log, quality
from jobs import provenance as prov
from jobs import tables as T
from jobs.io.delta import (
    append,
    overwrite,
    read_source,
    read_table,
    replace_customers,
    table_exists,
)
from jobs.match import fuzzy, keys
from jobs.match import linkage as lk
from jobs.settings import Config
from jobs.steps.common import hash_key
from jobs.steps.index_plan import (
    Build,
    Roles,
    fingerprint_customers,
    plan_build,
    refreshed_roles,
    refreshed_since,
)
from jobs.steps.validate import write_results
from jobs.steps.warehouse_u import write_warehouse_u


def ingest_warehouse(spark: SparkSession, config: Config, rebuild: bool = False) -> dict:
    """Warehouse roles -> the match index (field, match_key, customer_id, sources)."""
    key = hash_key(config)
    build = plan_build(spark, config, key, rebuild)
    if build is None:
        log.info(
            "warehouse unchanged since the last index build; index kept", stage="ingest-warehouse"
        )
        return {"mode": "unchanged"}
    with log.stage("ingest-warehouse") as st:
        roles = {r: (read_source(spark, r, src), src) for r, src in config.warehouse.items()}
        current = fingerprint_customers(spark, config, roles, build)
        values = _index_values(refreshed_roles(roles, build), config)
        counts = _write_exact(spark, config, roles, values, key, build)
        if config.crosscheck.fuzzy:
            values = _write_fuzzy(spark, config, roles, values, key, build)
        _write_customer_fields(spark, config, build)
        _unpersist(build.new_rows)
        with log.stage("index-fingerprints-write"):
            overwrite(current, config.table(T.INDEX_FPS))
        current.unpersist()
        profile_at = _profile_kept_from(spark, config, build)
        if profile_at is None:
            # a full build's values hold every customer: the profile reads e-mail and phone there
            _write_warehouse_profile(config, roles["customers"], values if build.full else None)
            profile_at = build.built_at
        _unpersist(values)
        mode = "full" if build.full else "incremental"
        st.update(rows=sum(counts.values()), mode=mode, customers_refreshed=build.refreshed)
    row = {"built_at": build.built_at, "key_fingerprint": build.fingerprint,
           "rows_per_field": counts, "source_snapshots": build.snapshots, "mode": mode,
           "customers_refreshed": build.refreshed, "customers": build.customers,
           "profile_at": profile_at}  # fmt: skip
    append(spark.createDataFrame([row], T.INDEX_BUILDS_SCHEMA), config.table(T.INDEX_BUILDS))
    write_warehouse_u(spark, config, build.built_at, refresh=not build.full)
    return {"mode": mode, "rows_per_field": counts, "customers_refreshed": build.refreshed}


def _role_values(roles: Roles) -> list[DataFrame]:
    return [
        keys.role_values(role, df, src.columns)
        for role, (df, src) in roles.items()
        if role in keys.SOURCES
    ]


def _index_values(roles: Roles, config: Config) -> dict[str, DataFrame]:
    """Per field, the roles' distinct values cleaned (`keys.index_values`), persisted: the
    exact index, the fuzzy index and the warehouse profile are made from them, so each value is
    cleaned once."""
    birth_dates = config.warehouse_maps("date_of_birth")
    values = keys.index_values(_role_values(roles), config.normalise, birth_dates)
    return {f: v.persist(StorageLevel.MEMORY_AND_DISK) for f, v in values.items()}


def _unpersist(values: dict) -> None:
    for v in values.values():
        v.unpersist()


def _write_exact(
    spark: SparkSession, config: Config, roles: Roles, values: dict, key: str, build: Build
) -> dict[str, int]:
    """The exact keys, checked (exit 4 before the index is replaced), then written whole or
    merged for the refreshed customers (their rows left persisted in `build.new_rows`).
    Returns rows per field."""
    location = config.table(T.INDEX)
    new_rows = keys.keys_of(values, key).persist(StorageLevel.MEMORY_AND_DISK)
    index = new_rows
    with log.stage("index-keys", mode="full" if build.full else "incremental") as sub:
        counts = _rows_per_field(new_rows)
        if not build.full:
            # the rows kept are counted, not materialised: a refresh's checks judge the new
            # rows alone and the whole index only by its counts and table rules
            kept = read_table(spark, location).join(build.changed, "customer_id", "left_anti")
            kept_counts = _rows_per_field(kept)
            counts = {f: counts.get(f, 0) + kept_counts.get(f, 0) for f in counts | kept_counts}
            index = kept.unionByName(new_rows)
        sub["rows"] = sum(counts.values())
    refreshed = None if build.full else new_rows
    _check_index(spark, config, roles, index, counts, build.built_at, refreshed)
    with log.stage("index-write"):
        if build.full:
            overwrite(index, location, ["field"], config.index_max_records_per_file)
            new_rows.unpersist()
        else:
            replace_customers(spark, location, build.changed, new_rows)
            build.new_rows["exact"] = new_rows
    return counts


def _rows_per_field(rows: DataFrame) -> dict[str, int]:
    per_field = rows.groupBy("field").agg(F.count(F.lit(1)).alias("n")).collect()
    return {r.field: r.n for r in per_field}


def _check_index(
    spark: SparkSession,
    config: Config,
    roles: Roles,
    index: DataFrame,
    counts: dict,
    built_at: datetime,
    new_rows: DataFrame | None,
) -> None:
    builds = config.table(T.INDEX_BUILDS)
    check_run = quality.index_run_id(built_at)
    customers_df, customers_src = roles["customers"]
    previous = read_table(spark, builds) if table_exists(spark, builds) else None
    customers = quality.customers_view(customers_df, customers_src.columns)
    checks = quality.check_index(index, counts, previous, check_run, customers, new_rows=new_rows)
    write_results(spark, config, check_run, checks)
    quality.enforce(checks)


def _write_fuzzy(
    spark: SparkSession, config: Config, roles: Roles, values: dict, key: str, build: Build
) -> dict[str, DataFrame]:
    """The fuzzy index, from the same cleaned values: merged for the refreshed customers
    (their rows left persisted in `build.new_rows`), or written whole (rebuilt from every
    customer when the exact index was only merged into)."""
    location = config.table(T.FUZZY_INDEX)
    whole = build.full or not build.fuzzy_current
    with log.stage("fuzzy-index") as st:
        # customers whose rows are made: the µs per customer the bench sets beside the sample's
        st["rows"] = build.customers if whole else build.refreshed
        if whole:
            if not build.full:
                _unpersist(values)
                values = _index_values(roles, config)
            rows = fuzzy.fuzzy_index_of(values, key, config.matching)
            overwrite(rows, location, ["field"], config.index_max_records_per_file)
        else:
            rows = fuzzy.fuzzy_index_of(values, key, config.matching)
            build.new_rows["fuzzy"] = rows.persist(StorageLevel.MEMORY_AND_DISK)
            replace_customers(spark, location, build.changed, build.new_rows["fuzzy"])
    return values


def _write_customer_fields(spark: SparkSession, config: Config, build: Build) -> None:
    """What each customer holds (`linkage.held_names`), from both indexes as they now are: a
    claim reads its candidates' rows here instead of scanning both indexes for them. Written
    whole with a whole index, else swapped for the refreshed customers (before the
    fingerprints, so a crash in between is repaired by the next refresh, as for the index),
    from the rows this refresh wrote for them (`build.new_rows`): what both indexes now hold
    for them, without a scan of either."""
    location = config.table(T.CUSTOMER_FIELDS)
    fuzzy_location = config.table(T.FUZZY_INDEX)
    index = read_table(spark, config.table(T.INDEX))
    fuzzy_index = read_table(spark, fuzzy_location) if table_exists(spark, fuzzy_location) else None
    whole = (
        build.full
        or (config.crosscheck.fuzzy and not build.fuzzy_current)
        or not table_exists(spark, location)
    )
    with log.stage("customer-fields", mode="full" if whole else "incremental") as st:
        if not whole:
            index = build.new_rows["exact"]
            if "fuzzy" in build.new_rows:
                fuzzy_index = build.new_rows["fuzzy"]
            elif fuzzy_index is not None:  # kept from before fuzzy matching was turned off
                fuzzy_index = fuzzy_index.join(build.changed, on="customer_id", how="left_semi")
        names = lk.held_names(lk.customer_field_rows(index, fuzzy_index))
        if whole:
            overwrite(names, location)
        else:
            replace_customers(spark, location, build.changed, names)
        st["rows"] = read_table(spark, location).count() if whole else build.refreshed


def _profile_kept_from(spark: SparkSession, config: Config, build: Build) -> datetime | None:
    """When the warehouse profile a refresh keeps was made, or None to make it again: kept
    while the customers refreshed since then, this build's included, are at most
    `provenance.profile_refresh_share` of all. Bucketed shares of domains, calling codes and
    countries move by about that share at most, and making the profile again cleaned every
    customer's e-mail and phone (a sixth of a refresh at 1 M customers)."""
    location, builds = config.table(T.WAREHOUSE_PROFILE), config.table(T.INDEX_BUILDS)
    if build.full or not table_exists(spark, location) or not table_exists(spark, builds):
        return None
    last = read_table(spark, builds).orderBy(F.col("built_at").desc()).first()
    if last is None:
        return None
    # builds written before the column made their profile
    made = last.asDict().get("profile_at") or last.built_at
    since = refreshed_since(spark, config, made, build.built_at)
    if since is None:
        return None
    refreshed = since[0] + build.refreshed
    return made if refreshed <= config.provenance.profile_refresh_share * build.customers else None


def _write_warehouse_profile(
    config: Config, customers: tuple[DataFrame, Any], index_values: dict | None
) -> None:
    """Our customers' e-mail domains, calling codes and countries as bucketed counts: what
    each sample's profile is compared with. With a full build's `index_values` (persisted),
    e-mail and phone are read there instead of being cleaned again."""
    df, src = customers
    people = prov.contact_columns(df, src.columns)
    if index_values is not None:
        bit = 1 << keys.SOURCES.index("customers")
        values = prov.index_profile_values(index_values, people, bit, config.normalise)
    else:
        values = prov.profile_values(people, config.normalise)
    with log.stage("warehouse-profile"):
        counts = prov.profile_counts(values, config.provenance.profile_min_count)
        overwrite(counts, config.table(T.WAREHOUSE_PROFILE))
