"""Provenance transforms on small inline DataFrames: content kinds, schema and profile
fingerprints, divergence, canary hits, recycled overlap, and the report sections."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import provenance as prov
from jobs.settings import ProvenanceConf, load_config

CONF = ProvenanceConf()
HEADERS = load_config().headers
T0 = datetime(2025, 1, 10, 9, 0, tzinfo=timezone.utc)
T1 = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)
T2 = datetime(2025, 11, 1, 9, 0, tzinfo=timezone.utc)

BCRYPT = "$2b$12$" + "abcdefghijABCDEFGHIJ0123456789./abcdefghijABCDEFGHIJ0"
MD5 = "5f4dcc3b5aa765d61d8327deb882cf99"
VISA = "4111 1111 1111 1111"  # Luhn-valid test number
VISA_BAD = "4111 1111 1111 1112"


KIND_EXAMPLES = [
    (BCRYPT, "password"),
    (MD5, "password"),
    (VISA, "credit_card"),
    ("4012-8888-8888-1881", "credit_card"),
    ("123-45-6789", "national_id"),
    ("AB 12 34 56 C", "national_id"),
    ("192.168.10.254", "ip_address"),
    ("1985-03-12", "date"),
    ("12/03/1985", "date"),
    ("anna@example.com", "email"),
    ("+44 20 7946 0958", "phone"),
]


def test_content_tests_recognise_their_kind(spark):
    """Each example passes its own test, and its kind is the first passing one in priority
    order (an SSN or a date also looks like a phone number)."""
    df = spark.createDataFrame([(v,) for v, _ in KIND_EXAMPLES], "value string")
    flags = df.select(*[prov.CONTENT_TESTS[k](F.col("value")).alias(k) for k in prov.CONTENT_KINDS])
    for (value, kind), got in zip(KIND_EXAMPLES, flags.collect(), strict=True):
        assert got[kind] is True, value
        assert next(k for k in prov.CONTENT_KINDS if got[k]) == kind, value


def test_content_tests_reject_near_misses_and_nulls(spark):
    df = spark.createDataFrame(
        [
            (VISA_BAD,),
            ("999.1.1.1",),
            ("hello world",),
            ("5f4dcc3b5aa765d61d8327deb882cf9",),
            (None,),
        ],
        "value string",
    )
    flags = df.select(
        *[
            F.coalesce(prov.CONTENT_TESTS[k](F.col("value")), F.lit(False)).alias(k)
            for k in ("password", "credit_card", "ip_address")
        ]
    )
    assert [tuple(r) for r in flags.collect()] == [(False, False, False)] * 5


def test_luhn(spark):
    df = spark.createDataFrame(
        [("79927398713",), ("79927398710",), ("4111111111111111",)], "d string"
    )
    assert [r.ok for r in df.select(prov.luhn_valid(F.col("d")).alias("ok")).collect()] == [
        True,
        False,
        True,
    ]


def test_column_values_delimited_and_json(spark):
    lines = spark.createDataFrame([("a;b;;c",), ('x;"y;z";w;',)], "value string")
    got = prov.column_values(lines, "delimited", ";", 4)
    assert sorted(map(tuple, got.collect())) == [
        ("1", "a"),
        ("1", "x"),
        ("2", "b"),
        ("2", "y;z"),
        ("3", "w"),
        ("4", "c"),
    ]
    js = spark.createDataFrame([('{"mail": "a@b.cz", "pw": ""}',), ("not json",)], "value string")
    assert [tuple(r) for r in prov.column_values(js, "json", None, 2).collect()] == [
        ("mail", "a@b.cz")
    ]


def test_column_content_picks_the_dominant_kind(spark):
    rows = (
        [("pw", MD5)] * 3
        + [("pw", "plain")]
        + [("ssn", "123-45-6789")] * 2
        + [("note", "hello")] * 2
        + [("card", VISA)] * 2
    )
    values = spark.createDataFrame(rows, "column string, value string")
    got = {r.column: r for r in prov.column_content(values, 0.6).collect()}
    assert (got["pw"].kind_by_content, got["pw"].content_share, got["pw"].values_checked) == (
        "password",
        0.75,
        4,
    )
    assert got["ssn"].kind_by_content == "national_id"  # also phone-shaped: the specific kind wins
    assert got["card"].kind_by_content == "credit_card"
    assert got["note"].kind_by_content is None and got["note"].content_share is None


def test_header_kinds_and_cells():
    assert prov.header_kind("Passwort", HEADERS) == "password"
    assert prov.header_kind("E-Mail-Adresse", HEADERS) == "email"
    assert prov.header_kind("Social Security Number", HEADERS) == "national_id"
    assert (
        prov.header_kind("Lieblingsfarbe", HEADERS) is None
        and prov.header_kind(None, HEADERS) is None
    )
    assert prov.header_cells(["\ufeffName;Mail", "a;b"], "delimited", ";", True) == ["Name", "Mail"]
    assert prov.header_cells(["a;b"], "delimited", ";", False) is None
    assert prov.header_cells(['{"a": 1}', '{"b": 2, "a": 3}', "junk"], "json", None, False) == [
        "a",
        "b",
    ]


def test_schema_fingerprint_statuses(spark):
    headers = spark.createDataFrame(
        [(0, ["s.csv"], "1", "Name", "name"), (0, ["s.csv"], "2", "Passwort", "password"),
         (0, ["s.csv"], "3", "extra", None), (0, ["s.csv"], "4", "Gender", "gender"),
         (0, ["s.csv"], "5", "misc", None)],
        "layout_no int, files array<string>, column string, header string, kind_by_header string",
    )  # fmt: skip
    content = spark.createDataFrame(
        [(0, "1", 10, None, None), (0, "2", 10, "password", 1.0), (0, "3", 8, "credit_card", 0.9)],
        "layout_no int, column string, values_checked long, kind_by_content string, "
        "content_share double",
    )
    got = {r.column: r for r in prov.schema_fingerprint(headers, content, CONF).collect()}
    assert {c: (r.kind, r.status) for c, r in got.items()} == {
        "1": ("name", "stored"),
        "2": ("password", "never_collected"),
        "3": ("credit_card", "never_collected"),
        "4": ("gender", "not_stored"),
        "5": (None, "unrecognised"),
    }
    assert got["5"].values_checked == 0 and got["3"].content_share == 0.9


def test_profile_values_keep_domains_codes_and_countries_only(spark, norm_conf):
    people = spark.createDataFrame(
        [("Anna.Smith@GoogleMail.com", "+44 20 7946 0958", "gb"),
         ("x@seznam.cz", "602 123 456", "CZ"),
         ("not an email", "020 7946 0958", None),
         (None, None, None)],
        "email string, phone string, country string",
    )  # fmt: skip
    got = sorted(map(tuple, prov.profile_values(people, norm_conf, default_country="GB").collect()))
    assert got == sorted(
        [("email_domain", "gmail.com"), ("phone_code", "44"), ("country", "GB"),
         ("email_domain", "seznam.cz"), ("phone_code", "420"), ("country", "CZ"),
         ("phone_code", "44"), ("country", "GB"), ("country", "GB")]
    )  # fmt: skip


def test_profile_from_index_values_equals_the_one_from_rows(spark, norm_conf):
    """A full index build reads the warehouse profile's e-mail and phone off the cleaned
    index values: the customers role's only (an order's e-mail or phone is not a customer's),
    the same (dimension, value) rows as `profile_values` of the customers' rows."""
    from jobs.match import keys

    customers = spark.createDataFrame(
        [("c1", "Anna.Smith@GoogleMail.com", "+44 20 7946 0958", "gb"),
         ("c2", "x@seznam.cz", "602 123 456", "CZ"),
         ("c3", "not an email", "020 7946 0958", "GB"),
         ("c4", None, None, None),
         ("c5", "x@seznam.cz", "+33 1 23 45 67 89", "FR")],
        "customer_id string, email string, phone string, country string",
    )  # fmt: skip
    orders = spark.createDataFrame(
        [("c1", "anna@web.de", "+49 30 123456"), ("c2", "x@seznam.cz", "602 123 456")],
        "customer_id string, email string, phone string",
    )
    columns = {c: c for c in customers.columns}
    values = keys.index_values(
        [
            keys.role_values("customers", customers, columns),
            keys.role_values("orders", orders, {c: c for c in orders.columns}),
        ],
        norm_conf,
    )
    bit = 1 << keys.SOURCES.index("customers")
    people = customers.select("email", "phone", "country")
    got = sorted(map(tuple, prov.index_profile_values(values, people, bit, norm_conf).collect()))
    assert got == sorted(map(tuple, prov.profile_values(people, norm_conf).collect()))
    assert ("email_domain", "web.de") not in got and ("phone_code", "49") not in got
    assert got.count(("email_domain", "seznam.cz")) == 2


