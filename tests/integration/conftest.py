"""Generated demo data and a helper that runs jobs through the real CLI entry point."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.__main__ import main


def built_once(tmp_path_factory, name: str, build: Callable[[Path], object]) -> Path:
    """Folder `name`, filled by `build(folder)` once per test run: under `make test` the
    first worker process to ask builds it while the others wait on a file lock, then all of
    them read it (the demo data, the indexes and the shared run are minutes of work each)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, one per `make test`, shared by its workers
    folder = base / name
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / f"{name}.built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (base / f"{name}.built").touch()
    return folder


@pytest.fixture(scope="session", autouse=True)
def test_session(spark):
    """The test session exists before any test runs the CLI: `main` then finds it active and
    runs in it, whichever file a worker process starts with, instead of starting a session with
    the job's own settings (all cores, 8 shuffle partitions, compiled expressions)."""
    return spark


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """A small warehouse plus a planted sample (30 % planted lines, broken lines)."""
    from tools.demo import generate

    def build(out: Path) -> None:
        generate(out, customers=3000, sample_lines=600, planted_share=0.3, broken=12, seed=7)

    return built_once(tmp_path_factory, "demo", build)


@pytest.fixture(scope="session")
def fabricated(tmp_path_factory, demo):
    """The same warehouse seed with a sample of fabricated lines only."""
    from tools.demo import generate

    def build(out: Path) -> None:
        generate(out, customers=3000, sample_lines=400, fabricated_only=True, broken=0, seed=7)

    return built_once(tmp_path_factory, "fabricated", build)


PLANTED_RUN_ID = "planted"


@pytest.fixture(scope="session")
def demo_index(demo, tmp_path_factory) -> Path:
    """A lakehouse holding the demo warehouse's index and nothing else. Tests that run samples
    against the demo warehouse start from a copy (`copy_lakehouse`): the index is built once,
    and each copy finds the warehouse unchanged. What the build logged is kept beside it."""
    root = built_once(tmp_path_factory, "demo_index", lambda r: build_index(demo / "warehouse", r))
    return root / "lakehouse"


@pytest.fixture(scope="session")
def intl_demo(tmp_path_factory) -> Path:
    """A multinational sample as sellers write it (several files, national phones, the
    country only in some columns) against its own 3,000-customer warehouse."""
    from tools.demo import generate

    def build(out: Path) -> None:
        generate(out, customers=3000, sample_lines=600, planted_share=0.3, broken=6,
                 multinational=True, seed=13)  # fmt: skip

    return built_once(tmp_path_factory, "multinational", build)


@pytest.fixture(scope="session")
def intl_index(intl_demo, tmp_path_factory) -> Path:
    """The multinational warehouse's index, built once (see `demo_index`)."""
    root = built_once(
        tmp_path_factory, "intl_index", lambda r: build_index(intl_demo / "warehouse", r)
    )
    return root / "lakehouse"


def build_index(warehouse: Path, root: Path) -> Path:
    """root/lakehouse after `ingest-warehouse`; root/ingest.log holds what it logged."""
    lakehouse = root / "lakehouse"
    code, logged = logging_to_string(lambda: run_cli("ingest-warehouse", lakehouse, warehouse))
    (root / "ingest.log").write_text(logged, encoding="utf-8")
    assert code == 0, logged[-2000:]
    return lakehouse


def copy_lakehouse(template: Path, dest: Path) -> Path:
    """A lakehouse of its own holding the template's tables (path-based Delta tables keep
    relative file paths, so a copied folder is a complete lakehouse)."""
    shutil.copytree(template, dest, dirs_exist_ok=True)
    return dest


def logging_to_string(fn):
    """(fn(), everything the project logged while it ran)."""
    import io
    import logging

    from jobs import log

    stream = io.StringIO()
    log.setup_logging(stream)
    try:
        value = fn()
    finally:
        log.setup_logging()
        logging.getLogger("crosscheck").handlers.clear()
    return value, stream.getvalue()


