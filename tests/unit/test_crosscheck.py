"""Cross-check transforms on inline key tables: selectivity, hot keys, same-record lines."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import crosscheck as xc
from jobs.keys import sample_keys_long

INDEX = [
    # field, key, customer, source
    ("email", 1, "c1", "customers"),
    ("phone", 2, "c1", "customers"),
    ("phone", 2, "c1", "orders"),
    ("name", 3, "c1", "customers"),
    *[("name", 3, f"h{i}", "customers") for i in range(5)],  # a hot name: 6 customers
    ("email", 4, "c2", "customers"),
    ("address", 5, "c3", "addresses"),
]
SAMPLE = [
    # line, email, phone, name, address
    (10, 1, 2, 3, None),  # c1 on email + phone (+ hot name confirmed by c1)
    (11, None, None, 3, None),  # the hot name alone
    (12, 4, None, None, 5),  # email -> c2, address -> c3: two fields, two customers
    (13, 99, None, None, None),  # no match
    (14, None, None, None, None),  # nothing usable
]


def frames(spark):
    index = spark.createDataFrame(
        INDEX, "field string, match_key bigint, customer_id string, source string"
    )
    normalised = spark.createDataFrame(
        SAMPLE,
        "line_number bigint, email_key bigint, phone_key bigint, name_key bigint, address_key bigint",  # noqa: E501
    )
    return index, normalised


def run(spark, max_per_key=3):
    index, normalised = frames(spark)
    keys = sample_keys_long(normalised, ("email", "phone", "name", "address"))
    matched = xc.matched_index_rows(index, keys, broadcast=True)
    selectivity = xc.key_selectivity(matched)
    line_matches = xc.line_field_matches(keys, selectivity)
    evidence = xc.evidence_rows(line_matches, matched, max_per_key)
    return normalised, keys, line_matches, evidence


def test_sample_keys_long_drops_nulls(spark):
    _, keys, _, _ = run(spark)
    assert keys.count() == 3 + 1 + 2 + 1


def test_selectivity_counts_customers_not_rows(spark):
    index, normalised = frames(spark)
    keys = sample_keys_long(normalised, ("email", "phone", "name", "address"))
    sel = xc.key_selectivity(xc.matched_index_rows(index, keys, broadcast=False))
    got = {(r.field, r.match_key): r.customers_hit for r in sel.collect()}
    assert got == {
        ("email", 1): 1,
        ("phone", 2): 1,
        ("name", 3): 6,
        ("email", 4): 1,
        ("address", 5): 1,
    }


def test_hot_key_is_expanded_only_for_candidates(spark):
    _, _, _, evidence = run(spark, max_per_key=3)
    rows = {(r.line_number, r.field, r.customer_id, r.source) for r in evidence.collect()}
    assert (10, "name", "c1", "customers") in rows  # confirmed through line 10's e-mail
    assert not any(r[2] and r[2].startswith("h") for r in rows)  # never expanded blindly
    assert (11, "name", None, None) in rows  # counted, without customers
    assert (10, "phone", "c1", "orders") in rows and (10, "phone", "c1", "customers") in rows
    assert not any(r[0] == 13 for r in rows)


def test_same_record_lines(spark):
    _, _, _, evidence = run(spark, max_per_key=3)
    got = xc.same_record_lines(evidence).orderBy("line_number")
    expected = spark.createDataFrame(
        [(10, 3), (12, 1)], "line_number bigint, max_fields_same_customer bigint"
    )
    assert_df_equality(got, expected, ignore_nullable=True)


def test_field_summary(spark):
    normalised, _, line_matches, _ = run(spark)
    summary = xc.field_summary(normalised, line_matches, ("email", "phone", "name", "address"))
    got = {
        r.field: (r.lines_with_value, r.lines_matched, r.distinct_keys_matched)
        for r in summary.collect()
    }
    assert got == {"email": (3, 2, 2), "phone": (1, 1, 1), "name": (2, 2, 1), "address": (1, 1, 1)}
    rate = summary.filter(F.col("field") == "email").first().match_rate
    assert abs(rate - 2 / 3) < 1e-9


def test_chance_baseline_from_evidence_counts(spark):
    """Worked by hand: n_f(c) per field and customer, summed over field pairs, over N."""
    index, normalised = frames(spark)
    keys = sample_keys_long(normalised, ("email", "phone", "name", "address"))
    matched = xc.matched_index_rows(index, keys, broadcast=True)
    line_matches = xc.line_field_matches(keys, xc.key_selectivity(matched))
    per_customer = xc.lines_per_customer(line_matches, matched)
    got = {(r.field, r.customer_id): r.n_lines for r in per_customer.collect()}
    assert got[("name", "c1")] == 2 and got[("name", "h0")] == 2 and got[("email", "c1")] == 1
    # (email,phone) c1: 1*1 + (email,name) c1: 1*2 + (name,phone) c1: 2*1 = 5, over 5 lines
    assert xc.chance_same_record(per_customer, lines_parsed=5).first().expected == 1.0


def test_blocking_diagnostics_count_pairs_and_name_hot_keys(spark):
    _, _, line_matches, _ = run(spark, max_per_key=3)
    diag = {r.field: r for r in xc.blocking_diagnostics(line_matches, max_per_key=3).collect()}
    assert (diag["name"].candidate_pairs, diag["name"].expanded_pairs, diag["name"].hot_keys) == (
        12,
        2,
        1,
    )
    assert diag["name"].heaviest_keys[0].key_hash == 3 and diag["name"].heaviest_keys[0].pairs == 12
    assert (diag["email"].candidate_pairs, diag["email"].hot_keys) == (2, 0)