def test_calling_code_prefers_the_longest_code(spark):
    df = spark.createDataFrame(
        [("+420602123456",), ("+4420794609",), ("+999123",), (None,)], "e string"
    )
    got = [
        r.c
        for r in df.select(
            prov.calling_code(F.col("e"), ["4", "42", "420", "44"]).alias("c")
        ).collect()
    ]
    assert got == ["420", "44", prov.OTHER, None]


def test_profile_counts_bucket_rare_values(spark):
    values = spark.createDataFrame(
        [("email_domain", "gmail.com")] * 6
        + [("email_domain", "rare.example")] * 2
        + [("email_domain", "odd.example")] * 1,
        "dimension string, value string",
    )
    expected = spark.createDataFrame(
        [("email_domain", "(other)", 3), ("email_domain", "gmail.com", 6)],
        "dimension string, value string, n long",
    )
    assert_df_equality(
        prov.profile_counts(values, 5), expected, ignore_row_order=True, ignore_nullable=True
    )


def counts(spark, rows):
    return spark.createDataFrame(rows, "dimension string, value string, n long")


def test_divergence_is_zero_for_equal_and_one_for_disjoint_profiles(spark):
    wh = counts(spark, [("email_domain", "gmail.com", 60), ("email_domain", "gmx.de", 40)])
    same = counts(spark, [("email_domain", "gmail.com", 6), ("email_domain", "gmx.de", 4)])
    assert prov.profile_divergence(same, wh).first().divergence == pytest.approx(0.0, abs=1e-9)
    foreign = counts(spark, [("email_domain", "seznam.cz", 10)])
    assert prov.profile_divergence(foreign, wh).first().divergence == pytest.approx(1.0)


