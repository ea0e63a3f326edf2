"""Landing-zone mode: `python -m jobs watch --landing PATH` runs the whole pipeline once for each
sample file dropped in PATH, on a schedule, without anyone picking files by hand.

A sample is known by the sha-256 of its bytes, so a renamed or re-uploaded copy is not run
twice. Its run id is derived from that hash (`landing-<first 16 hex>`), which makes every run
idempotent: the pipeline's writes replace that run's rows. The `processed_samples` Delta table
logs `started` before a run and `done` only after its reports are written, so a crash between
the two leaves the sample to the next invocation, which redoes it under the same run id: no
sample is lost and none is counted twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import steps as pl
from jobs import tables as T
from jobs.errors import ConfigError, CrosscheckError
from jobs.io.delta import append, read_table, table_exists
from jobs.render import html as html_report
from jobs.settings import Config

# Files still being uploaded or written by other tools: skipped until they get their final name.
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")


class SamplesFailed(CrosscheckError):
    """Some samples could not be processed; the others were. The exit code is the first
    failure's, so the scheduler shows what kind of problem to look at."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def sample_files(landing: str | Path) -> list[Path]:
    """Top-level files of the landing folder in name order (date-prefixed names run oldest
    first), without hidden, `_`-prefixed or partially uploaded files."""
    folder = Path(str(landing).removeprefix("file:"))
    if not folder.is_dir():
        raise ConfigError(f"landing folder not found: {folder}")
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "_"))
        and not p.name.endswith(PARTIAL_SUFFIXES)
    )


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_id_for(digest: str) -> str:
    return f"landing-{digest[:16]}"


def done_hashes(spark: SparkSession, config: Config) -> set[str]:
    location = config.table(T.PROCESSED)
    if not table_exists(spark, location):
        return set()
    done = read_table(spark, location).filter(F.col("state") == "done").select("content_hash")
    return {r.content_hash for r in done.distinct().collect()}


def _record(spark: SparkSession, config: Config, row: dict[str, Any]) -> None:
    row = {"verdict": None, "error": None, **row, "recorded_at": datetime.now(timezone.utc)}
    append(spark.createDataFrame([row], schema=T.PROCESSED_SCHEMA), config.table(T.PROCESSED))


def run_sample(spark: SparkSession, config: Config, path: Path, run_id: str) -> dict:
    """The `run` job for one file: ingest, cross-check, report (json, md and html)."""
    pl.ingest_sample(spark, config, str(path), run_id)
    pl.run_crosscheck(spark, config, run_id)
    report = pl.make_report(spark, config, run_id)
    html_report.write_html(report, report["_dir"])
    return report


def process_landing(spark: SparkSession, config: Config, landing: str | Path) -> dict:
    """Run every sample in `landing` not done before; returns what was processed and skipped.

    A sample that fails with a known error (unreadable file, failed quality gate) is logged
    as `failed` and the others still run; it is tried again next time, as only `done` counts.
    Any other exception stops the invocation: the next one resumes where it stopped.
    """
    files = sample_files(landing)
    done = done_hashes(spark, config)
    pending: dict[str, Path] = {}
    skipped: list[dict] = []
    for path in files:
        digest = content_hash(path)
        if digest in done or digest in pending:
            skipped.append({"file": path.name, "run_id": run_id_for(digest)})
        else:
            pending[digest] = path
    log.info("landing scanned", stage="watch", files=len(files), pending=len(pending))
    if pending:
        pl.ingest_warehouse(spark, config)
    processed: list[dict] = []
    failed: list[tuple[str, CrosscheckError]] = []
    for digest, path in pending.items():
        run_id = run_id_for(digest)
        base = {"content_hash": digest, "run_id": run_id, "file_name": path.name,
                "bytes": path.stat().st_size}  # fmt: skip
        log.set_context(run_id=run_id)
        _record(spark, config, {**base, "state": "started"})
        try:
            report = run_sample(spark, config, path, run_id)
        except CrosscheckError as exc:
            _record(spark, config, {**base, "state": "failed", "error": type(exc).__name__})
            log.error("sample failed", stage="watch", file=path.name, error=str(exc))
            failed.append((path.name, exc))
            continue
        verdict = report["verdict"]["code"]
        _record(spark, config, {**base, "state": "done", "verdict": verdict})
        processed.append({"file": path.name, "run_id": run_id, "verdict": verdict,
                          "report": report["_dir"]})  # fmt: skip
    if failed:
        names = ", ".join(f"{name} (exit {exc.exit_code})" for name, exc in failed)
        raise SamplesFailed(
            f"{len(failed)} of {len(pending)} new samples failed: {names}; the others were done",
            failed[0][1].exit_code,
        )
    return {"processed": processed, "skipped": skipped}
