"""The `validate` job and the quality_results Delta table: stored tables re-checked with the
suites, results written under the run id and read back for the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import tables as T
from jobs.io.delta import read_source, read_table, table_exists, write_run
from jobs.quality import (
    Suite,
    check_sample,
    customers_view,
    enforce,
    index_run_id,
    load_suites,
    sort_key,
    summary,
    validate,
    volume_check,
)
from jobs.settings import Config

RESULT_FIELDS = (
    "run_id", "table", "expectation", "column", "severity", "success", "observed_value",
    "unexpected_count", "unexpected_percent", "threshold", "checked_at",
)  # fmt: skip


def _row(result: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    return {**{k: result.get(k) for k in RESULT_FIELDS}, "run_id": run_id}


def write_results(
    spark: SparkSession, config: Config, run_id: str, results: Sequence[Mapping[str, Any]]
) -> None:
    """Store results in quality_results, replacing this run's rows for the tables checked
    (rows of other tables of the run are kept, so jobs can write their checks separately)."""
    if not results:
        return
    location = config.table(T.QUALITY)
    rows = [_row(r, run_id) for r in results]
    tables = sorted({r["table"] for r in rows})
    if table_exists(spark, location):
        others = (
            read_table(spark, location)
            .filter((F.col("run_id") == run_id) & ~F.col("table").isin(*tables))
            .collect()
        )
        rows = [o.asDict() for o in others] + rows
    write_run(spark, spark.createDataFrame(rows, T.QUALITY_SCHEMA), location, run_id)


def read_results(
    spark: SparkSession, config: Config, run_id: str, with_index: bool = True
) -> list[dict[str, Any]]:
    """The run's stored results, plus those of the index build in use (the last index_builds
    row; a rejected build never got one), as `summary` rows."""
    location = config.table(T.QUALITY)
    if not table_exists(spark, location):
        return []
    run_ids = [run_id]
    builds = config.table(T.INDEX_BUILDS)
    if with_index and table_exists(spark, builds):
        last = read_table(spark, builds).agg(F.max(F.unix_micros(F.col("built_at"))).alias("us"))
        built_at = _utc(last.first().us)
        if built_at is not None:
            run_ids.append(index_run_id(built_at))
    picked = (
        read_table(spark, location)
        .filter(F.col("run_id").isin(*run_ids))
        .withColumn("checked_at_us", F.unix_micros(F.col("checked_at")))
    )
    rows = []
    for row in picked.collect():
        r = row.asDict()
        r["checked_at"] = _utc(r.pop("checked_at_us"))
        rows.append(r)
    return summary(sorted(rows, key=sort_key))


def _utc(micros: int | None) -> datetime | None:
    """Timestamps back from Spark as UTC, whatever the driver's local time zone."""
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc)


def validate_run(
    spark: SparkSession,
    config: Config,
    run_id: str,
    suites: Mapping[str, Suite] | None = None,
    enforce_gate: bool = True,
) -> list[dict[str, Any]]:
    """Re-check what is stored: the run's sample_raw (both sample suites), the match index
    with its last two builds, and the warehouse customers. Results are written under the
    run id; critical failures then raise."""
    suites = load_suites() if suites is None else suites
    results: list[dict[str, Any]] = []
    raw = read_table(spark, config.table(T.SAMPLE_RAW), needed_by="validate").filter(
        F.col("run_id") == run_id
    )
    results += check_sample(raw, config.normalise, run_id, config.sample.default_country, suites)
    index_location = config.table(T.INDEX)
    builds_location = config.table(T.INDEX_BUILDS)
    if table_exists(spark, index_location):
        index = read_table(spark, index_location)
        if "match_index" in suites:
            results += validate(index, suites["match_index"], run_id)
        if "match_index_volume" in suites:
            builds = None
            if table_exists(spark, builds_location):
                builds = read_table(spark, builds_location)
            results += volume_check(builds, run_id, None, suites["match_index_volume"])
    if "warehouse_customers" in suites:
        role = config.warehouse["customers"]
        customers = customers_view(read_source(spark, "customers", role), role.columns)
        results += validate(customers, suites["warehouse_customers"], run_id)
    write_results(spark, config, run_id, results)
    if enforce_gate:
        enforce(results)
    return results