def test_divergence_value_and_bucket_alignment(spark):
    """60 % at a domain we do not hold, 40 % gmail: worked out by hand."""
    wh = counts(
        spark,
        [("email_domain", "gmail.com", 90), ("email_domain", prov.OTHER, 10), ("country", "GB", 5)],
    )
    sample = counts(spark, [("email_domain", "seznam.cz", 60), ("email_domain", "gmail.com", 40)])
    p, q = {"gmail.com": 0.4, prov.OTHER: 0.6}, {"gmail.com": 0.9, prov.OTHER: 0.1}
    m = {k: (p[k] + q[k]) / 2 for k in p}
    want = 0.5 * sum(p[k] * math.log2(p[k] / m[k]) for k in p) + 0.5 * sum(
        q[k] * math.log2(q[k] / m[k]) for k in q
    )
    rows = prov.profile_divergence(sample, wh).collect()
    assert [(r.dimension, r.sample_values, r.warehouse_values) for r in rows] == [
        ("email_domain", 100, 100)
    ]
    assert rows[0].divergence == pytest.approx(want)


def test_compare_profiles_fills_missing_sides(spark):
    wh = counts(spark, [("email_domain", "gmail.com", 75), ("email_domain", "gmx.de", 25)])
    sample = counts(spark, [("email_domain", "seznam.cz", 6), ("email_domain", "gmail.com", 4)])
    got = {r.value: tuple(r)[2:] for r in prov.compare_profiles(sample, wh).collect()}
    assert got == {
        "seznam.cz": (6, 0.6, 0, 0.0),
        "gmail.com": (4, 0.4, 75, 0.75),
        "gmx.de": (0, 0.0, 25, 0.25),
    }


