"""Cross-check transforms on inline key tables: selectivity, hot keys, same-record lines."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.match import exact as xc
from jobs.match.keys import sample_keys_long

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


def run(spark, max_per_key=3, max_unconfirmed=1):
    index, normalised = frames(spark)
    keys = sample_keys_long(normalised, ("email", "phone", "name", "address"))
    matched = xc.matched_index_rows(index, keys, broadcast=True)
    selectivity = xc.key_selectivity(matched)
    line_matches = xc.with_expansion(
        xc.line_field_matches(keys, selectivity), max_per_key, max_unconfirmed
    )
    evidence = xc.evidence_rows(line_matches, matched)
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


def test_exact_blocking_diagnostics_count_pairs_and_name_hot_keys(spark):
    _, _, line_matches, _ = run(spark, max_per_key=3)
    diag = {
        r.field: r for r in xc.exact_blocking_diagnostics(line_matches, max_per_key=3).collect()
    }
    assert (diag["name"].candidate_pairs, diag["name"].expanded_pairs, diag["name"].hot_keys) == (
        12,
        2,
        1,
    )
    assert diag["name"].heaviest_keys[0].key_hash == 3 and diag["name"].heaviest_keys[0].pairs == 12
    assert (diag["email"].candidate_pairs, diag["email"].hot_keys) == (2, 0)


def test_widest_field_lists_only_confirmed_customers(spark):
    """Name key 3 hits 6 customers, within max_per_key=10: on line 10 it is the widest field and
    lists only c1, which the e-mail confirms; alone on line 11 it lists nobody."""
    _, _, line_matches, evidence = run(spark, max_per_key=10, max_unconfirmed=1)
    rows = {(r.line_number, r.field, r.customer_id, r.customers_hit) for r in evidence.collect()}
    assert (10, "name", "c1", 6) in rows
    assert not any(r[2] and r[2].startswith("h") for r in rows)
    assert (11, "name", None, 6) in rows
    assert {(12, "email", "c2", 1), (12, "address", "c3", 1)} <= rows
    flags = {(r.line_number, r.field): r.expand for r in line_matches.collect()}
    assert flags[(10, "name")] is False and flags[(10, "email")] is True
    _, _, _, listed = run(spark, max_per_key=10, max_unconfirmed=6)
    assert (
        listed.filter((F.col("line_number") == 11) & F.col("customer_id").isNotNull()).count() == 6
    )


def planted(seed=7, customers=120, lines=400):
    """Index and sample keys with shared names/addresses/phones, a third of the lines copying
    2-4 fields of one customer; the same-record truth worked out by brute force."""
    import random

    rng = random.Random(seed)
    fields = ("email", "phone", "name", "address")
    own = {
        f"c{i}": {
            "email": 1000 + i,
            "phone": 2000 + i // 2,
            "name": 3000 + rng.randrange(12),
            "address": 4000 + rng.randrange(40),
        }
        for i in range(customers)
    }
    index = [(f, k[f], c, "customers") for c, k in own.items() for f in fields]
    sample = []
    for n in range(lines):
        keys = {f: None for f in fields}
        if n % 3 == 0:
            c = own[f"c{rng.randrange(customers)}"]
            for f in rng.sample(fields, rng.randint(2, 4)):
                keys[f] = c[f]
        for f in fields:
            if keys[f] is None and rng.random() < 0.5:
                keys[f] = {"email": 1000, "phone": 2000, "name": 3000, "address": 4000}[f] + (
                    rng.randrange(customers * 2)
                )
        sample.append((n, *[keys[f] for f in fields]))
    truth = {}
    for n, *ks in sample:
        best = max(sum(k == own[c][f] for f, k in zip(fields, ks, strict=True)) for c in own)
        if best:
            truth[n] = best
    return index, sample, truth


def evidence_for(spark, index, sample, max_per_key, max_unconfirmed):
    idx = spark.createDataFrame(
        index, "field string, match_key bigint, customer_id string, source string"
    )
    normalised = spark.createDataFrame(
        sample,
        "line_number bigint, email_key bigint, phone_key bigint, name_key bigint, address_key bigint",  # noqa: E501
    )
    keys = sample_keys_long(normalised, ("email", "phone", "name", "address"))
    matched = xc.matched_index_rows(idx, keys, broadcast=True)
    line_matches = xc.with_expansion(
        xc.line_field_matches(keys, xc.key_selectivity(matched)), max_per_key, max_unconfirmed
    )
    return xc.evidence_rows(line_matches, matched).localCheckpoint()


def test_listing_only_confirmed_customers_keeps_every_same_record_match(spark):
    """Lines with >= 2 fields on one customer, and how many fields, are the brute-force truth
    whether every customer of every key is listed or only confirmed ones."""
    index, sample, truth = planted()
    two_plus = {n: k for n, k in truth.items() if k >= 2}
    assert len(two_plus) > 100 and len(truth) > len(two_plus) + 100

    def same(ev):
        rows = xc.same_record_lines(ev).filter(F.col("max_fields_same_customer") >= 2).collect()
        return {r.line_number: r.max_fields_same_customer for r in rows}

    confirmed = evidence_for(spark, index, sample, 1000, 1)
    listed = evidence_for(spark, index, sample, 1000, 10**6)
    assert same(confirmed) == two_plus
    assert same(listed) == two_plus
    assert confirmed.count() < listed.count() / 2  # most listed rows are gone
    # with hot keys (> 3 customers: most names and addresses) both ways still agree
    hot = same(evidence_for(spark, index, sample, 3, 1))
    assert hot and hot == same(evidence_for(spark, index, sample, 3, 10**6))


def test_same_record_with_fuzzy_confirms_an_unlisted_exact_field(spark):
    """Line 1's exact name (6 customers, not listed) and a fuzzy address on c1 make two fields
    on c1; on line 2 the fuzzy customer is not one the name hits; weak levels never count."""
    cols = "line_number bigint, field string, customer_id string"
    evidence = spark.createDataFrame(
        [(1, "name", None), (2, "name", None), (3, "name", None)], cols
    )
    line_matches = spark.createDataFrame(
        [(n, "name", 3, 6, False) for n in (1, 2, 3)],
        "line_number bigint, field string, match_key bigint, customers_hit bigint, expand boolean",
    )
    matched = spark.createDataFrame(
        [("name", 3, c, "customers") for c in ("c1", "h0", "h1", "h2", "h3", "h4")],
        "field string, match_key bigint, customer_id string, source string",
    )
    fz = spark.createDataFrame(
        [(1, "address", "c1", "fuzzy"), (2, "address", "x9", "fuzzy"),
         (3, "phone", "c1", "phone_national_number"), (None, None, None, "fuzzy")],
        f"{cols}, method string",
    )  # fmt: skip
    got = xc.same_record_lines_with_fuzzy(evidence, fz, line_matches, matched)
    assert {r.line_number: r.max_fields_same_customer for r in got.collect()} == {1: 2, 2: 1}
