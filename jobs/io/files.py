"""Sample files: listing a file or folder (local, or s3a://, abfss://, dbfs:/ through Hadoop)
and reading the first lines the layout sniffer looks at."""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import SparkSession

from jobs.errors import InputError
from jobs.io import compat


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
    return compat.list_remote_files(spark, path)  # s3a://, abfss://, dbfs:/


def head_lines(spark: SparkSession, path: str, n: int = 200) -> list[str]:
    return [r.value for r in spark.read.text(path).limit(n).collect()]


def file_size(path: str) -> int:
    """Bytes of a local file; -1 where it cannot be told (remote or gone)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file:")


def head_bytes(spark: SparkSession, path: str, n: int) -> tuple[bytes, bool]:
    """The first `n` bytes of a file as stored (not decompressed), and whether that is all of
    it: enough to tell what the file is and which encoding it is in."""
    if is_local(path):
        with open(path.removeprefix("file://"), "rb") as fh:
            data = fh.read(n + 1)
        return data[:n], len(data) <= n
    return compat.remote_head_bytes(spark, path, n)


def gzip_problem(path: str) -> str | None:
    """Why a local .gz file cannot be read to its end (truncated, corrupt), or None. Spark
    would fail on it mid-job; this names the file before anything is written."""
    if not is_local(path):
        return None  # remote files: a failed read is reported by `read_failures`
    try:
        with gzip.open(path.removeprefix("file://"), "rb") as fh:
            while fh.read(1 << 22):
                pass
    except EOFError:
        return "the gzip file is truncated (it ends before its end-of-stream marker)"
    except (OSError, zlib.error):
        return "the gzip file is corrupt"
    return None


@contextmanager
def read_failures() -> Iterator[None]:
    """A file Spark fails to read mid-job (a truncated remote .gz) ends the run with exit 3
    naming the file, not with an internal error."""
    try:
        yield
    except Exception as exc:
        text = str(exc)
        if "FAILED_READ_FILE" not in text:
            raise
        found = re.search(r"reading file (\S+?)\.?\s", text)
        where = found.group(1) if found else "a sample file"
        raise InputError(
            f"{where}: Spark could not read it to its end (truncated or corrupt)"
        ) from None


def spark_paths(paths: list[str]) -> list[str]:
    """Paths as Spark's readers take them: a file named `dump [1].csv` or `a{b}.csv` is a file,
    not a glob pattern (Hadoop expands `[]{}*?` unless escaped)."""
    return [compat.glob_escaped(p) for p in paths]