def test_canary_hits_only_canaries_on_listed_fields(spark):
    evidence = spark.createDataFrame(
        [(3, "email", "17", "customers"), (3, "name", "17", "customers"),
         (5, "phone", "18", "orders"),
         (8, "name", None, None), (9, "address", "17", "addresses")],
        "line_number long, field string, customer_id string, source string",
    )  # fmt: skip
    canaries = spark.createDataFrame([(17,), (99,)], "customer_id long")
    got = prov.canary_hits(evidence, canaries, ("email", "phone", "address"))
    assert sorted(map(tuple, got.collect())) == [
        (3, "email", "17", "customers"),
        (9, "address", "17", "addresses"),
    ]


def keys(spark, rows):
    return spark.createDataFrame(rows, "line_number long, field string, match_key long")


def test_prior_sample_keys_are_distinct_hashes(spark):
    got = prov.prior_sample_keys(
        keys(spark, [(1, "email", 11), (2, "email", 11), (2, "phone", 21)]), "r", T1
    )
    assert got.columns == ["run_id", "ingested_at", "field", "match_key"]
    assert sorted((r.field, r.match_key) for r in got.collect()) == [("email", 11), ("phone", 21)]


def test_recycled_overlap_per_earlier_run_never_self_or_later(spark):
    prior = spark.createDataFrame(
        [("old", T0, "email", 11), ("old", T0, "email", 12), ("old", T0, "email", 13),
         ("old", T0, "phone", 99), ("me", T1, "email", 11), ("later", T2, "email", 11),
         ("other", T0, "name", 31)],
        "run_id string, ingested_at timestamp, field string, match_key long",
    )  # fmt: skip
    mine = keys(
        spark,
        [
            (1, "email", 11),
            (2, "email", 12),
            (3, "email", 14),
            (4, "email", 15),
            (1, "phone", 21),
            (2, "name", 31),
            (3, "name", None),
        ],
    )
    got = {
        (r.earlier_run_id, r.field): (r.keys_this_run, r.keys_seen, r.share)
        for r in prov.recycled_overlap(mine, prior, "me", T1).collect()
    }
    assert got == {
        ("old", "email"): (4, 2, 0.5),
        ("old", "phone"): (1, 0, 0.0),
        ("old", "name"): (1, 0, 0.0),
        ("other", "email"): (4, 0, 0.0),
        ("other", "phone"): (1, 0, 0.0),
        ("other", "name"): (1, 1, 1.0),
    }


def overlap_rows(run, when, per_field):
    return [
        {
            "earlier_run_id": run,
            "earlier_ingested_at": when,
            "field": f,
            "keys_this_run": t,
            "keys_seen": s,
            "share": s / t,
        }
        for f, (t, s) in per_field.items()
    ]


def test_recycled_section_picks_the_best_run_over_the_threshold():
    rows = overlap_rows("a", T0, {"email": (100, 40), "phone": (100, 30), "name": (100, 90)})
    rows += overlap_rows("b", T1, {"email": (100, 95), "phone": (100, 85), "name": (100, 99)})
    sec = prov.recycled_section(
        rows, {"b": {"verdict": "MATCH", "evidence_verdict": "MATCH"}}, CONF
    )
    assert sec["recycled_from"] == "b"
    assert [r["run_id"] for r in sec["earlier_runs"]] == ["b", "a"]
    assert sec["earlier_runs"][0]["overlap"] == 0.9 and sec["earlier_runs"][0]["verdict"] == "MATCH"
    assert sec["earlier_runs"][0]["ingested_at"] == T1.isoformat()
    assert sec["earlier_runs"][1]["overlap"] == 0.35  # names overlap 90 % but do not count


