"""SparkSession construction: local mode with Delta from a project-local jar cache, or the
runtime's own session on Databricks (where Spark and Delta are built in)."""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_VERSION = "4.4.0"
DELTA_PACKAGE = f"io.delta:delta-spark_4.1_2.13:{DELTA_VERSION}"
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def jar_cache() -> Path:
    """Folder where Ivy resolves Delta's jars once; later sessions load them from here offline."""
    default = Path(__file__).resolve().parent.parent / ".cache" / "ivy"
    return Path(os.environ.get("CROSSCHECK_JAR_CACHE", default))


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def launched_by_spark_submit() -> bool:
    """spark-submit (and the pyspark shell) start the JVM first and hand its gateway to Python:
    the master and jars are then theirs, and a builder's `.master()` would override them."""
    return bool(os.environ.get("CROSSCHECK_FROM_SUBMIT") or os.environ.get("PYSPARK_GATEWAY_PORT"))


def _artifact(jar_name: str) -> str:
    """`org.foo_bar-baz_2.13-1.2.3.jar` (Ivy) or `bar-baz_2.13-1.2.3.jar` -> `bar-baz_2.13`."""
    group, _, rest = jar_name.partition("_")
    base = rest if "." in group and "-" not in group else jar_name
    return re.sub(r"-\d[\w.\-]*\.jar$", "", base)


def cached_jars() -> list[str]:
    """Resolved jars minus those pyspark already ships (older copies would shadow nothing but
    clutter the classpath and risk version clashes)."""
    import pyspark

    bundled = {_artifact(p.name) for p in (Path(pyspark.__file__).parent / "jars").glob("*.jar")}
    jars = sorted(glob.glob(str(jar_cache() / "jars" / "*.jar")))
    return [j for j in jars if _artifact(Path(j).name) not in bundled]


def delta_conf() -> dict[str, str]:
    """Spark settings that make Delta available outside Databricks.

    Uses the cached jars when present (no Ivy, no network), else asks Ivy to resolve
    them into the pinned cache, which fills it for next time.
    """
    conf = {
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
    }
    jars = cached_jars()
    if jars:
        conf["spark.jars"] = ",".join(jars)
    else:
        conf["spark.jars.packages"] = DELTA_PACKAGE
        conf["spark.jars.ivy"] = str(jar_cache())
    return conf


LOCAL_DEFAULTS = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=warn",
}


# SQL settings Spark lets a running session change: set on Databricks' own session too.
SQL_DEFAULTS = {
    # Arrow batches to the Python UDFs (the gram hashes) stay bounded by rows
    # (`arrow.maxRecordsPerBatch`, 10,000). Under a byte bound Spark sizes the batch after
    # every row, which for nested lists cost ~15 % of the fuzzy name rows' JVM time; this
    # value (Int.MaxValue) switches that check off.
    "spark.sql.execution.arrow.maxBytesPerBatch": str(2**31 - 1),
    # Samples come in legacy encodings (cp1252, cp1251, Shift_JIS, ...): `decode` takes any Java
    # charset, and bytes a charset lacks become U+FFFD (the line is then quarantined as
    # `invalid_encoding`) instead of failing the whole job.
    "spark.sql.legacy.javaCharsets": "true",
    "spark.sql.legacy.codingErrorAction": "true",
}


def build_session(
    app_name: str = "crosscheck",
    master: str | None = "local[*]",
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Return the active session on Databricks, otherwise a local/cluster session with Delta."""
    from pyspark.sql import SparkSession

    if on_databricks():
        spark = SparkSession.builder.getOrCreate()
        for key, value in SQL_DEFAULTS.items():
            try:
                spark.conf.set(key, value)
            except Exception:  # serverless compute refuses settings off its list: speed only
                pass
        return spark
    builder = SparkSession.builder.appName(app_name)
    if master and not launched_by_spark_submit():
        builder = builder.master(master)
        # Python workers (the gram hashes, `jobs.grams`) need this interpreter's numpy/pyarrow,
        # not whatever `python3` is first on the PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {**LOCAL_DEFAULTS, **SQL_DEFAULTS, **delta_conf(), **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def fetch_jars() -> list[str]:
    """Resolve Delta's jars into the project cache once (needs Maven Central), then stop."""
    if cached_jars():
        return cached_jars()
    spark = build_session("crosscheck-fetch-jars", master="local[1]")
    spark.stop()
    jars = cached_jars()
    if not jars:
        raise SystemExit(f"Delta jars were not resolved into {jar_cache()}")
    return jars


if __name__ == "__main__":
    for jar in fetch_jars():
        print(jar)
