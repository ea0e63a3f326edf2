"""One SparkSession (with Delta) for the whole test run, tuned for small data."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.sql.adaptive.coalescePartitions.initialPartitionNum": "1",
    "spark.driver.memory": "4g",  # one JVM for the whole run: broadcasts of late tests need room
}


@pytest.fixture(scope="session")
def spark():
    from jobs.session import build_session

    session = build_session("crosscheck-tests", master="local[2]", conf=TEST_SPARK_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def norm_conf():
    from jobs.settings import load_config

    return load_config().normalise
