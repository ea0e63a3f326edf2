"""The provenance evidence of a cross-checked run: canary hits, overlap with earlier samples
(then this run's keys join prior_samples), the sample's profile beside ours, and the claimed
size beside our customer count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import provenance as prov
from jobs import tables as T
from jobs.io.delta import read_table, table_exists, write_run
from jobs.match import keys, sample_lines
from jobs.settings import Config
from jobs.steps.common import field_of, one_row, run_table


def write_provenance(
    spark: SparkSession,
    config: Config,
    run_id: str,
    ingested_at: datetime,
    claimed: int | None,
    build: Any,
) -> None:
    """canary_evidence, recycled_overlap, prior_samples, sample_profile, profile_divergence
    and provenance_runs for the run."""
    with log.stage("provenance") as st:
        n_canaries = _canaries(spark, config, run_id)
        st["rows"] = _recycled(spark, config, run_id, ingested_at)
        _profile(spark, config, run_id)
        customers = _warehouse_customers(spark, config, build)
        row = {"run_id": run_id, "claimed_records": claimed, "warehouse_customers": customers,
               "canary_ids_listed": n_canaries}  # fmt: skip
        row_df = one_row(spark, row, T.PROVENANCE_RUNS_SCHEMA)
        write_run(spark, row_df, config.table(T.PROVENANCE), run_id)


def _canary_ids(spark: SparkSession, config: Config) -> DataFrame:
    pc = config.provenance
    ids = spark.createDataFrame([(i,) for i in pc.canary_ids], "customer_id string")
    if pc.canary_table:
        table = read_table(spark, pc.canary_table, needed_by="provenance.canary_table")
        listed = table.select(F.col("customer_id").cast("string").alias("customer_id"))
        ids = ids.unionByName(listed)
    return ids.distinct()


def _canaries(spark: SparkSession, config: Config, run_id: str) -> int:
    """canary_evidence; returns how many canary ids are listed."""
    evidence = run_table(spark, config, T.EVIDENCE, run_id)
    canaries = _canary_ids(spark, config).persist()
    n_canaries = canaries.count()
    hits = prov.canary_hits(evidence, canaries, config.provenance.canary_fields)
    write_run(spark, hits.withColumn("run_id", F.lit(run_id)), config.table(T.CANARY), run_id)
    canaries.unpersist()
    return int(n_canaries)


def _recycled(spark: SparkSession, config: Config, run_id: str, ingested_at: datetime) -> int:
    """recycled_overlap against earlier samples, then this run's keys into prior_samples;
    returns the run's key count."""
    normalised = run_table(spark, config, T.NORMALISED, run_id)
    sample_keys = keys.sample_keys_long(normalised, config.crosscheck.fields)
    sample_keys = sample_keys.persist(StorageLevel.MEMORY_AND_DISK)
    n_keys = sample_keys.count()
    prior_location = config.table(T.PRIOR)
    if table_exists(spark, prior_location):
        prior = read_table(spark, prior_location)
        broadcast = n_keys <= config.crosscheck.broadcast_sample_keys_max
        overlap = prov.recycled_overlap(sample_keys, prior, run_id, ingested_at, broadcast)
    else:
        overlap = spark.createDataFrame([], T.OVERLAP_SCHEMA)
    overlap = overlap.withColumn("run_id", F.lit(run_id))
    write_run(spark, overlap, config.table(T.RECYCLED), run_id)
    write_run(
        spark, prov.prior_sample_keys(sample_keys, run_id, ingested_at), prior_location, run_id
    )
    sample_keys.unpersist()
    return n_keys


def _profile(spark: SparkSession, config: Config, run_id: str) -> None:
    """sample_profile (bucketed, beside ours) and profile_divergence."""
    raw = run_table(spark, config, T.SAMPLE_RAW, run_id)
    located = sample_lines.with_line_country(raw, config.normalise, config.sample.default_country)
    values = prov.profile_values(located.select("email", "phone", "country"), config.normalise)
    counts = prov.profile_counts(values, 1).persist()  # not bucketed yet: never stored
    wh_location = config.table(T.WAREHOUSE_PROFILE)
    if table_exists(spark, wh_location):
        warehouse = read_table(spark, wh_location)
    else:
        warehouse = spark.createDataFrame([], T.COUNTS_SCHEMA)
    run_col = F.lit(run_id)
    bucketed = prov.bucket_counts(counts, config.provenance.profile_min_count)
    comparison = prov.compare_profiles(bucketed, warehouse).withColumn("run_id", run_col)
    write_run(spark, comparison, config.table(T.PROFILE), run_id)
    divergence = prov.profile_divergence(counts, warehouse).withColumn("run_id", run_col)
    write_run(spark, divergence, config.table(T.DIVERGENCE), run_id)
    counts.unpersist()


def _warehouse_customers(spark: SparkSession, config: Config, build: Any) -> int:
    """Customers in the warehouse at the index build `build` (counted then)."""
    counted = field_of(build, "customers")
    if counted is not None:
        return int(counted)
    index = read_table(spark, config.table(T.INDEX))
    return int(index.agg(F.countDistinct("customer_id").alias("n")).first().n)
