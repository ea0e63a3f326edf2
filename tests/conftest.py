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
    # Expressions interpreted, not compiled: test data is a few hundred rows, and compiling
    # (Janino, then the JIT on the generated classes) cost more CPU than evaluating them. With
    # two test processes on two cores that is a quarter of a pipeline run. Jobs and `make bench`
    # keep Spark's code generation; test_cluster.py runs the pipeline with it on the cluster
    # and compares its report with the shared run's, made here without it.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    # Delta metadata nothing here reads: per-file column statistics (data skipping on large
    # tables) and the checksum file written after each commit. Without them a write of a few
    # hundred rows takes ~0.45 s instead of ~0.65 s, and a pipeline run makes about 30.
    "spark.databricks.delta.stats.collect": "false",
    "spark.databricks.delta.writeChecksumFile.enabled": "false",
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


# Modules that take minutes, longest first, as `make test` measured them: it hands whole files
# to its worker processes in this order (`--no-loadscope-reorder`), so the long ones start first
# and the short ones fill in around them. The second and third need none of the demo runs the
# first builds (a worker would wait on its lock), and the two multinational ones come apart.
LONGEST_FIRST = (
    "test_pipeline_e2e.py", "test_fuzzy.py", "test_bad_input.py", "test_provenance_e2e.py",
    "test_watch.py", "test_multinational.py", "test_incremental.py",
    "test_verdict_chance.py", "test_sample_ingest.py", "test_crosscheck.py",
    "test_corrupted_linkage.py", "test_fuzzy_recall.py", "test_quality.py",
    "test_quality_suites.py", "test_provenance.py", "test_normalise.py", "test_demo.py",
)  # fmt: skip


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
