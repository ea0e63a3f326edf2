"""Reading messy dumps: every format, gzip, folders, legacy encodings, headerless files;
lines read = lines parsed + lines quarantined, with reasons, in every case."""

from __future__ import annotations

import gzip

import pytest
from pyspark.sql import functions as F

from jobs.__main__ import main
from jobs.errors import InputError
from jobs.settings import load_config
from jobs.steps import ingest_sample
from tests.integration.conftest import read_truth


def ingest(spark, lakehouse, path, run_id, *overrides):
    config = load_config(overrides=[f"lakehouse={lakehouse}", *overrides])
    summary = ingest_sample(spark, config, str(path), run_id)
    q = spark.read.format("delta").load(str(lakehouse / "sample_quarantine"))
    reasons = {(r.line_number, r.reason) for r in q.filter(F.col("run_id") == run_id).collect()}
    raw = spark.read.format("delta").load(str(lakehouse / "sample_raw"))
    parsed = raw.filter(F.col("run_id") == run_id)
    return summary, reasons, parsed


@pytest.mark.parametrize(
    ("fmt", "gz"),
    [("csv", False), ("tsv", True), ("pipe", False), ("jsonl", False), ("semicolon", True)],
)
def test_every_format_reconciles_with_truth(spark, tmp_path, fmt, gz):
    from tools.demo import generate

    generate(
        tmp_path / "d",
        customers=300,
        sample_lines=120,
        broken=8,
        seed=3,
        sample_format=fmt,
        gzip=gz,
    )
    summary, reasons, parsed = ingest(spark, tmp_path / "lh", tmp_path / "d" / "sample", "r")
    truth = read_truth(tmp_path / "d")
    broken = {(int(t["line_number"]), t["broken_reason"]) for t in truth if t["kind"] == "broken"}
    assert summary["lines_read"] == len(truth)
    assert summary["lines_read"] == summary["lines_parsed"] + summary["lines_quarantined"]
    assert reasons == broken
    assert parsed.count() == summary["lines_parsed"]
    good = {int(t["line_number"]) for t in truth if t["kind"] != "broken"}
    assert {r.line_number for r in parsed.select("line_number").collect()} == good
    # the mapping found the identifying columns
    assert parsed.filter(F.col("email").isNotNull()).count() > 0.8 * len(good)
    assert parsed.filter(F.col("phone").isNotNull()).count() > 0.8 * len(good)


def test_folder_of_files_with_different_layouts(spark, tmp_path):
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "part1.csv").write_text(
        "Name,E-mail,Tel\nAnna Smith,anna@example.com,+44 20 7946 0958\nBob,bob@example.org\n",
        encoding="utf-8",
    )
    with gzip.open(folder / "part2.tsv.gz", "wt", encoding="utf-8") as fh:
        fh.write("Telefon\tCorreo\n+49 30 1234567\tcarla@example.de\n\n")
    (folder / ".hidden").write_text("ignored", encoding="utf-8")
    summary, reasons, parsed = ingest(spark, tmp_path / "lh", folder, "f")
    assert summary["lines_read"] == 4 and summary["lines_parsed"] == 2
    # line_number runs over the whole sample (part1.csv's 3 lines, then part2's);
    # file_line is the line in its own file
    got = {(r.source_file.rsplit("/", 1)[-1], r.line_number, r.file_line, r.reason) for r in
           spark.read.format("delta").load(str(tmp_path / "lh" / "sample_quarantine")).collect()}  # fmt: skip  # noqa: E501
    assert got == {("part1.csv", 3, 3, "wrong_field_count"), ("part2.tsv.gz", 6, 3, "empty")}
    lines = {(r.email, r.line_number, r.file_line) for r in parsed.collect()}
    assert lines == {("anna@example.com", 2, 2), ("carla@example.de", 5, 2)}


def test_legacy_encoding_is_decoded(spark, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Nom;Courriel\nJérôme Müller;jerome@example.fr\n".encode("latin-1"))
    summary, reasons, parsed = ingest(
        spark, tmp_path / "lh", path, "l", "sample.encoding=ISO-8859-1"
    )
    assert summary["lines_parsed"] == 1 and not reasons
    assert parsed.first().name == "Jérôme Müller"


def test_headerless_dump_is_mapped_by_content(spark, tmp_path):
    path = tmp_path / "combo.txt"
    lines = [f"user{i}@example.com:Person Number{i}:+44 20 7946 {1000 + i}" for i in range(30)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary, reasons, parsed = ingest(spark, tmp_path / "lh", path, "h")
    assert summary["lines_read"] == 30 == summary["lines_parsed"]
    row = parsed.orderBy("line_number").first()
    assert row.line_number == 1 and row.email == "user0@example.com" and row.phone.startswith("+44")


def test_unmappable_file_is_a_one_line_error(spark, tmp_path):
    path = tmp_path / "noise.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(InputError, match="noise.csv: none of its 2 columns"):
        ingest(spark, tmp_path / "lh", path, "n")


def test_cli_reports_missing_sample_with_exit_code(tmp_path, capsys):
    code = main(
        [
            "ingest-sample",
            "--sample",
            str(tmp_path / "missing.csv"),
            "--set",
            f"lakehouse={tmp_path}",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert (
        err[-1]
        == f"crosscheck ingest-sample: error: sample path {tmp_path / 'missing.csv'} does not exist"
    )
    assert "Traceback" not in "\n".join(err)


def test_cli_bad_setting_exits_2(capsys):
    assert main(["run", "--set", "crosscheck.fields=[email, shoe]"]) == 2
    assert "unknown field" in capsys.readouterr().err