def test_recycled_section_needs_threshold_and_enough_keys():
    rows = overlap_rows("a", T0, {"email": (100, 49), "phone": (100, 50)})
    assert prov.recycled_section(rows, {}, CONF)["recycled_from"] is None
    tiny = overlap_rows("a", T0, {"email": (4, 4), "phone": (3, 3)})
    assert prov.recycled_section(tiny, {}, CONF)["recycled_from"] is None
    assert prov.recycled_section([], {}, CONF) == {
        "threshold": 0.5, "fields": ["email", "phone"], "min_keys": 10, "recycled_from": None,
        "earlier_runs": [],
    }  # fmt: skip


def test_canary_section_counts_lines_fields_and_ids():
    hits = [{"line_number": 7, "field": "email", "customer_id": "17"},
            {"line_number": 7, "field": "phone", "customer_id": "17"},
            {"line_number": 2, "field": "email", "customer_id": "40"}]  # fmt: skip
    sec = prov.canary_section(hits, 3)
    assert sec == {
        "canary_ids_listed": 3,
        "lines": 2,
        "line_numbers": [2, 7],
        "fields": {"email": 2, "phone": 1},
        "canary_ids_hit": ["17", "40"],
    }


def test_profile_section_top_values_and_flag():
    comparison = [
        {
            "dimension": "email_domain",
            "value": "gmail.com",
            "sample_n": 40,
            "sample_share": 0.4,
            "warehouse_n": 90,
            "warehouse_share": 0.9,
        },
        {
            "dimension": "email_domain",
            "value": "seznam.cz",
            "sample_n": 60,
            "sample_share": 0.6,
            "warehouse_n": 0,
            "warehouse_share": 0.0,
        },
        {
            "dimension": "email_domain",
            "value": "(other)",
            "sample_n": 70,
            "sample_share": 0.7,
            "warehouse_n": 10,
            "warehouse_share": 0.1,
        },
        {
            "dimension": "email_domain",
            "value": "gmx.de",
            "sample_n": 0,
            "sample_share": 0.0,
            "warehouse_n": 5,
            "warehouse_share": 0.05,
        },
    ]
    divergence = [
        {
            "dimension": "email_domain",
            "divergence": 0.3,
            "sample_values": 100,
            "warehouse_values": 100,
        }
    ]
    sec = prov.profile_section(comparison, divergence, ProvenanceConf(profile_top_n=2))
    dim = sec["dimensions"]["email_domain"]
    assert dim["flagged"] is True and [t["value"] for t in dim["top"]] == ["seznam.cz", "gmail.com"]
    assert list(sec["dimensions"]) == ["email_domain"]


@pytest.mark.parametrize(
    ("claimed", "customers", "impossible", "excess"),
    [
        (5000, 3000, True, 2000),
        (3000, 3000, False, 0),
        (10, 3000, False, 0),
        (None, 3000, None, None),
    ],
)
def test_claimed_size(claimed, customers, impossible, excess):
    sec = prov.claimed_size_section(claimed, customers)
    assert sec["impossible"] is impossible and sec.get("excess") == excess


def test_config_section_and_overrides():
    cfg = load_config(
        overrides=["provenance.canary_ids=[12, 40]", "provenance.recycled_threshold=0.8"]
    )
    assert cfg.provenance.canary_ids == ("12", "40") and cfg.provenance.recycled_threshold == 0.8
    assert "password" in cfg.provenance.never_collected and "email" in cfg.provenance.stored_kinds
    from jobs.errors import ConfigError

    for bad in (
        "provenance.no_such_knob=1",
        "provenance.recycled_fields=[shoe_size]",
        "provenance.profile_top_n=abc",
    ):
        with pytest.raises(ConfigError):
            load_config(overrides=[bad])
