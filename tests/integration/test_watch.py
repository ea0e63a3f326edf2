"""Landing-zone mode through the CLI: each sample file is run once, known by its content (a
renamed copy is not run again), and an invocation that crashes half-way is finished by the
next one without losing or repeating a sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import steps as pl
from jobs import tables
from jobs.__main__ import main
from jobs.steps.watch import content_hash, run_id_for
from tests.integration.conftest import cli_args, copy_lakehouse, load_report

pytestmark = pytest.mark.slow


def sample_file(demo: Path) -> Path:
    return next((demo / "sample").iterdir())


def write_slice(source: Path, dest: Path, start: int, stop: int) -> Path:
    """The header and lines [start, stop) of the demo sample: a distinct, smaller sample."""
    header, *lines = source.read_bytes().split(b"\n")
    dest.write_bytes(b"\n".join([header, *lines[start:stop]]) + b"\n")
    return dest


def watch(lakehouse: Path, demo: Path, landing: Path) -> int:
    """One invocation, exact matching only: which sample runs when is under test here."""
    args = [*cli_args(lakehouse, demo / "warehouse"), "--set", "crosscheck.fuzzy=false"]
    return main(["watch", "--landing", str(landing), *args])


def states(spark, lakehouse: Path) -> list[tuple[str, str]]:
    df = spark.read.format("delta").load(str(lakehouse / tables.PROCESSED))
    return sorted((r.content_hash, r.state) for r in df.select("content_hash", "state").collect())


def sample_runs(spark, lakehouse: Path, run_ids: list[str]) -> dict[str, int]:
    df = spark.read.format("delta").load(str(lakehouse / "sample_runs"))
    rows = df.filter(F.col("run_id").isin(run_ids)).groupBy("run_id").count().collect()
    return {r.run_id: r["count"] for r in rows}


@pytest.fixture(scope="module")
def history(demo, demo_index, tmp_path_factory, spark):
    """Four files land (the claim, a renamed copy of it, two other samples); the first
    invocation crashes inside the second sample's cross-check, the second finishes, the third
    finds nothing new. Returns what each invocation did."""
    root = tmp_path_factory.mktemp("watch")
    lakehouse, landing = copy_lakehouse(demo_index, root / "lakehouse"), root / "landing"
    landing.mkdir()
    claim = landing / "2026-11-01-claim.csv"
    shutil.copy(sample_file(demo), claim)
    write_slice(claim, landing / "2026-11-02-other.csv", 0, 100)
    shutil.copy(claim, landing / "2026-11-03-claim-renamed.csv")
    write_slice(claim, landing / "2026-11-04-later.csv", 100, 200)
    (landing / "2026-11-05-upload.csv.part").write_bytes(b"still uploading")
    real_crosscheck, real_ingest = pl.run_crosscheck, pl.ingest_sample
    seen = {"crosscheck": [], "ingest": []}

    def crash_on_second(spark, config, run_id):
        seen["crosscheck"].append(run_id)
        if len(seen["crosscheck"]) == 2:
            raise RuntimeError("simulated crash")
        return real_crosscheck(spark, config, run_id)

    def counting_ingest(spark, config, path, run_id):
        seen["ingest"].append(run_id)
        return real_ingest(spark, config, path, run_id)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pl, "run_crosscheck", crash_on_second)
        first = watch(lakehouse, demo, landing)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pl, "ingest_sample", counting_ingest)
        second = watch(lakehouse, demo, landing)
        third = watch(lakehouse, demo, landing)
    hashes = {f.name: content_hash(f) for f in sorted(landing.glob("*.csv"))}
    return {"lakehouse": lakehouse, "codes": (first, second, third), "hashes": hashes, **seen}


def test_crash_stops_the_invocation_and_the_next_one_finishes(history):
    ids = {name: run_id_for(h) for name, h in history["hashes"].items()}
    assert history["codes"] == (70, 0, 0)  # 70: internal error, traceback in the lakehouse
    claim, other, later = (
        ids["2026-11-01-claim.csv"],
        ids["2026-11-02-other.csv"],
        ids["2026-11-04-later.csv"],
    )
    assert history["crosscheck"] == [claim, other]  # crashed in the second sample
    assert history["ingest"] == [other, later]  # resumed: the crashed one and the rest only


def test_every_sample_is_done_once_and_the_renamed_copy_never(history, spark):
    lakehouse, hashes = history["lakehouse"], history["hashes"]
    distinct = set(hashes.values())
    assert len(distinct) == 3  # the renamed copy has the claim's content
    log = states(spark, lakehouse)
    assert sorted(h for h, state in log if state == "done") == sorted(distinct)
    run_ids = [run_id_for(h) for h in distinct]
    assert sample_runs(spark, lakehouse, run_ids) == {r: 1 for r in run_ids}  # re-run replaced


def test_each_sample_has_its_reports(history):
    lakehouse, hashes = history["lakehouse"], history["hashes"]
    claim = load_report(lakehouse, run_id_for(hashes["2026-11-01-claim.csv"]))
    assert claim["verdict"]["code"] == "MATCH"
    for name in ("2026-11-02-other.csv", "2026-11-04-later.csv"):
        run_id = run_id_for(hashes[name])
        assert load_report(lakehouse, run_id)["sample"]["lines_read"] == 100
        assert (lakehouse / "reports" / run_id / "report.html").is_file()
