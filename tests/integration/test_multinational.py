"""A multinational dump as sellers write it (three files, 15 countries, national phones, the
country only in the address in two of the files) through the CLI under the default
configuration: a verdict, a country for every line, and the planted truth found."""

from __future__ import annotations

import csv

import pytest
from pyspark.sql import functions as F

from tests.integration.conftest import copy_lakehouse, load_report, read_truth, run_cli

FIELDS = ("email", "phone", "name", "address")


@pytest.fixture(scope="module")
def multinational(intl_demo, intl_index, tmp_path_factory):
    out = intl_demo
    lakehouse = copy_lakehouse(intl_index, tmp_path_factory.mktemp("mn") / "lh")
    code = run_cli(
        "run", lakehouse, out / "warehouse", "--sample", str(out / "sample"), "--run-id", "mn"
    )
    return out, lakehouse, code


def test_a_verdict_under_the_default_configuration(multinational):
    out, lakehouse, code = multinational
    assert code == 0
    assert load_report(lakehouse, "mn")["verdict"]["code"] == "MATCH"


def test_every_line_told_its_country_where_the_truth_says_it_can(multinational):
    out, lakehouse, _ = multinational
    truth = [t for t in read_truth(out) if t["kind"] != "broken"]
    by_source = load_report(lakehouse, "mn")["sample"]["countries"]["lines_by_source"]
    written = {w: sum(t["country_written"] == w for t in truth) for w in ("column", "address")}
    assert by_source["column"] == written["column"]
    assert by_source["address"] == written["address"]
    rest = len(truth) - written["column"] - written["address"]
    assert by_source["phone"] + by_source["email"] + by_source["none"] == rest


def found_fields(spark, lakehouse) -> dict[tuple[str, int], set[str]]:
    """(file name, line in file) -> the fields the exact keys matched on that line."""
    raw = spark.read.format("delta").load(str(lakehouse / "sample_raw"))
    raw = raw.filter(F.col("run_id") == "mn").select("line_number", "source_file", "file_line")
    where = {r.line_number: (r.source_file.rsplit("/", 1)[-1], r.file_line) for r in raw.collect()}
    evidence = spark.read.format("delta").load(str(lakehouse / "evidence"))
    found: dict[tuple[str, int], set[str]] = {}
    rows = evidence.filter(F.col("run_id") == "mn").select("line_number", "field").distinct()
    for r in rows.collect():
        found.setdefault(where[r.line_number], set()).add(r.field)
    return found


def test_exact_keys_find_the_planted_truth(spark, multinational):
    out, lakehouse, _ = multinational
    found = found_fields(spark, lakehouse)
    missed, wrong = [], []
    for t in read_truth(out):
        if t["kind"] == "broken":
            continue
        hits = found.get((t["source_file"], int(t["line_number"])), set())
        for f in FIELDS:
            true = t[f] == "exact" or (f == "name" and t["name_collides"] == "True")
            if true and f not in hits:
                missed.append((t["source_file"], t["line_number"], f, t["country"]))
            if f in hits and not true and t[f] != "fuzzy":
                wrong.append((t["source_file"], t["line_number"], f, t["country"]))
    assert missed == [] and wrong == []


def test_national_phones_are_matched_with_the_address_country(spark, multinational):
    out, lakehouse, _ = multinational
    found = found_fields(spark, lakehouse)
    national = [
        t
        for t in read_truth(out)
        if t["kind"] == "planted" and t["phone"] == "exact" and t["phone_style"] == "national"
        and t["country_written"] == "address"
    ]  # fmt: skip
    assert len(national) >= 20
    assert all(
        "phone" in found.get((t["source_file"], int(t["line_number"])), ()) for t in national
    )


def test_swapped_email_and_phone_columns_still_stop_the_run(multinational, tmp_path):
    out, lakehouse, _ = multinational
    with open(out / "sample" / "sample-leak.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    swapped = tmp_path / "swapped.csv"
    with open(swapped, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(rows[0])
        writer.writerows([r[0], r[2], r[1], r[3]] if len(r) == 4 else r for r in rows[1:])
    code = run_cli("ingest-sample", lakehouse, out / "warehouse", "--sample", str(swapped))
    assert code == 4
