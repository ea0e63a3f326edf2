"""Reading and writing Delta tables: the only place that knows about paths and catalogs.

DeltaTable's Python API over Spark Connect needs Delta Connect's plugin on the server; under
Connect the few operations that used it (is it a Delta table, DELETE, MERGE, history) are run
as Delta SQL instead, which every server with Delta's SQL extension takes."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from jobs.errors import InputError, MissingTableError
from jobs.io.compat import is_connect
from jobs.settings import SourceConf


def _is_catalog_name(location: str) -> bool:
    return "/" not in location and ":" not in location


def table_exists(spark: SparkSession, location: str) -> bool:
    if _is_catalog_name(location):
        return spark.catalog.tableExists(location)
    if is_connect(spark):
        return _is_delta_path(spark, location)
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, location)


def read_table(spark: SparkSession, location: str, needed_by: str = "") -> DataFrame:
    if not table_exists(spark, location):
        hint = f" (needed by {needed_by}; run the job that writes it first)" if needed_by else ""
        raise MissingTableError(f"Delta table {location} does not exist{hint}")
    return _load(spark, location)


def _load(spark: SparkSession, location: str) -> DataFrame:
    if _is_catalog_name(location):
        return spark.read.table(location)
    return spark.read.format("delta").load(location)


def _writer(df: DataFrame, mode: str, partition_by: Iterable[str] = ()):
    writer = df.write.format("delta").mode(mode)
    cols = list(partition_by)
    if cols:
        writer = writer.partitionBy(*cols)
    return writer


def _save(writer, location: str) -> None:
    if _is_catalog_name(location):
        writer.saveAsTable(location)
    else:
        writer.save(location)


def write_run(spark: SparkSession, df: DataFrame, location: str, run_id: str) -> None:
    """Replace exactly this run's rows (partitioned by run_id): re-runs never duplicate. A run
    the table does not hold yet (every first run) is appended: one commit either way, and an
    append costs a third of a `replaceWhere` overwrite, which a run makes about 20 of."""
    if not table_exists(spark, location):
        _save(_writer(df, "overwrite", ["run_id"]), location)
        return
    if _holds_run(spark, location, run_id):
        writer = _writer(df, "overwrite", ["run_id"]).option("replaceWhere", f"run_id = '{run_id}'")
    else:
        writer = _writer(df, "append", ["run_id"])
    _save(writer.option("mergeSchema", "true"), location)  # later versions may add columns


def _holds_run(spark: SparkSession, location: str, run_id: str) -> bool:
    """Whether the (existing) table has rows of this run: the run_id filter prunes the scan to
    its partition's files, found from the Delta log, and at most one row is read."""
    return not _load(spark, location).filter(F.col("run_id") == run_id).isEmpty()


def clear_run(spark: SparkSession, location: str, run_id: str) -> None:
    """Delete this run's rows where the table exists: a re-run that no longer makes a
    table's rows (fuzzy matching switched off) must not leave the first run's behind."""
    if not table_exists(spark, location):
        return
    if is_connect(spark):
        # a literal: Delta's DELETE leaves named parameter markers unbound
        spark.sql(f"DELETE FROM {_sql_name(location)} WHERE run_id = {_sql_string(run_id)}")
    else:
        _delta(spark, location).delete(F.col("run_id") == run_id)


def overwrite(
    df: DataFrame,
    location: str,
    partition_by: Iterable[str] = (),
    max_records_per_file: int | None = None,
) -> None:
    """Replace the table. `max_records_per_file` caps each data file: a table read whole by
    every cross-check (the indexes) is then split across all cores, not one file per field."""
    writer = _writer(df, "overwrite", partition_by).option("overwriteSchema", "true")
    if max_records_per_file:
        writer = writer.option("maxRecordsPerFile", str(max_records_per_file))
    _save(writer, location)


def append(df: DataFrame, location: str) -> None:
    """Append, letting the table gain new columns (older builds lack them)."""
    _save(_writer(df, "append").option("mergeSchema", "true"), location)


def _sql_name(location: str) -> str:
    """The table in Delta SQL: a catalog name, or delta.`path` (absolute: Delta SQL takes a
    relative path for a table name; the writers resolve it from the working directory)."""
    if _is_catalog_name(location):
        return location
    if ":" not in location and not os.path.isabs(location):
        location = os.path.abspath(location)
    return "delta.`" + location.replace("`", "``") + "`"


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _is_delta_path(spark: SparkSession, location: str) -> bool:
    """Whether a Delta table is at this path: its schema resolves (Connect analyses on the
    server, where a missing path or one without a Delta log fails analysis)."""
    from pyspark.errors import AnalysisException

    try:
        spark.read.format("delta").load(location).schema  # noqa: B018 - analysed for its error
    except AnalysisException:
        return False
    return True


