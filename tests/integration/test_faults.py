"""Faults a scheduled job meets: two runs against one lakehouse at the same time (the daily
`watch` and an on-call engineer's manual run), each in its own process. Both finish, or the
loser stops with one line naming the concurrent write (exit 75) and a retry finishes it;
neither loses, repeats or mixes rows. `make chaos` runs these; CI runs it after `make test`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from tests.integration.conftest import PLANTED_RUN_ID, cli_args, copy_lakehouse, load_report

pytestmark = [pytest.mark.slow, pytest.mark.chaos]
RUN_TABLES = ("sample_raw", "sample_quarantine", "sample_normalised", "sample_runs", "evidence",
              "fuzzy_evidence", "field_summary", "line_links", "crosscheck_runs",
              "run_verdicts")  # fmt: skip
CONCURRENT = 75  # exit code of a run that lost a concurrent write
ROOT = Path(__file__).resolve().parents[2]


def start_run(lakehouse: Path, demo: Path, run_id: str, log: Path) -> subprocess.Popen:
    args = [*cli_args(lakehouse, demo / "warehouse"), "--sample", str(demo / "sample")]
    cmd = [sys.executable, "-m", "jobs", "run", *args, "--run-id", run_id]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)


def rows_per_table(spark, lakehouse: Path, run_id: str) -> dict[str, int]:
    def rows(table: str) -> int:
        df = spark.read.format("delta").load(str(lakehouse / table))
        return df.filter(F.col("run_id") == run_id).count()

    return {t: rows(t) for t in RUN_TABLES}


@pytest.fixture(scope="module")
def two_at_once(planted_run, demo, tmp_path_factory):
    """The planted run's lakehouse (its tables exist, as in production), then two runs of
    the demo sample under new run ids, started together; a run that lost is retried once."""
    root = tmp_path_factory.mktemp("concurrent")
    lakehouse = copy_lakehouse(planted_run[0], root / "lakehouse")
    started = time.monotonic()
    procs = {rid: start_run(lakehouse, demo, rid, root / f"{rid}.log") for rid in ("a", "b")}
    codes = {rid: p.wait(timeout=1200) for rid, p in procs.items()}
    print(f"two runs started together, finished after {time.monotonic() - started:.0f} s: {codes}")
    retried = {}
    for rid, code in codes.items():
        if code == CONCURRENT:
            retried[rid] = start_run(lakehouse, demo, rid, root / f"{rid}-retry.log").wait(1200)
    logs = {p.stem: p.read_text(errors="replace") for p in root.glob("*.log")}
    return lakehouse, codes, retried, logs


def test_both_finish_or_the_loser_says_so_and_a_retry_finishes(two_at_once):
    _, codes, retried, logs = two_at_once
    assert set(codes.values()) <= {0, CONCURRENT}, logs
    assert all(code == 0 for code in retried.values()), logs
    for rid, code in codes.items():
        if code == CONCURRENT:
            errors = [ln for ln in logs[rid].splitlines() if ln.startswith("crosscheck run:")]
            assert len(errors) == 1 and "at the same time" in errors[0], logs[rid][-2000:]


def test_no_run_loses_or_mixes_rows(two_at_once, planted_run, spark):
    """Each run holds exactly the rows of the undisturbed run of the same sample."""
    lakehouse, _, _, _ = two_at_once
    undisturbed = rows_per_table(spark, planted_run[0], PLANTED_RUN_ID)
    assert undisturbed["sample_runs"] == 1 and undisturbed["evidence"] > 0
    for rid in ("a", "b"):
        assert rows_per_table(spark, lakehouse, rid) == undisturbed


def test_both_reports_equal_the_undisturbed_one(two_at_once, planted_run):
    """The same counts as the undisturbed run; the verdict RECYCLED, since the lakehouse
    holds that run of the same sample (and, for one of the two, the other's keys too)."""
    lakehouse, _, _, _ = two_at_once
    want = load_report(planted_run[0], PLANTED_RUN_ID)
    assert want["verdict"]["code"] == "MATCH"
    for rid in ("a", "b"):
        got = load_report(lakehouse, rid)
        assert got["verdict"]["code"] == "RECYCLED"
        for part in ("fields", "lines", "sample"):
            assert json.dumps(got[part], sort_keys=True) == json.dumps(want[part], sort_keys=True)
