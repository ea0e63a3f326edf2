"""Incremental index refresh: unchanged warehouse -> kept; a few customers changed -> only
they are re-normalised, and the result equals a full rebuild."""

from __future__ import annotations

import shutil

import pandas as pd
from pyspark.sql import functions as F

from jobs.settings import load_config
from jobs.steps import ingest_warehouse
from tests.integration.conftest import index_rows


def config_for(lakehouse, wh, *more):
    return load_config(
        overrides=[
            f"lakehouse={lakehouse}",
            f"warehouse.customers.path={wh}/customers",
            f"warehouse.addresses.path={wh}/addresses",
            f"warehouse.orders.path={wh}/orders",
            *more,
        ]
    )


def rows_per_file(spark, table) -> list[int]:
    df = spark.read.format("delta").load(str(table))
    return [r[1] for r in df.groupBy(F.input_file_name()).count().collect()]


def data_files(spark, table) -> set[str]:
    return set(spark.read.format("delta").load(str(table)).inputFiles())


def delta_version(spark, table) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{table}` LIMIT 1").first().version


def fields_of(spark, lakehouse) -> list:
    df = spark.read.format("delta").load(str(lakehouse / "customer_fields"))
    return [(r.customer_id, tuple(r.fields)) for r in df.collect()]


def test_refresh_only_changed_customers(spark, tmp_path):
    from tools.demo import generate

    generate(tmp_path / "d", customers=300, sample_lines=10, broken=0, seed=9)
    wh = tmp_path / "d" / "warehouse"
    lakehouse = tmp_path / "lh"
    config = config_for(lakehouse, wh)

    assert ingest_warehouse(spark, config)["mode"] == "full"
    assert ingest_warehouse(spark, config)["mode"] == "unchanged"
    indexes = ("match_index", "fuzzy_index", "customer_fields")
    files_before = {t: data_files(spark, lakehouse / t) for t in indexes}
    profile_version = delta_version(spark, lakehouse / "warehouse_profile")

    customers = pd.read_parquet(wh / "customers")
    changed = customers.head(3).copy()
    changed["email"] = [f"moved{i}@example.org" for i in range(3)]
    added = customers.tail(2).copy()
    added["customer_id"] = [100_001, 100_002]
    added["email"] = ["new1@example.org", "new2@example.org"]
    rest = customers.iloc[3:]
    shutil.rmtree(wh / "customers")
    (wh / "customers").mkdir()
    pd.concat([changed, rest, added]).to_parquet(
        wh / "customers" / "part-00000.parquet", index=False
    )

    result = ingest_warehouse(spark, config)
    assert result["mode"] == "incremental"
    assert result["customers_refreshed"] == 3 + 2
    incremental = index_rows(spark, lakehouse)
    # the changed customers' rows are marked deleted, no data file is rewritten
    for table in indexes:
        assert files_before[table] <= data_files(spark, lakehouse / table), table
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{lakehouse / table}`").first()
        assert detail.properties.get("delta.enableDeletionVectors") == "true"

    # rebuilt with small files: the same rows, every file within the cap
    rebuilt = tmp_path / "lh_full"
    small = config_for(rebuilt, wh, "index.max_records_per_file=150")
    assert ingest_warehouse(spark, small, rebuild=True)["mode"] == "full"
    assert incremental == index_rows(spark, rebuilt)
    for table in ("match_index", "fuzzy_index"):
        counts = rows_per_file(spark, rebuilt / table)
        assert max(counts) <= 150 and len(counts) >= sum(counts) / 150
    assert {r[2] for r in incremental} >= {"100001", "100002"}
    # what each customer holds, swapped for the refreshed ones: as a full build writes it
    held = {tuple(r) for r in fields_of(spark, lakehouse)}
    assert held == {tuple(r) for r in fields_of(spark, rebuilt)}
    assert {c for c, _ in held} >= {"100001", "100002"}
    assert all("email" in f for c, f in held if c in ("100001", "100002"))

    builds = spark.read.format("delta").load(str(lakehouse / "index_builds"))
    modes = [r.mode for r in builds.orderBy("built_at").collect()]
    assert modes == ["full", "incremental"]
    assert builds.filter(F.col("mode") == "incremental").first().customers_refreshed == 5
    # 5 of 300 customers is under linkage.u_refresh_share (5 %): the full build's u is kept
    full_at, refreshed_at = [r.built_at for r in builds.orderBy("built_at").collect()]
    u = spark.read.format("delta").load(str(lakehouse / "linkage_u"))

    def u_of(built_at):
        return sorted(
            (r.field, r.level or "", r.u) for r in u.filter(F.col("built_at") == built_at).collect()
        )

    assert u_of(refreshed_at) == u_of(full_at) != []
    measured = u.filter(F.col("built_at") == refreshed_at).select("measured_at").distinct()
    assert [r.measured_at for r in measured.collect()] == [full_at]
    # and the warehouse profile: not written again, the refresh's build row says from when
    assert profile_version == delta_version(spark, lakehouse / "warehouse_profile")
    assert [r.profile_at for r in builds.orderBy("built_at").collect()] == [full_at, full_at]


def test_an_index_of_another_format_is_rebuilt_whole(spark, tmp_path):
    """An index built under another format (or hash key) has another fingerprint in
    index_builds: it is rebuilt whole, never merged into or read, and then kept."""
    from tools.demo import generate

    generate(tmp_path / "d", customers=200, sample_lines=10, broken=0, seed=5)
    lakehouse = tmp_path / "lh"
    config = config_for(lakehouse, tmp_path / "d" / "warehouse")
    assert ingest_warehouse(spark, config)["mode"] == "full"
    builds = str(lakehouse / "index_builds")
    older = spark.read.format("delta").load(builds).withColumn("key_fingerprint", F.lit("older"))
    older.localCheckpoint().write.format("delta").mode("overwrite").save(builds)

    assert ingest_warehouse(spark, config)["mode"] == "full"
    assert ingest_warehouse(spark, config)["mode"] == "unchanged"