def _latest_version(spark: SparkSession, location: str) -> int:
    if is_connect(spark):
        return spark.sql(f"DESCRIBE HISTORY {_sql_name(location)} LIMIT 1").first().version
    return _delta(spark, location).history(1).select("version").first().version


def _delta(spark: SparkSession, location: str):
    from delta.tables import DeltaTable

    if _is_catalog_name(location):
        return DeltaTable.forName(spark, location)
    return DeltaTable.forPath(spark, location)


def replace_customers(
    spark: SparkSession,
    location: str,
    customers: DataFrame,
    rows: DataFrame,
) -> None:
    """Swap the index rows of some customers: MERGE-delete theirs, then append the new ones.
    A crash in between is repaired by the next refresh (fingerprints are written last). The
    table marks the deleted rows in deletion vectors: a few changed customers are spread over
    every data file, and without them each file would be rewritten whole. The new rows of a
    partitioned table are gathered per partition first: one file each, not one per task and
    partition (8 x 4 small files per refresh, and a third of its append)."""
    ids = customers.select(F.col("customer_id").alias("_cid"))
    partition_by = enable_deletion_vectors(spark, location).partitionColumns
    if is_connect(spark):
        _merge_delete_sql(spark, location, ids)
    else:
        (
            _delta(spark, location)
            .alias("t")
            .merge(ids.alias("s"), "t.customer_id = s._cid")
            .whenMatchedDelete()
            .execute()
        )
    if partition_by:
        rows = rows.repartition(*[F.col(c) for c in partition_by])
    _save(_writer(rows, "append"), location)


DELETION_VECTORS = "delta.enableDeletionVectors"


def enable_deletion_vectors(spark: SparkSession, location: str) -> Row:
    """Turn on the table's deletion vectors once (a table property; readers need Delta 2.3 or
    Databricks Runtime 12.2 and later). Returns the table's `DESCRIBE DETAIL` row."""
    detail = spark.sql(f"DESCRIBE DETAIL {_sql_name(location)}").first()
    if (detail.properties or {}).get(DELETION_VECTORS) != "true":
        spark.sql(
            f"ALTER TABLE {_sql_name(location)} SET TBLPROPERTIES ('{DELETION_VECTORS}' = 'true')"
        )
    return detail


def _merge_delete_sql(spark: SparkSession, location: str, ids: DataFrame) -> None:
    """The same MERGE as Delta SQL, its source a temporary view of this session."""
    view = f"_crosscheck_merge_{uuid.uuid4().hex}"
    ids.createOrReplaceTempView(view)
    try:
        spark.sql(
            f"MERGE INTO {_sql_name(location)} AS t USING {view} AS s "
            "ON t.customer_id = s._cid WHEN MATCHED THEN DELETE"
        )
    finally:
        spark.catalog.dropTempView(view)


def source_snapshot(spark: SparkSession, source: SourceConf) -> str:
    """A cheap identity of a source's current content: its Delta version, or its file listing
    (names, sizes, modification times). "unknown" when neither can be had."""
    location = source.table or source.path or ""
    try:
        if source.format == "delta" or source.table:
            if table_exists(spark, location):
                return f"delta:{_latest_version(spark, location)}"
            return "unknown"
        local = location.removeprefix("file://")
        if "://" in local or not os.path.exists(local):
            return "unknown"
        listing = []
        for root, _, names in os.walk(local):
            for name in sorted(names):
                stat = os.stat(os.path.join(root, name))
                listing.append(
                    f"{os.path.relpath(os.path.join(root, name), local)}:"
                    f"{stat.st_size}:{stat.st_mtime_ns}"
                )
        return "files:" + hashlib.sha256("\n".join(sorted(listing)).encode()).hexdigest()[:16]
    except Exception:  # noqa: BLE001 - an unknown snapshot only means "compare fingerprints"
        return "unknown"


# Mapped columns a source may lack (read as null): romanised names exist only in some CRMs.
OPTIONAL_COLUMNS = frozenset({"first_name_latin", "last_name_latin", "name_latin"})


def read_source(spark: SparkSession, role: str, source: SourceConf) -> DataFrame:
    """Read one warehouse role from a catalog table or a path (delta, parquet, csv)."""
    try:
        if source.table:
            df = spark.read.table(source.table)
        else:
            reader = spark.read.format(source.format).options(**source.options)
            if source.format == "csv":
                reader = reader.option("header", "true")
            df = reader.load(source.path)
    except Exception as exc:  # noqa: BLE001 - turned into one clear line
        where = source.table or source.path
        raise InputError(
            f"warehouse.{role}: cannot read {where} as {source.format} ({type(exc).__name__})"
        ) from None
    for logical, physical in source.columns.items():
        if logical in OPTIONAL_COLUMNS and physical not in df.columns:
            df = df.withColumn(physical, F.lit(None).cast("string"))
    missing = [c for c in source.columns.values() if c not in df.columns]
    if missing:
        raise InputError(f"warehouse.{role}: columns {missing} not found in the source")
    return df
