"""Hostile and broken input: every file of the corpus (`bad_input_corpus.py`) is ingested in one
run, each of its lines parsed or quarantined with a reason exactly once; files that are not
text are skipped and named in a folder, and refused through the CLI (exit 3, one line) alone."""

from __future__ import annotations

import importlib
import os
from collections import Counter
from urllib.parse import unquote

import pytest
from pyspark.sql import functions as F

from jobs.__main__ import main
from jobs.errors import InputError
from jobs.settings import load_config
from jobs.steps import ingest_sample
from tests.integration.bad_input_corpus import (
    encoded_cases,
    line_cases,
    refused_cases,
    truncated_gzip,
    write_corpus,
)
from tests.integration.conftest import logging_to_string

pytestmark = pytest.mark.slow

RUN_ID = "corpus"
CASES = [c.name for c in encoded_cases() + line_cases()] + ["valid.csv.gz"]


def base(source_file: str) -> str:
    return unquote(source_file.rsplit("/", 1)[-1])


def run_rows(spark, lakehouse, table):
    df = spark.read.format("delta").load(str(lakehouse / table))
    return df.filter(F.col("run_id") == RUN_ID).collect()


@pytest.fixture(scope="module")
def corpus(spark, tmp_path_factory):
    """The whole corpus (and a PDF) in a folder whose path has spaces and non-ASCII letters,
    ingested once: (cases by name, summary, log, parsed rows, quarantined rows)."""
    root = tmp_path_factory.mktemp("bad input")
    folder = root / "claim ü 2024"
    cases = {c.name: c for c in write_corpus(folder)}
    lakehouse = root / "lh"
    config = load_config(overrides=[f"lakehouse={lakehouse}", "crosscheck.fuzzy=false"])
    summary, logged = logging_to_string(lambda: ingest_sample(spark, config, str(folder), RUN_ID))
    parsed = [r.asDict() for r in run_rows(spark, lakehouse, "sample_raw")]
    held = [r.asDict() for r in run_rows(spark, lakehouse, "sample_quarantine")]
    return cases, summary, logged, parsed, held


@pytest.mark.parametrize("name", CASES)
def test_each_line_is_parsed_or_quarantined_once(corpus, name):
    cases, _, _, parsed, held = corpus
    case = cases[name]
    first = 2 if case.header else 1
    got_parsed = [r["file_line"] for r in parsed if base(r["source_file"]) == name]
    got_held = {r["file_line"]: r["reason"] for r in held if base(r["source_file"]) == name}
    lines = got_parsed + list(got_held)
    assert len(lines) == len(set(lines)), "a line counted twice"
    assert set(lines) == set(range(first, first + case.data_lines)), "a line lost"
    assert all(got_held.values()), "a quarantined line without a reason"
    assert got_held == case.reasons
    if case.value:
        fld, value = case.value
        assert value in {r[fld] for r in parsed if base(r["source_file"]) == name}


def test_the_sample_reconciles_as_a_whole(corpus):
    cases, summary, _, parsed, held = corpus
    assert summary["lines_read"] == summary["lines_parsed"] + summary["lines_quarantined"]
    assert (summary["lines_parsed"], summary["lines_quarantined"]) == (len(parsed), len(held))
    assert summary["lines_read"] == sum(c.data_lines for c in cases.values())
    assert summary["quarantine_reasons"] == dict(Counter(r["reason"] for r in held))


def test_encodings_are_detected_per_file(corpus):
    _, summary, _, _, held = corpus
    encodings = {f["name"]: f["encoding"] for f in summary["files"]}
    assert encodings["utf16_le_bom.csv"] == encodings["utf16_be_bom.csv"] == "UTF-16"
    assert encodings["utf32_bom.csv"] == "UTF-32"
    assert encodings["legacy_cp1252.csv"] == "windows-1252"
    assert encodings["utf8_bom.csv"] == encodings["crlf.csv"] == "UTF-8"
    assert not {r["reason"] for r in held} & {"invalid_utf8", "invalid_encoding"}


def test_a_pdf_in_the_folder_is_skipped_and_named(corpus):
    _, summary, logged, parsed, held = corpus
    (pdf,) = [f for f in summary["files"] if f["name"] == "terms.pdf"]
    assert pdf["format"] == "skipped" and pdf["skipped"] == "a PDF document"
    assert "terms.pdf skipped: a PDF document" in logged
    assert not any(base(r["source_file"]) == "terms.pdf" for r in parsed + held)


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    return refused_cases(tmp_path_factory.mktemp("refused"))


REFUSED = ["truncated_gzip", "binary", "xlsx", "zip", "pdf_only_folder", "empty", "header_only",
           "gzip_without_suffix", "gz_suffix_not_gzip", "utf16_inside_gzip"]  # fmt: skip


@pytest.mark.parametrize("case", REFUSED)
def test_unreadable_samples_are_refused_with_one_line(spark, refused, tmp_path, capsys, case):
    path, message = refused[case]
    code = main(["ingest-sample", "--sample", str(path), "--set", f"lakehouse={tmp_path}"])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [ln for ln in err if ln.startswith("crosscheck ingest-sample:")]
    assert code == 3, err[-3:]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in "\n".join(err)
    assert not os.path.exists(tmp_path / "sample_runs")


def test_a_file_spark_cannot_read_to_its_end_is_named(spark, tmp_path, monkeypatch):
    """Remote files are not read ahead for gzip integrity: Spark's failed read still ends the
    run with exit 3 naming the file."""
    step = importlib.import_module("jobs.steps.ingest_sample")  # the package exports the function
    monkeypatch.setattr(step, "gzip_problem", lambda path: None)
    path = truncated_gzip(tmp_path / "remote.csv.gz")
    config = load_config(overrides=[f"lakehouse={tmp_path / 'lh'}", "crosscheck.fuzzy=false"])
    with pytest.raises(InputError, match=r"remote\.csv\.gz: Spark could not read it to its end"):
        ingest_sample(spark, config, str(path), "remote")


def test_heads_of_remote_files_are_read_through_hadoop(spark, tmp_path, monkeypatch):
    """The Hadoop branch (s3a://, abfss://, dbfs:/), here on a local file behind `file:`."""
    from jobs.io import files

    path = tmp_path / "head.csv"
    path.write_bytes(b"email\n" * 1000)
    monkeypatch.setattr(files, "is_local", lambda p: False)
    assert files.head_bytes(spark, f"file://{path}", 12) == (b"email\nemail\n", False)
    assert files.head_bytes(spark, f"file://{path}", 10_000) == (b"email\n" * 1000, True)
