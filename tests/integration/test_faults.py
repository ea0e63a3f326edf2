"""Faults a scheduled job meets, each job in its own process. Two runs against one lakehouse at
the same time (the daily `watch` and an on-call engineer's manual run): per-run tables are
partitioned by `run_id`, so Delta never sees the two runs' writes as conflicting; both finish,
and neither loses, repeats or mixes rows. A run and an index build killed (SIGKILL, as a spot
instance or a timeout does) while they write: Delta commits whole or not at all, so the same
command again leaves what an undisturbed one leaves. `make chaos` runs these (each says what it
killed and when); CI runs it after `make test`."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import (
    PLANTED_RUN_ID,
    cli_args,
    copy_lakehouse,
    index_rows,
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


def assert_undisturbed(spark, planted_run, lakehouse: Path, run_id: str) -> None:
    """The run holds exactly the undisturbed planted run's rows in every per-run table, and
    its report the same counts and verdict (MATCH)."""
    undisturbed = run_row_counts(spark, planted_run[0], PLANTED_RUN_ID, RUN_TABLES)
    assert run_row_counts(spark, lakehouse, run_id, RUN_TABLES) == undisturbed
    want, got = load_report(planted_run[0], PLANTED_RUN_ID), load_report(lakehouse, run_id)
    assert got["verdict"]["code"] == want["verdict"]["code"] == "MATCH"
    parts = ("fields", "lines", "sample")
    assert {k: got[k] for k in parts} == {k: want[k] for k in parts}


def _killed_at(args: list[str], stage: str, delay: float) -> str:
    """Starts `python -m jobs *args`, SIGKILLs it `delay` seconds after it logs that
    `stage` started, and says what was killed when."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.monotonic()
    for line in proc.stderr:
        if '"stage started"' in line and f'"stage": "{stage}"' in line:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=600)
    when = time.monotonic() - started
    what = f"killed {args[0]} (pid {proc.pid}) {delay:.0f} s into stage {stage}, {when:.0f} s in"
    print(what)
    assert proc.returncode == -signal.SIGKILL, f"{args[0]} ended before stage {stage}"
    return what


