"""Faults a scheduled job meets: two runs against one lakehouse at the same time (the daily
`watch` and an on-call engineer's manual run), each in its own process. Per-run tables are
partitioned by `run_id`, so Delta never sees the two runs' writes as conflicting: both finish,
and neither loses, repeats or mixes rows. `make chaos` runs these; CI runs it after `make test`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import (
    PLANTED_RUN_ID,
    cli_args,
    copy_lakehouse,
    load_report,
    run_row_counts,
)

pytestmark = [pytest.mark.slow, pytest.mark.chaos]
RUN_TABLES = ("sample_raw", "sample_quarantine", "sample_normalised", "sample_runs", "evidence",
              "fuzzy_evidence", "field_summary", "line_links", "crosscheck_runs",
              "run_verdicts")  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_at_once(planted_run, demo, tmp_path_factory):
    """The planted run's lakehouse (its tables exist, as in production), then two runs of
    the demo sample under new run ids `a` and `b`, started together in two processes:
    (lakehouse, exit codes, what each printed)."""
    root = tmp_path_factory.mktemp("concurrent")
    lakehouse = copy_lakehouse(planted_run[0], root / "lakehouse")
    args = [*cli_args(lakehouse, demo / "warehouse"), "--sample", str(demo / "sample")]
    started = time.monotonic()
    procs = {
        rid: subprocess.Popen(
            [sys.executable, "-m", "jobs", "run", *args, "--run-id", rid],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for rid in ("a", "b")
    }
    printed = {rid: p.communicate(timeout=1200)[0] for rid, p in procs.items()}
    codes = {rid: p.returncode for rid, p in procs.items()}
    print(f"two runs started together, finished after {time.monotonic() - started:.0f} s: {codes}")
    return lakehouse, codes, printed


def test_both_runs_finish(two_at_once):
    _, codes, printed = two_at_once
    assert codes == {"a": 0, "b": 0}, {rid: out[-2000:] for rid, out in printed.items()}


def test_no_run_loses_or_mixes_rows(two_at_once, planted_run, spark):
    """Each run holds exactly the rows of the undisturbed run of the same sample."""
    lakehouse, _, _ = two_at_once
    undisturbed = run_row_counts(spark, planted_run[0], PLANTED_RUN_ID, RUN_TABLES)
    assert undisturbed["sample_runs"] == 1 and undisturbed["evidence"] > 0
    for rid in ("a", "b"):
        assert run_row_counts(spark, lakehouse, rid, RUN_TABLES) == undisturbed


def test_both_reports_equal_the_undisturbed_one(two_at_once, planted_run):
    """The same counts as the undisturbed run; the verdict RECYCLED, since the lakehouse
    holds that run of the same sample (and, for one of the two, the other's keys too)."""
    lakehouse, _, _ = two_at_once
    want = load_report(planted_run[0], PLANTED_RUN_ID)
    assert want["verdict"]["code"] == "MATCH"
    for rid in ("a", "b"):
        got = load_report(lakehouse, rid)
        assert got["verdict"]["code"] == "RECYCLED"
        assert {k: got[k] for k in ("fields", "lines", "sample")} == {
            k: want[k] for k in ("fields", "lines", "sample")
        }
