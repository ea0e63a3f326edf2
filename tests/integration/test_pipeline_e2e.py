"""The whole pipeline through the CLI on generated data; expectations come from truth.csv."""

from __future__ import annotations

import json

from pyspark.sql import functions as F

from tests.integration.conftest import (
    PLANTED_RUN_ID,
    copy_lakehouse,
    find_leaks,
    load_report,
    read_truth,
    run_cli,
    run_row_counts,
)

FIELDS = ("email", "phone", "name", "address")


def expected_counts(truth):
    planted = [t for t in truth if t["kind"] == "planted"]
    per_field = {f: sum(t[f] == "exact" for t in planted) for f in FIELDS}
    per_field["name"] += sum(
        t["name_collides"] == "True" for t in truth if t["kind"] == "fabricated"
    )
    same_record = sum(sum(t[f] == "exact" for f in FIELDS) >= 2 for t in planted)
    return per_field, same_record


def test_run_exits_zero_with_match(planted_run):
    lakehouse, code, _ = planted_run
    assert code == 0
    assert load_report(lakehouse, "planted")["verdict"]["code"] == "MATCH"


def test_report_holds_the_index_builds_quality_checks(planted_run):
    """The index build's checks are stored under the build's own run id (from its
    index_builds row) and the report shows them beside the sample's."""
    lakehouse, _, _ = planted_run
    tables = {q["table"] for q in load_report(lakehouse, "planted")["quality"]}
    assert {"match_index", "warehouse_customers", "sample_raw", "sample_normalised"} <= tables


def test_counts_reconcile_with_the_file(planted_run, demo):
    lakehouse, _, _ = planted_run
    report = load_report(lakehouse, "planted")
    truth = read_truth(demo)
    s = report["sample"]
    assert s["lines_read"] == len(truth)
    assert s["lines_read"] == s["lines_parsed"] + s["lines_quarantined"]
    assert s["lines_quarantined"] == sum(t["kind"] == "broken" for t in truth)


def test_per_field_and_same_record_counts_match_the_truth(planted_run, demo):
    lakehouse, _, _ = planted_run
    report = load_report(lakehouse, "planted")
    per_field, same_record = expected_counts(read_truth(demo))
    got = {f: report["fields"][f]["lines_matched_exact"] for f in FIELDS}
    assert got == per_field
    assert report["lines"]["same_record_2plus"] == same_record


def test_evidence_points_at_the_planted_customers(planted_run, demo, spark):
    lakehouse, _, _ = planted_run
    truth = {int(t["line_number"]): t for t in read_truth(demo) if t["kind"] == "planted"}
    ev = (
        spark.read.format("delta")
        .load(str(lakehouse / "evidence"))
        .filter(F.col("run_id") == "planted")
    )
    hits = {(r.line_number, r.field) for r in ev.filter(F.col("customer_id").isNotNull()).collect()
            if r.line_number in truth and r.customer_id == truth[r.line_number]["customer_id"]}  # fmt: skip  # noqa: E501
    for line, t in truth.items():
        for f in ("email", "phone", "address"):
            if t[f] == "exact":
                assert (line, f) in hits


def test_report_explains_links_field_by_field(planted_run, spark):
    """report.json holds the trained model and a few links, each as the prior plus one weight
    per field adding up to the match weight line_links stored for that line; no customer id."""
    lakehouse, _, _ = planted_run
    linkage = load_report(lakehouse, "planted")["linkage"]
    model = {(r["field"], r["level_name"]) for r in linkage["model"]}
    assert ("email", "exact") in model and ("name", "else") in model
    assert 1 <= len(linkage["examples"]) <= 5
    links = spark.read.format("delta").load(str(lakehouse / "line_links"))
    stored = {r.line_number: r.match_weight
              for r in links.filter(F.col("run_id") == "planted").collect()}  # fmt: skip
    for ex in linkage["examples"]:
        terms = ex["prior_weight"] + sum(t["weight"] for t in ex["fields"])
        assert abs(terms - ex["match_weight"]) < 1e-3
        assert abs(ex["match_weight"] - stored[ex["line_number"]]) < 1e-3
        assert ex["match_probability"] >= linkage["threshold"]
        assert {t["field"] for t in ex["fields"]} == {f for f, _ in model}
    assert "customer_id" not in json.dumps(linkage)


def test_quarantine_reasons_match_the_truth(planted_run, demo, spark):
    lakehouse, _, _ = planted_run
    q = spark.read.format("delta").load(str(lakehouse / "sample_quarantine"))
    got = {(r.line_number, r.reason) for r in q.filter(F.col("run_id") == "planted").collect()}
    want = {
        (int(t["line_number"]), t["broken_reason"])
        for t in read_truth(demo)
        if t["kind"] == "broken"
    }
    assert got == want