@pytest.fixture(scope="module")
def killed_in_crosscheck(demo, demo_index, tmp_path_factory):
    """A run of the demo sample killed (SIGKILL, as a spot instance or a timeout does) during
    its cross-check's writes, then re-run under the same run id: (lakehouse, re-run's code)."""
    lakehouse = copy_lakehouse(demo_index, tmp_path_factory.mktemp("killed") / "lakehouse")
    args = [*cli_args(lakehouse, demo / "warehouse"), "--sample", str(demo / "sample")]
    _killed_at(["run", *args, "--run-id", "killed"], "crosscheck", 2.0)
    rerun = subprocess.run([sys.executable, "-m", "jobs", "run", *args, "--run-id", "killed"],
                           cwd=ROOT, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    return lakehouse


def test_a_run_killed_mid_crosscheck_reruns_to_the_undisturbed_report(
    killed_in_crosscheck, planted_run, spark
):
    """No partial commit survives: the re-run under the same id holds exactly the undisturbed
    run's rows in every per-run table, and its report the same counts and verdict."""
    assert_undisturbed(spark, planted_run, killed_in_crosscheck, "killed")


@pytest.fixture(scope="module")
def killed_in_index_write(demo, demo_index, tmp_path_factory):
    """A full index build killed while it writes the match index over the one there, then
    the build again: (lakehouse, the second build's code)."""
    lakehouse = copy_lakehouse(demo_index, tmp_path_factory.mktemp("killed_index") / "lakehouse")
    args = [*cli_args(lakehouse, demo / "warehouse"), "--rebuild-index"]
    _killed_at(["ingest-warehouse", *args], "index-write", 0.5)
    again = subprocess.run([sys.executable, "-m", "jobs", "ingest-warehouse", *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    return lakehouse


def test_an_index_build_killed_mid_write_leaves_the_index_a_full_build_makes(
    killed_in_index_write, demo_index, spark
):
    want = index_rows(spark, demo_index)
    assert len(want) > 10_000
    assert index_rows(spark, killed_in_index_write) == want


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    """A 64 MB tmpfs (needs root, as CI has): a disk that can be filled in a moment."""
    mount = tmp_path_factory.mktemp("small_disk")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    """Writes zeros into folder/filler until the disk is full."""
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * (1 << 20))
                fh.flush()
        except OSError:
            pass
    return filler


@pytest.fixture(scope="module")
def disk_filled_mid_run(small_disk, demo, demo_index):
    """The lakehouse on the small disk; the disk filled when the run's cross-check starts,
    then emptied and the same command run again: (lakehouse, first run, second run)."""
    lakehouse = copy_lakehouse(demo_index, small_disk / "lakehouse")
    args = ["run", *cli_args(lakehouse, demo / "warehouse"), "--sample", str(demo / "sample"),
            "--run-id", "full"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "jobs", *args], cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    filler, lines = None, []
    for line in proc.stderr:
        lines.append(line)
        if filler is None and '"stage started"' in line and '"stage": "crosscheck"' in line:
            filler = _fill(small_disk)
            print(f"filled the lakehouse's disk ({filler.stat().st_size >> 20} MB) at crosscheck")
    proc.wait(timeout=900)
    first = subprocess.CompletedProcess(args, proc.returncode, "", "".join(lines))
    assert filler is not None, first.stderr[-3000:]
    filler.unlink()
    again = subprocess.run([sys.executable, "-m", "jobs", *args], cwd=ROOT, capture_output=True,
                           text=True, timeout=1200)  # fmt: skip
    return lakehouse, first, again


def test_a_full_disk_ends_the_run_with_one_clear_line(disk_filled_mid_run):
    _, first, _ = disk_filled_mid_run
    assert first.returncode == 74, first.stderr[-3000:]
    last = first.stderr.strip().splitlines()[-1]
    assert last.startswith("crosscheck run: error: no space left on a disk"), last


def test_after_a_full_disk_the_same_command_gives_the_undisturbed_run(
    disk_filled_mid_run, planted_run, spark
):
    """Every table still reads (no half-written commit), and the re-run holds exactly the
    undisturbed run's rows and report."""
    lakehouse, _, again = disk_filled_mid_run
    assert again.returncode == 0, again.stderr[-3000:]
    assert_undisturbed(spark, planted_run, lakehouse, "full")


def test_an_index_merge_killed_midway_leaves_the_index_a_full_build_makes(spark, tmp_path):
    """A few customers changed, so the build MERGEs theirs into the index; that build killed
    half a second into the write, then run again, leaves exactly the rows of a full build."""
    import pandas as pd

    from jobs.settings import load_config
    from jobs.steps import ingest_warehouse
    from tools.demo import generate

    generate(tmp_path / "d", customers=300, sample_lines=10, broken=0, seed=9)
    wh, lakehouse = tmp_path / "d" / "warehouse", tmp_path / "lakehouse"
    args = cli_args(lakehouse, wh)
    config_args = [a for a in args if a != "--set"]  # lakehouse first
    config = load_config(overrides=config_args)
    assert ingest_warehouse(spark, config)["mode"] == "full"
    customers = pd.read_parquet(wh / "customers")
    customers.loc[:4, "email"] = [f"moved{i}@example.org" for i in range(5)]
    shutil.rmtree(wh / "customers")
    (wh / "customers").mkdir()
    customers.to_parquet(wh / "customers" / "part-00000.parquet", index=False)

    _killed_at(["ingest-warehouse", *args], "index-write", 0.5)
    assert ingest_warehouse(spark, config)["mode"] == "incremental"
    full = tmp_path / "full"
    rebuilt = load_config(overrides=[f"lakehouse={full}", *config_args[1:]])
    assert ingest_warehouse(spark, rebuilt, rebuild=True)["mode"] == "full"
    want = index_rows(spark, full)
    assert len(want) > 1_000
    assert index_rows(spark, lakehouse) == want
