"""Reading messy dumps: every format, gzip, folders, legacy encodings, headerless files;
lines read = lines parsed + lines quarantined, with reasons, in every case."""

from __future__ import annotations

import gzip
import shutil

import pytest
from pyspark.sql import functions as F

from jobs.__main__ import main
from jobs.errors import InputError
from jobs.settings import load_config
from jobs.steps import ingest_sample
from tests.integration.conftest import read_truth


def ingest(spark, lakehouse, path, run_id, *overrides):
    """ingest_sample as the CLI calls it, without the fuzzy rows (reading is under test)."""
    config = load_config(overrides=[f"lakehouse={lakehouse}", "crosscheck.fuzzy=false", *overrides])
    summary = ingest_sample(spark, config, str(path), run_id)
    q = spark.read.format("delta").load(str(lakehouse / "sample_quarantine"))
    reasons = {(r.line_number, r.reason) for r in q.filter(F.col("run_id") == run_id).collect()}
    raw = spark.read.format("delta").load(str(lakehouse / "sample_raw"))
    parsed = raw.filter(F.col("run_id") == run_id)
    return summary, reasons, parsed


FORMATS = [("csv", False), ("tsv", True), ("pipe", False), ("jsonl", False), ("semicolon", True)]


@pytest.fixture(scope="module")
def every_format(spark, tmp_path_factory):
    """One dump per format (the same seed: the same people and broken lines) in one folder,
    ingested once: each file must be read as if it came alone."""
    from tools.demo import generate

    root = tmp_path_factory.mktemp("formats")
    dump, truths = root / "dump", {}
    dump.mkdir()
    for fmt, gz in FORMATS:
        made = root / fmt
        generate(made, customers=300, sample_lines=120, broken=8, seed=3, sample_format=fmt,
                 gzip=gz)  # fmt: skip
        (source,) = (made / "sample").iterdir()
        shutil.copy(source, dump / f"{fmt}-{source.name}")
        truths[fmt] = (f"{fmt}-{source.name}", read_truth(made))
    summary, _, parsed = ingest(spark, root / "lh", dump, "r")
    q = spark.read.format("delta").load(str(root / "lh" / "sample_quarantine"))
    held = [(r.source_file.rsplit("/", 1)[-1], r.file_line, r.reason) for r in q.collect()]
    rows = [(r.source_file.rsplit("/", 1)[-1], r.file_line, r.email, r.phone)
            for r in parsed.collect()]  # fmt: skip
    return summary, truths, held, rows


@pytest.mark.parametrize(("fmt", "gz"), FORMATS)
def test_every_format_reconciles_with_truth(every_format, fmt, gz):
    summary, truths, held, rows = every_format
    name, truth = truths[fmt]
    assert name.endswith(".gz") == gz
    broken = {(int(t["line_number"]), t["broken_reason"]) for t in truth if t["kind"] == "broken"}
    reasons = {(line, reason) for file, line, reason in held if file == name}
    parsed = [r for r in rows if r[0] == name]
    assert len(parsed) + len(reasons) == len(truth)  # every line of the file, once
    assert reasons == broken
    good = {int(t["line_number"]) for t in truth if t["kind"] != "broken"}
    assert {line for _, line, _, _ in parsed} == good
    # the mapping found the identifying columns
    assert sum(email is not None for *_, email, _ in parsed) > 0.8 * len(good)
    assert sum(phone is not None for *_, phone in parsed) > 0.8 * len(good)


def test_a_folder_of_every_format_reconciles_as_a_whole(every_format):
    summary, truths, held, rows = every_format
    assert summary["lines_read"] == sum(len(truth) for _, truth in truths.values())
    assert summary["lines_read"] == summary["lines_parsed"] + summary["lines_quarantined"]
    assert (len(rows), len(held)) == (summary["lines_parsed"], summary["lines_quarantined"])


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
