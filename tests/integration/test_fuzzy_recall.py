"""Fuzzy matching against the generator's truth: planted `fuzzy` fields must be found on
their customer, and fuzzy evidence must not make unrelated lines look like one customer."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from pyspark.sql import functions as F

from jobs import sample as smp
from jobs.io import files as files_io
from jobs.match import exact as xc
from jobs.match import fuzzy, keys, sample_lines
from jobs.settings import load_config, load_matching

KEY = "fuzzy-recall-key"
FIELDS = ("email", "phone", "name", "address")
LATIN = {"first_name_latin": "first_name_latin", "last_name_latin": "last_name_latin"}


@pytest.fixture(scope="module")
def fuzzy_demo(tmp_path_factory):
    from tools.demo import generate

    out = tmp_path_factory.mktemp("fuzzy_demo")
    generate(out, customers=2000, sample_lines=400, fuzzy_share=0.3, planted_share=0.5, seed=5)
    with open(out / "truth.csv", newline="", encoding="utf-8") as fh:
        truth = {int(t["line_number"]): t for t in csv.DictReader(fh)}
    return out, truth


def parsed_sample(spark, config, folder):
    """sample_raw rows exactly as ingest-sample parses them, without writing Delta tables."""
    files = files_io.list_files(spark, str(folder))
    layouts = {
        f: smp.sniff_layout(f, files_io.head_lines(spark, f), config.sample, config.headers)
        for f in files
    }
    parts = []
    for layout, group in smp.group_by_layout(layouts).items():
        scan = smp.decode_lines(smp.tag_scan(spark.read.text(group)), config.sample.encoding)
        parts.append(smp.classify(smp.with_line_numbers(scan), layout, config.sample.encoding))
    classified = parts[0]
    for part in parts[1:]:
        classified = classified.unionByName(part)
    classified = smp.with_sample_line_numbers(classified)
    return smp.parsed_rows(classified, "fuzzy").localCheckpoint()


@pytest.fixture(scope="module")
def results(spark, fuzzy_demo):
    """Fuzzy and exact evidence for the demo sample (lineage cut after each stored table, as
    the pipeline's Delta tables would)."""
    folder, truth = fuzzy_demo
    config = load_config()
    norm, wh = config.normalise, config.warehouse
    matching = load_matching()
    raw = parsed_sample(spark, config, folder / "sample")
    sources = {
        role: spark.read.parquet(str(folder / "warehouse" / role))
        for role in ("customers", "addresses", "orders")
    }
    columns = {role: dict(wh[role].columns) for role in sources}
    columns["customers"].update(LATIN)

    values = [keys.role_values(role, df, columns[role]) for role, df in sources.items()]
    index = fuzzy.fuzzy_index(values, norm, KEY, matching).localCheckpoint()
    sample_rows = fuzzy.fuzzy_sample_rows(raw, norm, KEY, None, matching).localCheckpoint()
    plan = fuzzy.plan_blocking(sample_rows, index, matching).persist()
    diagnostics = plan.diagnostics.collect()
    fuzzy_ev = fuzzy.fuzzy_candidates(sample_rows, index, matching, plan=plan).collect()

    match_index = keys.index_keys(values, norm, KEY).localCheckpoint()
    normalised = sample_lines.sample_keys(
        sample_lines.sample_parts(raw, norm), norm, KEY
    ).localCheckpoint()
    sample_keys = keys.sample_keys_long(normalised, FIELDS)
    matched = xc.matched_index_rows(match_index, sample_keys, broadcast=True).localCheckpoint()
    # Every customer of every selective key listed: the false same-record rate is measured on
    # the most the evidence could put on one customer.
    line_matches = xc.with_expansion(
        xc.line_field_matches(sample_keys, xc.key_selectivity(matched)), 1000, 1000
    )
    exact_ev = xc.evidence_rows(line_matches, matched).filter(F.col("customer_id").isNotNull())
    exact = exact_ev.select("line_number", "field", "customer_id").collect()
    return truth, raw.count(), fuzzy_ev, exact, diagnostics


def test_every_rule_ran_within_its_budget(results):
    *_, diagnostics = results
    assert {d.rule for d in diagnostics} == {r.name for r in load_matching().rules}
    assert all(d.action == "run" and d.pairs_run == d.candidate_pairs for d in diagnostics)


def test_recall_of_planted_fuzzy_fields(results):
    truth, _, fuzzy_ev, _, _ = results
    found = {(r.line_number, r.field, r.customer_id) for r in fuzzy_ev if r.method == "fuzzy"}
    recall = {}
    for field in FIELDS:
        planted = [
            (n, t["customer_id"])
            for n, t in truth.items()
            if t["kind"] == "planted" and t[field] == "fuzzy"
        ]
        if planted:
            hits = sum((n, field, cid) in found for n, cid in planted)
            recall[field] = (hits, len(planted))
    print(f"\nfuzzy recall per field: {recall}")
    assert {"name", "address"} <= set(recall)
    for field, (hits, planted) in recall.items():
        assert hits / planted >= 0.95, f"{field}: {hits}/{planted}"


def test_false_same_record_rate(results):
    """Lines where exact + fuzzy evidence puts >= 2 fields on a customer that is not the
    line's own (any customer, for fabricated lines): at most 0.5 % of parsed lines."""
    truth, parsed, fuzzy_ev, exact, _ = results
    fields = defaultdict(set)
    for r in exact:
        fields[(r.line_number, r.customer_id)].add(r.field)
    for r in fuzzy_ev:
        if r.method == "fuzzy":
            fields[(r.line_number, r.customer_id)].add(r.field)
    false_lines = {
        line
        for (line, customer), fs in fields.items()
        if len(fs) >= 2 and truth[line]["customer_id"] != customer
    }
    true_lines = {
        line
        for (line, customer), fs in fields.items()
        if len(fs) >= 2 and truth[line]["customer_id"] == customer
    }
    wrong_rows = sum(1 for r in fuzzy_ev if truth[r.line_number]["customer_id"] != r.customer_id)
    print(
        f"\nsame-record lines: {len(true_lines)} true, {len(false_lines)} false of {parsed} "
        f"parsed; fuzzy/weak evidence rows on another customer: {wrong_rows} of {len(fuzzy_ev)}"
    )
    assert len(false_lines) / parsed <= 0.005


def test_weak_levels_stay_apart(results):
    truth, _, fuzzy_ev, _, _ = results
    weak = [r for r in fuzzy_ev if r.method not in ("fuzzy", "near")]
    assert all(r.field in ("email", "phone") and r.score == 1.0 for r in weak)
    assert {r.method for r in weak} <= {"email_local_part", "phone_national_number"}
    # near: linkage candidates of the scoring rules, under their thresholds, or of the rules
    # that only make candidates (method near: the street blocks), from their threshold up
    near = [r for r in fuzzy_ev if r.method == "near"]
    rules = load_matching().rules
    top = {f: max(r.threshold for r in rules if r.field == f and r.method != "near")
           for f in ("name", "address")}  # fmt: skip
    floor = {r.field: r.threshold for r in rules if r.method == "near"}
    assert set(floor) == {"address", "date_of_birth"}
    assert near and all(r.field in top for r in near)
    assert all(r.score < top[r.field] or r.score >= floor.get(r.field, 2.0) for r in near)
    assert any(r.field == "address" and r.score >= top["address"] for r in near)
