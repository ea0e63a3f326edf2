"""What every step shares: the hash key and its fingerprint, run ids, one-row tables."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import tables as T
from jobs.errors import MissingTableError
from jobs.io.delta import read_table, table_exists
from jobs.session import databricks_secret, on_databricks
from jobs.settings import BlockRule, Config

# The index format: raised whenever the keys a value gives or the index tables' layout change
# (normalisation rules, key or block layout). An index of another format is rebuilt whole, as
# for a new hash key: nothing reads an older layout.
INDEX_FORMAT = b"index-v6"


def key_fingerprint(key: str, rules: Sequence[BlockRule]) -> str:
    """Identifies the hash key, the index format and the blocks the rules make, without
    revealing the key, so a stale index is caught: an index built before a blocking rule was
    added or changed holds none of its blocks, and would meet nothing through it."""
    blocks = [(r.name, r.key, r.length, r.digits, r.min_length, r.per_country) for r in rules]
    message = b"crosscheck-key-check|" + INDEX_FORMAT + repr(blocks).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:16]


def hash_key(config: Config) -> str:
    """The secret for keyed hashes: the env var, else on Databricks the secret scope's (where
    serverless tasks have no cluster env vars); loud when it is the public demo key."""
    key, is_demo = config.hash_key()
    if is_demo and config.hash_key_secret and on_databricks():
        return databricks_secret(config.hash_key_secret)
    if is_demo:
        log.warning(
            f"DEMO HASH KEY IN USE: set {config.hash_key_env} to a secret for real data",
            stage="setup",
        )
    return key


def new_run_id() -> str:
    now = datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def latest_run_id(spark: SparkSession, config: Config) -> str:
    runs = read_table(spark, config.table(T.SAMPLE_RUNS), needed_by="choosing the latest run")
    row = runs.orderBy(F.col("started_at").desc()).select("run_id").first()
    if row is None:
        raise MissingTableError("no sample has been ingested yet: run ingest-sample first")
    return row.run_id


def one_row(spark: SparkSession, row: dict[str, Any], schema: str | None = None) -> DataFrame:
    return spark.createDataFrame([row], schema=schema)


def run_table(spark: SparkSession, config: Config, name: str, run_id: str) -> DataFrame:
    """A per-run table's rows of one run."""
    return read_table(spark, config.table(name)).filter(F.col("run_id") == run_id)


def run_rows(spark: SparkSession, config: Config, name: str, run_id: str) -> list[dict]:
    """A per-run table's rows for the run, as dicts ([] when the table is not there yet)."""
    if not table_exists(spark, config.table(name)):
        return []
    return [r.asDict() for r in run_table(spark, config, name, run_id).drop("run_id").collect()]


def field_of(row: Any, name: str) -> Any:
    """A Row's field, None when the row or the field is missing."""
    return row[name] if row is not None and name in row.__fields__ else None