@pytest.fixture(scope="session")
def planted_run(demo, demo_index, tmp_path_factory):
    """One `run` of the CLI on the demo sample, shared by every module (and worker process)
    that only reads its outputs: (lakehouse, exit code, what it and the index build logged).
    A test that writes to it works on a copy."""

    def build(root: Path) -> None:
        lakehouse = copy_lakehouse(demo_index, root / "lakehouse")
        code, logged = logging_to_string(lambda: run_planted(lakehouse, demo))
        (root / "run.log").write_text(logged, encoding="utf-8")
        (root / "exit_code").write_text(str(code))

    root = built_once(tmp_path_factory, "planted_run", build)
    built = (demo_index.parent / "ingest.log").read_text(encoding="utf-8")
    logged = (root / "run.log").read_text(encoding="utf-8")
    return root / "lakehouse", int((root / "exit_code").read_text()), built + logged


def run_planted(lakehouse: Path, demo: Path) -> int:
    sample = str(demo / "sample")
    return run_cli(
        "run", lakehouse, demo / "warehouse", "--sample", sample, "--run-id", PLANTED_RUN_ID
    )


def read_truth(folder: Path) -> list[dict]:
    with open(folder / "truth.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def cli_args(lakehouse: Path, warehouse: Path) -> list[str]:
    return [
        "--set", f"lakehouse={lakehouse}",
        "--set", f"warehouse.customers.path={warehouse}/customers",
        "--set", f"warehouse.addresses.path={warehouse}/addresses",
        "--set", f"warehouse.orders.path={warehouse}/orders",
    ]  # fmt: skip


def run_cli(job: str, lakehouse: Path, warehouse: Path, *extra: str) -> int:
    return main([job, *cli_args(lakehouse, warehouse), *extra])


def run_row_counts(spark, lakehouse: Path, run_id: str, tables) -> dict[str, int]:
    """Rows each Delta table of the lakehouse holds for one run."""
    from pyspark.sql import functions as F

    def rows(table: str) -> int:
        df = spark.read.format("delta").load(str(lakehouse / table))
        return df.filter(F.col("run_id") == run_id).count()

    return {t: rows(t) for t in tables}


def load_report(lakehouse: Path, run_id: str) -> dict:
    return json.loads((lakehouse / "reports" / run_id / "report.json").read_text())


def canonical(path: Path) -> dict:
    """report.json without what differs between two runs of the same data: the order of rows
    read back from Delta, and the time each quality check ran."""
    report = json.loads(path.read_text())
    report["blocking"] = sorted(report.get("blocking", []), key=lambda b: b["field"])
    quality = [{k: v for k, v in q.items() if k != "checked_at"} for q in report.get("quality", [])]
    report["quality"] = sorted(quality, key=lambda q: json.dumps(q, sort_keys=True, default=str))
    return report


def index_rows(spark, lakehouse: Path) -> set[tuple]:
    """Every row of a lakehouse's match_index, as (field, match_key, customer_id, source)."""
    df = spark.read.format("delta").load(str(lakehouse / "match_index"))
    return {tuple(r) for r in df.select("field", "match_key", "customer_id", "source").collect()}


def find_leaks(texts: dict[str, str], needles: set[str]) -> set[tuple[str, str]]:
    """(where, value) for every planted value that appears as a whole token in a text."""
    return {
        (where, n)
        for where, text in texts.items()
        for n in needles
        if re.search(rf"(?<![\w@.+]){re.escape(n)}(?![\w@])", text)
    }


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A standalone cluster per test module that asks for one: master + 2 workers (1 core,
    1 GiB each) on free ports; stopped by their pids."""
    from tools import cluster

    started = cluster.start(tmp_path_factory.mktemp("cluster"), workers=2, cores=1, memory="1g",
                            java_opts=cluster.QUICK_JVM)  # fmt: skip
    yield started
    cluster.stop(started.pids)