def test_rerun_same_run_id_replaces_rows(planted_run, demo, spark, tmp_path):
    """The same run id again, with fuzzy matching switched off: the exact tables hold the
    same rows, once; the fuzzy ones none of the first run's, and the report shows none."""
    lakehouse = copy_lakehouse(planted_run[0], tmp_path / "lakehouse")  # others read the original
    tables = (
        "sample_raw",
        "sample_normalised",
        "evidence",
        "field_summary",
        "sample_runs",
        "crosscheck_runs",
    )
    fuzzy_tables = ("sample_fuzzy", "fuzzy_evidence", "fuzzy_blocking")
    before = run_row_counts(spark, lakehouse, PLANTED_RUN_ID, tables + fuzzy_tables)
    assert min(before[t] for t in fuzzy_tables) > 0
    sample = str(demo / "sample")
    args = ["--sample", sample, "--run-id", PLANTED_RUN_ID, "--set", "crosscheck.fuzzy=false"]
    assert run_cli("run", lakehouse, demo / "warehouse", *args) == 0
    after = run_row_counts(spark, lakehouse, PLANTED_RUN_ID, tables + fuzzy_tables)
    assert {t: after[t] for t in tables} == {t: before[t] for t in tables}
    assert {t: after[t] for t in fuzzy_tables} == dict.fromkeys(fuzzy_tables, 0)
    assert before["sample_runs"] == 1 and before["field_summary"] == 4
    assert load_report(lakehouse, PLANTED_RUN_ID)["fuzzy_blocking"] == []


def test_no_raw_personal_data_in_outputs(planted_run, demo, spark):
    """Planted e-mails and phones (raw and canonical) appear in no report, evidence or log."""
    import pandas as pd

    lakehouse, _, logs = planted_run
    truth = [t for t in read_truth(demo) if t["kind"] == "planted"]
    ids = {int(t["customer_id"]) for t in truth}
    customers = pd.read_parquet(demo / "warehouse" / "customers")
    planted = customers[customers["customer_id"].isin(ids)]
    needles = set()
    for email in planted["email"]:
        needles |= {email.lower(), email.split("@")[0].lower()}
    for phone in planted["phone"]:
        digits = "".join(ch for ch in phone if ch.isdigit())
        needles |= {phone, digits[-9:]}
    for first, last in zip(planted["first_name"], planted["last_name"], strict=True):
        needles |= {f"{first} {last}".lower(), f"{last} {first}".lower()}
    report_dir = lakehouse / "reports" / "planted"
    texts = {p.name: p.read_text().lower() for p in report_dir.iterdir()}
    for table in ("evidence", "fuzzy_evidence", "line_links", "linkage_model", "customer_fields"):
        df = spark.read.format("delta").load(str(lakehouse / table))
        texts[table] = "\n".join(str(r.asDict()) for r in df.collect()).lower()
    texts["logs"] = logs.lower()

    assert not find_leaks(texts, needles)
    assert len(texts["logs"]) > 0 and "stage finished" in texts["logs"]


def test_fabricated_sample_is_no_match(fabricated, demo, demo_index, tmp_path):
    """Fabricated lines against the warehouse of the same seed (the demo's, index built)."""
    copy_lakehouse(demo_index, tmp_path)
    code = run_cli(
        "run",
        tmp_path,
        demo / "warehouse",
        "--sample",
        str(fabricated / "sample"),
        "--run-id",
        "fab",
    )
    assert code == 0
    report = load_report(tmp_path, "fab")
    for f in ("email", "phone", "address"):
        assert report["fields"][f]["lines_matched_exact"] == 0
    # fabricated lines share at most a name with a customer: nothing to link them on
    assert report["lines"]["linked"] == 0
    assert report["lines"]["same_record_2plus"] == 0
    assert report["verdict"]["code"] == "NO_MATCH"
    assert report["fields"]["name"]["lines_matched_exact"] == name_collisions(fabricated)


def name_collisions(folder):
    """Sample lines whose name (folded, any order) is a customer's or an order's ship-to name:
    truth.csv knows customers only; the index also holds orders' names."""
    import csv

    import pandas as pd

    from tools.demo import name_key

    customers = pd.read_parquet(folder / "warehouse" / "customers")
    orders = pd.read_parquet(folder / "warehouse" / "orders")
    known = {
        name_key(f"{a} {b}")
        for a, b in zip(customers["first_name"], customers["last_name"], strict=False)
    }
    known |= {name_key(n) for n in orders["ship_name"].dropna()}
    with open(folder / "sample" / "sample.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))[1:]
    return sum(1 for r in rows if r and r[0].strip() and name_key(r[0]) in known)
