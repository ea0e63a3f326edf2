"""Sample files: listing a file or folder (local, or s3a://, abfss://, dbfs:/ through Hadoop)
and reading the first lines the layout sniffer looks at."""

from __future__ import annotations

import os

from pyspark.sql import SparkSession

from jobs.errors import InputError


def list_files(spark: SparkSession, path: str) -> list[str]:
    """Files of a sample path (a file or a folder; hidden and `_` files skipped)."""
    if "://" not in path or path.startswith("file:"):
        local = path.removeprefix("file://")
        if os.path.isfile(local):
            return [os.path.abspath(local)]
        if os.path.isdir(local):
            found = [
                os.path.join(root, name)
                for root, _, names in os.walk(local)
                for name in names
                if not name.startswith((".", "_"))
            ]
            if found:
                return sorted(os.path.abspath(f) for f in found)
            raise InputError(f"sample folder {path} holds no files")
        raise InputError(f"sample path {path} does not exist")
    jvm = spark._jvm  # remote file systems (s3a://, abfss://, dbfs:/) through Hadoop
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        raise InputError(f"sample path {path} does not exist")
    files, it = [], fs.listFiles(hpath, True)
    while it.hasNext():
        p = it.next().getPath()
        if not p.getName().startswith((".", "_")):
            files.append(p.toString())
    return sorted(files)


def head_lines(spark: SparkSession, path: str, n: int = 200) -> list[str]:
    return [r.value for r in spark.read.text(path).limit(n).collect()]


def file_size(path: str) -> int:
    """Bytes of a local file; -1 where it cannot be told (remote or gone)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return -1
