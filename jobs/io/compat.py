"""The one place that reaches into Spark's JVM (py4j handles, the SparkContext), each use with
a Spark Connect alternative. A Connect session (Databricks serverless and shared clusters,
`CROSSCHECK_SPARK_REMOTE`) has no SparkContext, no `_jvm`/`_jsc` and no RDDs; everything else
in `jobs` uses the DataFrame API only (tests/unit/test_no_jvm_handles.py keeps it so)."""

from __future__ import annotations

import re

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.errors import InputError


def is_connect(spark: SparkSession) -> bool:
    """A Spark Connect session (its class lives in `pyspark.sql.connect`)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def glob_escaped(path: str) -> str:
    """A path as Spark's file sources take it: `[]{}*?` are a file name's, not a pattern."""
    return re.sub(r"([\\{}\[\]*?])", r"\\\1", path)


def set_log_level(spark: SparkSession, level: str) -> None:
    """Spark's own log level. Under Connect only a server this process started (`local[...]`)
    can be told; a remote server keeps its own logging."""
    if not is_connect(spark):
        spark.sparkContext.setLogLevel(level)
        return
    from pyspark import SparkContext

    server = SparkContext._active_spark_context  # the in-process server of `local[...]`
    if server is None:
        return
    server.setLogLevel(level)
    # The server logs each failed request with its message, which can quote data values; the
    # client raises the same error, and the job reports it without the values.
    log4j = server._jvm.org.apache.logging.log4j
    log4j.core.config.Configurator.setLevel(
        "org.apache.spark.sql.connect.utils.ErrorUtils", log4j.Level.OFF
    )


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def list_remote_files(spark: SparkSession, path: str) -> list[str]:
    """Files under a remote path (s3a://, abfss://, dbfs:/), recursively, hidden and `_` files
    skipped. Classic: Hadoop's FileSystem; Connect: the `binaryFile` source reading only each
    file's path (no content is read)."""
    if is_connect(spark):
        return _list_with_binary_file(spark, path)
    jvm = spark._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        raise InputError(f"sample path {path} does not exist")
    files, it = [], fs.listFiles(hpath, True)
    while it.hasNext():
        p = it.next().getPath()
        if not _hidden(p.getName()):
            files.append(p.toString())
    return sorted(files)


def _binary_files(spark: SparkSession, path: str):
    return (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(glob_escaped(path))
    )


def _list_with_binary_file(spark: SparkSession, path: str) -> list[str]:
    from pyspark.errors import AnalysisException

    try:
        rows = _binary_files(spark, path).select("path").collect()
    except AnalysisException:
        raise InputError(f"sample path {path} does not exist") from None
    return sorted(r.path for r in rows if not _hidden(r.path.rstrip("/").rsplit("/", 1)[-1]))


def remote_head_bytes(spark: SparkSession, path: str, n: int) -> tuple[bytes, bool]:
    """The first `n` bytes of a remote file as stored, and whether that is all of it.
    Classic: a Hadoop stream reads n + 1 bytes. Connect: the `binaryFile` source; its executor
    reads the whole file (up to `spark.sql.sources.binaryFile.maxLength`, 2 GiB) but only
    n bytes and the length travel to the client."""
    if is_connect(spark):
        row = (
            _binary_files(spark, path)
            .select(F.substring("content", 1, n).alias("head"), "length")
            .first()
        )
        if row is None:
            raise InputError(f"sample file {path} does not exist")
        return bytes(row.head), row.length <= n
    jvm = spark._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    stream = hpath.getFileSystem(spark._jsc.hadoopConfiguration()).open(hpath)
    try:
        data = bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream, n + 1))
    except Exception:  # noqa: BLE001 - a file shorter than n + 1 bytes
        stream.seek(0)
        data = bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
    finally:
        stream.close()
    return data[:n], len(data) <= n
