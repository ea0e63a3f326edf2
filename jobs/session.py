"""SparkSession construction: local mode with Delta from a project-local jar cache, the
runtime's own session on Databricks (where Spark and Delta are built in), or a Spark Connect
session when CROSSCHECK_SPARK_REMOTE names a server (`sc://host:15002`) or a master
(`local[2]`: a Connect server started in this process with the same Delta settings)."""

from __future__ import annotations

import glob
import os
import re
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_VERSION = "4.4.0"
DELTA_PACKAGE = f"io.delta:delta-spark_4.1_2.13:{DELTA_VERSION}"
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
REMOTE_ENV = "CROSSCHECK_SPARK_REMOTE"
# Delta Connect's server plugin (io.delta:delta-connect-server_4.1_2.13): DeltaTable's Python API
# over Connect needs it on the server. Without it (its jar not in the cache) `jobs.io.delta`
# uses Delta's SQL, which needs only the SQL extension, so a Connect server with Delta but
# without the plugin runs the jobs too.
_PLUGINS = "org.apache.spark.sql.connect.delta"
DELTA_CONNECT_PLUGINS = {
    "spark.connect.extensions.relation.classes": f"{_PLUGINS}.DeltaRelationPlugin",
    "spark.connect.extensions.command.classes": f"{_PLUGINS}.DeltaCommandPlugin",
}


def jar_cache() -> Path:
    """Folder where Ivy resolves Delta's jars once; later sessions load them from here offline."""
    default = Path(__file__).resolve().parent.parent / ".cache" / "ivy"
    return Path(os.environ.get("CROSSCHECK_JAR_CACHE", default))


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def databricks_secret(ref: str) -> str:
    """A workspace secret ("scope/key") through the runtime's dbutils. Errors name the scope
    and key, never a value."""
    scope, _, key = ref.partition("/")
    if not scope or not key:
        raise ConfigError(f"hash_key_secret must be scope/key, not {ref!r}")
    try:
        from databricks.sdk.runtime import dbutils

        value = dbutils.secrets.get(scope=scope, key=key)
    except Exception as err:  # noqa: BLE001 - no runtime, no scope, no permission
        msg = f"cannot read secret {key!r} of scope {scope!r}: {type(err).__name__}"
        raise ConfigError(msg) from None
    if not value:
        raise ConfigError(f"secret {key!r} of scope {scope!r} is empty")
    return value


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


def delta_connect_conf() -> dict[str, str]:
    """The Delta Connect plugin's settings when its jar is in the cache, else none."""
    if any("delta-connect-server" in Path(j).name for j in cached_jars()):
        return dict(DELTA_CONNECT_PLUGINS)
    return {}


def spark_remote() -> str | None:
    """The Connect server or local master CROSSCHECK_SPARK_REMOTE names, if any."""
    return os.environ.get(REMOTE_ENV) or None


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
        return _with_sql_defaults(SparkSession.builder.getOrCreate())
    remote = spark_remote()
    if remote:
        return _connect_session(remote, conf)
    builder = SparkSession.builder.appName(app_name)
    if master and not launched_by_spark_submit():
        builder = builder.master(master)
        _worker_python()
    return _quiet(_configured(builder, conf).getOrCreate())


def _configured(  # noqa: ANN202 - a classic or a Connect builder
    builder,  # noqa: ANN001
    conf: Mapping[str, str] | None,
    extra: Mapping[str, str] | None = None,
):
    """The builder with the local settings, Delta's, `extra`, then `conf` over them."""
    settings = {**LOCAL_DEFAULTS, **SQL_DEFAULTS, **delta_conf(), **(extra or {}), **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    return builder


def _quiet(spark: SparkSession) -> SparkSession:
    from jobs.io import compat

    compat.set_log_level(spark, "ERROR")
    return spark


def _worker_python() -> None:
    """Python workers (the gram hashes, `jobs.grams`) need this interpreter's numpy/pyarrow,
    not whatever `python3` is first on the PATH."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def _with_sql_defaults(spark: SparkSession) -> SparkSession:
    """SQL_DEFAULTS set on a session this process did not configure (Databricks, a remote
    Connect server)."""
    for key, value in SQL_DEFAULTS.items():
        try:
            spark.conf.set(key, value)
        except Exception:  # serverless compute refuses settings off its list: speed only
            pass
    return spark


def _connect_session(remote: str, conf: Mapping[str, str] | None) -> SparkSession:
    """A Spark Connect session. `local[...]`: pyspark starts a Connect server in this process
    from these settings (Delta's extension, catalog and jars, the Delta Connect plugin when
    cached); its static settings go to the server, the SQL ones to the session. `sc://...`:
    the server is configured by whoever runs it; only SQL settings are sent."""
    from pyspark.sql import SparkSession

    from jobs import log

    log.info("spark connect session", remote=remote.split(";")[0])  # no token in the log
    if not remote.startswith("local"):
        return _with_sql_defaults(SparkSession.builder.remote(remote).getOrCreate())
    _worker_python()
    builder = _configured(SparkSession.builder.remote(remote), conf, delta_connect_conf())
    with warnings.catch_warnings():  # the static settings, offered to the session too
        warnings.filterwarnings("ignore", message=r"(?s).*CANNOT_MODIFY_(STATIC_)?CONFIG")
        return _quiet(builder.getOrCreate())


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
