"""Fuzzy matching on hashed q-grams: typos, swapped order, initials, transliterations,
romanised CJK, street typos, weak e-mail/phone levels, and the pair budget."""

from __future__ import annotations

import dataclasses
import random

import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from jobs import settings
from jobs.errors import ConfigError
from jobs.match import fuzzy, grams, keys
from jobs.match.fuzzy import blocks, hashes, payloads, score
from jobs.match.fuzzy.plan import blocked_index_rows
from jobs.match.secrets import with_hash_key
from tests.plans import plan_text

KEY = "test-key"
CUSTOMERS = [
    # id, first, last, first_latin, last_latin, email, phone, country
    ("c1", "John", "Smith", None, None, "john.smith@gmail.com", "+44 20 7946 0958", "GB"),
    ("c2", "Пётр", "Иванов", None, None, None, None, "RU"),
    ("c3", "Γιώργος", "Παπαδόπουλος", None, None, None, None, "GR"),
    ("c4", "英樹", "近藤", "Hideki", "Kondo", None, None, "JP"),
    ("c5", "영수", "손", "Youngsoo", "Son", None, None, "KR"),
    ("c6", "Anna", "Kowalska", None, None, "anna.k@wp.pl", "+48 601 234 567", "PL"),
    ("c7", None, None, None, None, None, None, None),
]
CUSTOMER_COLUMNS = {
    c: c
    for c in (
        "customer_id", "first_name", "last_name", "first_name_latin", "last_name_latin",
        "email", "phone", "country",
    )
}  # fmt: skip
ADDRESSES = [
    ("c1", "12 Baker Street", "NW1 6XE", "GB", "London"),
    ("c6", "ul. Długa 5", "00-238", "PL", "Warszawa"),
    ("c7", None, None, None, None),
]
# 30 "Maria ..." and one "Maria Garcia" in ES make "mar" a hot name block; eight customers
# with the mailbox name "sales" make a hot e-mail block.
HOT_CUSTOMERS = [
    *[
        (f"h{i}", "Maria", f"{chr(65 + i % 26)}ez{i}", None, None, None, None, "ES")
        for i in range(30)
    ],
    ("g1", "Maria", "Garcia", None, None, None, None, "ES"),
    *[(f"s{i}", "Sales", f"X{i}", None, None, f"sales@x{i}.es", None, "ES") for i in range(8)],
]
SAMPLE_FIELDS = (
    "name", "first_name", "last_name", "email", "phone", "address", "street", "house_number",
    "postcode", "city", "country",
)  # fmt: skip
SAMPLE = {
    # line: {field: value}; the rest are null
    1: {"name": "Jonh Smith", "country": "GB"},  # one-letter swap
    2: {"name": "SMITH, Jonh", "country": "GB"},  # swapped order and a slip
    3: {"name": "J. Smith", "country": "GB"},  # initial
    4: {"name": "Petr Ivanov", "country": "RU"},  # Latin for Cyrillic
    5: {"name": "Georgios Papadopoulos", "country": "GR"},  # another romanisation of Greek
    6: {"name": "Hideki Kondou", "country": "JP"},  # romanised, with a slip
    7: {"first_name": "英英樹", "last_name": "近藤", "country": "JP"},  # native, a doubled char
    8: {"name": "Son Youngsu", "country": "KR"},  # romanised Hangul, swapped, slip
    9: {"name": "Zbigniew Brzęczyszczykiewicz", "country": "PL"},  # unrelated
    10: {"address": "12 Bakre Street, London, NW1 6XE", "country": "GB"},  # street typo
    11: {},  # nothing usable
    12: {"email": "John.Smith@yahoo.com"},  # local part at another domain
    13: {"phone": "020 7946 0958", "country": "FR"},  # wrong country for a national number
    14: {"email": "john.smith@gmail.com", "phone": "+44 20 7946 0958"},  # exact: not weak
    15: {
        "street": "Dluga",
        "house_number": "5",
        "postcode": "00238",
        "city": "Warszwa",
        "country": "PL",
    },  # the city with a slip
    16: {"name": "Анна Ковальска"},  # no country at all: meets every country's block
    17: {"name": "Smith", "country": "GB"},  # the surname alone: a linkage candidate only
    18: {"address": "12, London, NW1 6XF", "country": "GB"},  # no street, a postcode slip
    19: {"address": "12 Baker Street, London, NW6 1XE", "country": "GB"},  # swapped postcode
    # retyped number and postcode: only the street in the city is left
    20: {"street": "Baker St", "house_number": "21", "postcode": "NW9 9XE", "city": "London"},
    21: {"last_name": "손", "country": "KR"},  # a one-syllable surname alone: not an initial
}
HOT_SAMPLE = {
    **{100 + i: {"name": f"Maria Q{i}", "country": "ES"} for i in range(9)},
    200: {"name": "Maria Gracia", "country": "ES"},  # meets Garcia only through "mar"
    **{300 + i: {"email": f"sales@shop{i}.es"} for i in range(8)},
}


def sample_df(spark, lines: dict[int, dict[str, str]]):
    rows = [
        ("r1", "sample.csv", n, *[values.get(f) for f in SAMPLE_FIELDS])
        for n, values in lines.items()
    ]
    schema = "run_id string, source_file string, line_number bigint, " + ", ".join(
        f"{f} string" for f in SAMPLE_FIELDS
    )
    return spark.createDataFrame(rows, schema)


@pytest.fixture(scope="module")
def matching():
    return settings.load_matching()


def index_df(spark, norm_conf, matching):
    customers = spark.createDataFrame(
        CUSTOMERS + HOT_CUSTOMERS,
        "customer_id string, first_name string, last_name string, first_name_latin string, "
        "last_name_latin string, email string, phone string, country string",
    )
    addresses = spark.createDataFrame(
        ADDRESSES, "cid string, street string, zip string, country string, town string"
    )
    address_columns = {
        "customer_id": "cid",
        "line1": "street",
        "postcode": "zip",
        "country": "country",
        "city": "town",
    }
    values = [
        keys.role_values("customers", customers, CUSTOMER_COLUMNS),
        keys.role_values("addresses", addresses, address_columns),
    ]
    return fuzzy.fuzzy_index(values, norm_conf, KEY, matching)


def sample_rows_df(spark, norm_conf, matching):
    lines = sample_df(spark, {**SAMPLE, **HOT_SAMPLE})
    return fuzzy.fuzzy_sample_rows(lines, norm_conf, KEY, None, matching)


@pytest.fixture(scope="module")
def index(spark, norm_conf, matching):
    return index_df(spark, norm_conf, matching).localCheckpoint()


@pytest.fixture(scope="module")
def sample_rows(spark, norm_conf, matching):
    return sample_rows_df(spark, norm_conf, matching).localCheckpoint()


@pytest.fixture(scope="module")
def evidence_df(sample_rows, index, matching):
    return fuzzy.fuzzy_candidates(sample_rows, index, matching).localCheckpoint()


@pytest.fixture(scope="module")
def evidence(evidence_df):
    return {(r.line_number, r.field, r.customer_id, r.method): r for r in evidence_df.collect()}


def best(evidence, line, field, method="fuzzy"):
    """customer -> score of one line's field."""
    return {k[2]: r.score for k, r in evidence.items() if k[:2] == (line, field) and k[3] == method}


def test_index_and_sample_rows_hold_no_raw_values(index, sample_rows):
    assert index.columns == fuzzy.INDEX_COLUMNS
    assert sample_rows.columns == fuzzy.SAMPLE_COLUMNS
    types = dict(index.dtypes)
    assert types["blocks"] == fuzzy.BLOCKS_TYPE  # rule names, hashed block and refine keys
    assert types["payload"] == "array<array<int>>"
    assert all(t != "string" for c, t in index.dtypes if c not in ("field", "customer_id"))
    assert types["sources"] == "int"
    types = dict(sample_rows.dtypes)
    assert types["block_key"] == "bigint" and types["refine_keys"] == "array<bigint>"
    assert all(t != "string" for c, t in sample_rows.dtypes if c not in ("run_id", "field", "rule"))


def test_a_value_several_roles_share_is_one_row_and_evidence_per_role(spark, norm_conf, matching):
    """c1's two orders ship to c1's own name and phone, and to one street; c9 has orders
    only. Index rows: one per value, its roles in `sources`, its blocks in an array;
    evidence: one row per role the matched value came from."""
    customers = spark.createDataFrame(
        [("c1", "John", "Smith", "+44 20 7946 0958", "GB"), ("c2", None, None, None, None)],
        "customer_id string, first_name string, last_name string, phone string, country string",
    )
    orders = spark.createDataFrame(
        [
            ("c1", "John Smith", "+44 20 7946 0958", "12 Baker Street", "NW1 6XE", "GB"),
            ("c1", "John Smith", "+44 20 7946 0958", "12 Baker Street", "NW1 6XE", "GB"),
            ("c9", "Jon Smyth", None, None, None, "GB"),
            ("c9", None, None, None, None, None),
        ],
        "customer_id string, name string, phone string, line1 string, postcode string, "
        "country string",
    )
    order_columns = {c: c for c in ("customer_id", "name", "phone", "line1", "postcode")}
    values = [
        keys.role_values("customers", customers, {c: c for c in customers.columns}),
        keys.role_values("orders", orders, {**order_columns, "country": "country"}),
    ]
    index = fuzzy.fuzzy_index(values, norm_conf, KEY, matching).localCheckpoint()
    both = 1 << keys.SOURCES.index("customers") | 1 << keys.SOURCES.index("orders")
    only_orders = 1 << keys.SOURCES.index("orders")
    values = index.select("field", "customer_id").collect()
    assert sorted(values) == [("address", "c1"), ("name", "c1"), ("name", "c9"), ("phone", "c1")]
    rows = fuzzy.index_blocks(index, "field", "customer_id", "sources").collect()
    per_field = {}
    for r in rows:
        per_field.setdefault((r.customer_id, r.field), []).append(r.sources)
    # "john smith": 2 tokens x 2 name rules, in GB; the phone: 1 rule; the address: postcode +
    # number, and "bak" + number (street_number; "st" is too short, no city for street_city).
    assert sorted(per_field) == [
        ("c1", "address"), ("c1", "name"), ("c1", "phone"), ("c9", "name"),
    ]  # fmt: skip
    assert per_field[("c1", "name")] == [both] * 4
    assert per_field[("c1", "phone")] == [both]
    assert per_field[("c1", "address")] == [only_orders] * 2
    assert per_field[("c9", "name")] == [only_orders] * 4
    sample = fuzzy.fuzzy_sample_rows(
        sample_df(spark, {1: {"name": "Jonh Smith", "country": "GB"}}),
        norm_conf,
        KEY,
        None,
        matching,
    ).localCheckpoint()  # the pipeline writes sample rows to Delta before the join
    evidence = fuzzy.fuzzy_candidates(sample, index, matching).collect()
    assert sorted((r.customer_id, r.source) for r in evidence) == [
        ("c1", "customers"), ("c1", "orders"), ("c9", "orders"),
    ]  # fmt: skip
    assert {r.customers_hit for r in evidence} == {2}


def test_blocks_unrolled_or_by_lambda_are_the_same(spark, norm_conf, matching, monkeypatch):
    """A name or street of up to `UNROLLED_BLOCK_TOKENS` distinct tokens gets its blocks from
    unrolled expressions, a longer one from a lambda: both make the same entries, and a long
    name is found like a short one."""
    long_name = ("c8", "Maria de los Angeles", "Garcia Lopez", None, None, None, None, "ES")
    customers = spark.createDataFrame(
        [*CUSTOMERS, long_name],
        "customer_id string, first_name string, last_name string, first_name_latin string, "
        "last_name_latin string, email string, phone string, country string",
    )
    addresses = spark.createDataFrame(
        [("c1", "12 Baker Street", "London"), ("c8", "7 Calle Virgen de los Peligros", "Madrid")],
        "customer_id string, line1 string, city string",
    )
    values = [
        keys.role_values("customers", customers, CUSTOMER_COLUMNS),
        keys.role_values("addresses", addresses, {c: c for c in addresses.columns}),
    ]

    def names(index, field="name"):
        rows = index.filter(F.col("field") == field).select("customer_id", "blocks").collect()
        return sorted((r.customer_id, r.blocks) for r in rows)

    index = fuzzy.fuzzy_index(values, norm_conf, KEY, matching).localCheckpoint()
    monkeypatch.setattr(blocks, "UNROLLED_BLOCK_TOKENS", 0)
    by_lambda = fuzzy.fuzzy_index(values, norm_conf, KEY, matching).localCheckpoint()
    assert names(by_lambda) == names(index)
    assert names(by_lambda, "address") == names(index, "address")
    # "bak" + "lon" ("street" folds to "st": too short); "vir", "los", "pel" + "mad" ("calle"
    # folds to "c", "de" is too short): five distinct tokens, past the unrolled four
    street_city = [[e for e in entries if e.rule == "street_city"] for _, entries in
                   names(index, "address")]  # fmt: skip
    assert [len(e) for e in street_city] == [1, 3]
    long_blocks = [entries for customer, entries in names(index) if customer == "c8"]
    # six distinct tokens, each coded by both name rules
    assert len(long_blocks) == 1 and len(long_blocks[0]) == 6 * len(matching.for_field("name"))
    line = {1: {"name": "Maria de los Angeles Garsia Lopez", "country": "ES"}}
    sample = fuzzy.fuzzy_sample_rows(sample_df(spark, line), norm_conf, KEY, None, matching)
    evidence = fuzzy.fuzzy_candidates(sample.localCheckpoint(), index, matching).collect()
    assert {r.customer_id for r in evidence} == {"c8"}


@pytest.mark.parametrize(
    "line, customer",
    [
        pytest.param(1, "c1", id="typo"),
        pytest.param(2, "c1", id="swapped-order-and-typos"),
        pytest.param(3, "c1", id="initial"),
        pytest.param(4, "c2", id="cyrillic-vs-latin"),
        pytest.param(5, "c3", id="greek-vs-latin"),
        pytest.param(6, "c4", id="romanised-japanese"),
        pytest.param(7, "c4", id="native-japanese-typo"),
        pytest.param(8, "c5", id="romanised-korean"),
        pytest.param(16, "c6", id="cyrillic-polish-name-no-country"),
    ],
)
def test_names_found_above_threshold(evidence, matching, line, customer):
    threshold = min(r.threshold for r in matching.for_field("name"))
    scores = best(evidence, line, "name")
    assert scores.get(customer, 0.0) >= threshold, scores


def test_unrelated_name_and_empty_line_not_matched(evidence):
    assert not [k for k in evidence if k[0] in (9, 11)]


def test_street_typo_with_same_postcode_and_number(evidence, matching):
    threshold = matching.for_field("address")[0].threshold
    assert best(evidence, 10, "address").get("c1", 0.0) >= threshold
    assert best(evidence, 15, "address").get("c6", 0.0) >= threshold


def test_a_retyped_postcode_or_number_still_meets_through_the_street(evidence, matching):
    # line 19 meets c1 through "bak" + number and "bak" + "lon", line 20 through the latter
    # only; neither shares postcode + number, so no address match: linkage candidates only
    rules = {r.key: r for r in matching.for_field("address")}
    assert rules["street_number"].method == rules["street_city"].method == "near"
    for line in (19, 20):
        assert best(evidence, line, "address") == {}
        assert best(evidence, line, "address", method="near") == {"c1": 1.0}


def test_under_threshold_a_pair_is_a_near_candidate_only(evidence, matching):
    # "Smith" against "John Smith": the mean of smith~smith (1.0) and john~smith (Dice 0.1:
    # of 9 and 11 grams they share the letter h), 0.55; under the rules' 0.8, over their 0.5
    assert best(evidence, 17, "name") == {}
    near = best(evidence, 17, "name", method="near")
    assert near == {"c1": pytest.approx(0.55)}
    rule = matching.for_field("name")[0]
    assert rule.candidate_threshold <= near["c1"] < rule.threshold
    # every near row lies between its rule's candidate threshold and threshold
    # (or, for a rule that only makes candidates, from its candidate threshold up)
    lowest = min(r.candidate_threshold for r in matching.rules if r.candidate_threshold is not None)
    top = max(r.threshold for r in matching.rules if r.method != "near")
    near = [r for r in evidence.values() if r.method == "near"]
    assert all(lowest <= r.score < top for r in near if r.line_number not in (19, 20))


def test_linkage_compares_every_field_part_by_part(sample_rows, index, matching):
    from jobs.match import linkage as lk

    spark = index.sparkSession
    pairs = spark.createDataFrame(
        [(10, "c1"), (15, "c6"), (17, "c1"), (18, "c1"), (9, "c6"), (11, "c1"), (21, "c5")],
        "line_number bigint, customer_id string",
    )
    rows = lk.compared_pairs(
        pairs,
        lk.payloads(sample_rows, "line_number"),
        lk.payloads(index, "customer_id"),
        matching.initial_score,
    ).collect()
    got = {
        (r.line_number, r.field): r.score for r in rows if r.method not in (lk.CONTAINED, lk.LONE)
    }
    contained = {r.line_number: r.score for r in rows if r.method == lk.CONTAINED}
    lone = {r.line_number: r.score for r in rows if r.method == lk.LONE}
    # "12 Bakre Street" / "12 Baker Street", NW1 6XE both: one street typo, the rest the same
    assert 0.5 <= got[(10, "street")] < 1.0
    assert got[(10, "postcode")] == 1.0 and got[(10, "house_number")] == 1.0
    # "Dluga 5, 00238" / "ul. Długa 5, 00-238": the same street, postcode and number
    assert got[(15, "postcode")] == 1.0 and got[(15, "house_number")] == 1.0
    # the city: from the line's own column ("Warszwa", a slip) or from its free text
    assert 0.7 <= got[(15, "city")] < 1.0
    assert got[(10, "city")] == 1.0 and got[(18, "city")] == 1.0
    # no street on the line: its number and postcode still compared; NW1 6XF is one of six
    # positional characters off NW1 6XE
    assert (18, "street") not in got
    assert got[(18, "house_number")] == 1.0
    assert got[(18, "postcode")] == pytest.approx(5 / 6)
    # a name compared although no address block made the pair meet
    assert got[(17, "name")] == pytest.approx(0.55)
    assert got[(9, "name")] < 0.5
    # and as a name contained in the other: "Smith" is all in "John Smith"
    assert contained[17] == 1.0 and contained[9] < 0.5
    # the lone-token level is for a name of one token against a longer one only: "Smith"
    # against "John Smith", not a two-token name
    assert lone[17] == 1.0 and 9 not in lone
    assert {r.field for r in rows if r.method == lk.CONTAINED} == {"name"}
    # 손 against 영수 손: one character of three in common, Dice 2*1/(1+3), as for any CJK
    # set; a one-character set read as an initial would score 0.85 or 0 by its hash order
    assert got[(21, "name")] == pytest.approx(0.5) and contained[21] == pytest.approx(0.5)
    assert not [k for k in got if k[0] == 11]  # nothing to compare
    presence = {
        (r.line_number, r.field)
        for r in lk.part_presence(lk.payloads(sample_rows, "line_number"), "line_number").collect()
    }
    assert {(18, "postcode"), (18, "house_number"), (18, "city")} <= presence
    assert (18, "street") not in presence


def test_a_name_its_exact_key_settled_is_not_compared_again(sample_rows, index, matching):
    from jobs.match import linkage as lk

    spark = index.sparkSession
    levels = matching.linkage.levels
    assert levels["name"][0].method == "exact"  # the name's first level: an exact key
    evidence = spark.createDataFrame(
        [
            (17, "name", "c1", "exact", None),  # "Smith" said exact: its first level
            (17, "phone", "c1", "exact", None),  # the same pair again: one row out
            (9, "name", "c6", "fuzzy", 1.0),  # a fuzzy name, even at 1.0: not the first level
            (10, "address", "c1", "exact", None),  # an address key settles no plain field
            (11, "name", None, "exact", None),  # no customer: no pair
        ],
        "line_number bigint, field string, customer_id string, method string, score double",
    )
    pairs = lk.settled_pairs(evidence, levels)
    assert sorted((r.line_number, r.customer_id, r._settled) for r in pairs.collect()) == [
        (9, "c6", []), (10, "c1", []), (17, "c1", ["name"]),
    ]  # fmt: skip
    line_p = lk.payloads(sample_rows, "line_number")
    customer_p = lk.payloads(index, "customer_id")

    def compared(p):
        return lk.compared_pairs(p, line_p, customer_p, matching.initial_score)

    everything = compared(pairs.drop("_settled"))
    cut = compared(pairs)
    all_rows, cut_rows = everything.collect(), cut.collect()
    fields = {(r.line_number, r.field) for r in cut_rows}
    # 17's name is not compared again; 9's name and 10's address parts still are
    assert (17, "name") not in fields and (9, "name") in fields
    assert {(10, "street"), (10, "postcode"), (10, "house_number")} <= fields
    assert (17, "name") in {(r.line_number, r.field) for r in all_rows}
    assert len(cut_rows) < len(all_rows)
    # and the levels are the same: the exact key outranks whatever the comparison gives
    want = lk.best_levels(evidence.unionByName(everything), levels).collect()
    got = lk.best_levels(evidence.unionByName(cut), levels).collect()
    assert sorted(got) == sorted(want)
    assert {r.line_number: r._name for r in got}[17] == len(levels["name"])


def test_broadcast_lines_give_the_same_scores_with_one_shuffled_join(sample_rows, index, matching):
    """With the lines' payloads broadcast, the pairs meet their customers' payloads in one
    shuffled join and the lines' where they are: the same rows, one shuffled join less."""
    from jobs.match import linkage as lk

    spark = index.sparkSession
    evidence = spark.createDataFrame(
        [
            (17, "name", "c1", "exact", None),  # its name settled by the key: not compared
            (10, "address", "c1", "exact", None),
            (9, "name", "c6", "fuzzy", 0.4),
            (15, "address", "c6", "near", 0.9),
            (999, "name", "c1", "exact", None),  # a line without payloads: no rows
            (11, "name", None, "exact", None),  # no customer: no pair
        ],
        "line_number bigint, field string, customer_id string, method string, score double",
    )
    pairs = lk.settled_pairs(evidence, matching.linkage.levels)
    line_p, customer_p = lk.payloads(sample_rows, "line_number"), lk.payloads(index, "customer_id")

    def compared(broadcast: bool):
        return lk.compared_pairs(
            pairs, line_p, customer_p, matching.initial_score, broadcast_lines=broadcast
        )

    def shuffled_joins(df) -> int:
        physical = plan_text(df, "physical")
        return physical.count("SortMergeJoin") + physical.count("ShuffledHashJoin")

    shuffled, sent = compared(False), compared(True)
    want = sorted(shuffled.collect())
    assert sorted(sent.collect()) == want
    fields = {(r.line_number, r.field) for r in want}
    assert {(9, "name"), (10, "street"), (15, "postcode")} <= fields
    # "Smith" of line 17 holds a name only, settled by its key: nothing left to compare
    assert not [f for f in fields if f[0] in (11, 17, 999)]
    assert "BroadcastHashJoin" in plan_text(sent, "physical")
    assert shuffled_joins(sent) == shuffled_joins(shuffled) - 1


def test_weak_levels_are_reported_apart(evidence):
    email = evidence[(12, "email", "c1", "email_local_part")]
    phone = evidence[(13, "phone", "c1", "phone_national_number")]
    assert email.score == 1.0 and phone.score == 1.0
    assert email.customers_hit == 1
    assert not [k for k in evidence if k[0] == 14]  # the same full value is exact, not weak
    assert not [k for k in evidence if k[3] == "fuzzy" and k[1] in ("email", "phone")]


def test_scores_and_customers_hit(evidence):
    assert all(0.0 < r.score <= 1.0 for r in evidence.values() if r.method != "near")
    assert best(evidence, 4, "name") == {"c2": 1.0}
    initial = evidence[(3, "name", "c1", "fuzzy")]
    assert initial.score < 1.0 and initial.customers_hit == 1


@pytest.mark.parametrize("build", [index_df, sample_rows_df], ids=["index", "sample"])
def test_no_normalisation_is_pushed_into_a_filter(spark, norm_conf, matching, build):
    """Values are normalised once per distinct value, after the per-value grouping. A filter
    over a normalised value is pushed below that grouping by the optimizer and normalises
    every raw row again, inlined (it once doubled the index build's address rows). Spark also
    infers such a filter from a generator over a column (`size(column) > 0`)."""
    plan = plan_text(build(spark, norm_conf, matching), "optimized")
    filters = [line for line in plan.splitlines() if "Filter " in line]
    assert filters  # the null checks at least: the plan was read
    # clean_name / normalise_postcode translate accents; fold_street looks words up in a map
    assert not [f for f in filters if "translate(" in f or "map(keys:" in f]


def test_drop_exact(spark, evidence_df):
    """Line 1's exact name key hits c1 (listed or not: no exact evidence row is read); line 3
    has no exact name key; line 2's exact key hits another customer."""
    fz = evidence_df
    line_matches = spark.createDataFrame(
        [(1, "name", 7), (2, "name", 8), (None, None, None)],
        "line_number bigint, field string, match_key bigint",
    )
    matched = spark.createDataFrame(
        [("name", 7, "c1"), ("name", 8, "nobody")],
        "field string, match_key bigint, customer_id string",
    )
    left = fuzzy.drop_exact(fz, line_matches, matched)
    kept = {(r.line_number, r.field, r.customer_id) for r in left.collect()}
    before = {(r.line_number, r.field, r.customer_id) for r in fz.collect()}
    assert (1, "name", "c1") in before and (1, "name", "c1") not in kept
    assert {k for k in before if k[0] != 1 or k[1] != "name" or k[2] != "c1"} == kept
    assert left.columns == fz.columns


def test_transliteration_and_skeleton(spark):
    df = spark.createDataFrame(
        [("щукин",), ("κουλουριωτης",), ("koyloyriotis",), ("müller",), (None,)], "v string"
    )
    got = [
        r.out
        for r in df.select(fuzzy.skeleton(fuzzy.transliterate(F.col("v"))).alias("out")).collect()
    ]
    assert got == ["shchukin", "kuluriotis", "kuluriotis", "müller", None]


def test_unrolled_name_similarity_equals_the_lambda_form(spark, index):
    """Names of up to UNROLLED_TOKENS tokens are scored by plain expressions; every pair of
    the index's name payloads (1 to 4 tokens, initials, CJK sets) scores as the lambdas do."""
    payloads = index.filter(F.col("field") == "name").select("payload").distinct()
    pairs = payloads.select(F.col("payload").alias("a")).crossJoin(
        payloads.select(F.col("payload").alias("b"))
    )
    extra = spark.createDataFrame(
        [
            ([[1, 2, 3], [4]], [[4, 5, 6]]),
            ([[1]], [[1, 2], [7, 8, 9], [1, 3]]),
            (None, [[1]]),
            ([[1, 2], [3, 4], [5, 6], [7, 8]], [[1, 2], [3, 4]]),
        ],
        "a array<array<int>>, b array<array<int>>",
    )
    lam = F.least(
        score._directed(F.col("a"), F.col("b"), 0.85), score._directed(F.col("b"), F.col("a"), 0.85)
    )
    got = (
        pairs.unionByName(extra)
        .select(
            F.greatest(F.size("a"), F.size("b")).alias("n"),
            fuzzy.name_similarity(F.col("a"), F.col("b"), 0.85).alias("fast"),
            lam.alias("slow"),
        )
        .collect()
    )
    assert len(got) > 100 and max(r.n or 0 for r in got) > fuzzy.UNROLLED_TOKENS
    assert {r.n for r in got} >= {1, 2, 3}
    assert all((r.fast is None and r.slow is None) or abs(r.fast - r.slow) < 1e-9 for r in got), [
        r for r in got if r.fast != r.slow
    ][:5]


def test_name_containment_is_the_higher_directed_mean(spark):
    """A name whose tokens are all in the other's scores 1.0 whichever side it is on, where
    the name score (the lower mean) counts the left-out tokens; unrolled and lambda forms
    agree, and the bound never undercuts the score."""
    rows = [
        ([[1, 2, 3]], [[1, 2, 3], [7, 8, 9], [4, 5, 6]]),  # "felicity" / "felicity english obst"
        ([[7, 8, 9], [4, 5, 6], [1, 2, 3]], [[1, 2, 3]]),  # the other way round
        ([[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [7, 8, 9]]),  # one token of two each: 0.5
        ([[1, 2, 3]], [[4, 5, 6]]),  # nothing shared
        ([[1, 2, 3]] * 4, [[1, 2, 3]]),  # past the unrolled size: the lambdas
        (None, [[1, 2, 3]]),
    ]
    df = spark.createDataFrame(rows, "a array<array<int>>, b array<array<int>>")
    a, b = F.col("a"), F.col("b")
    slow = F.greatest(score._directed(a, b, 0.85), score._directed(b, a, 0.85))
    sig = F.col("s")
    signed = df.select("a", "b", payloads.signature(a).alias("s"), payloads.signature(b).alias("t"))
    got = signed.select(
        score.name_containment(a, b, 0.85).alias("fast"),
        slow.alias("slow"),
        fuzzy.name_similarity(a, b, 0.85).alias("name"),
        score.name_bound(a, b, sig, F.col("t"), 0.85, F.greatest).alias("bound"),
    ).collect()
    assert [r.fast for r in got[:5]] == [1.0, 1.0, 0.5, 0.0, 1.0]
    assert [round(r.name, 4) for r in got[:4]] == [round(1 / 3, 4), round(1 / 3, 4), 0.5, 0.0]
    assert all(r.fast == r.slow for r in got[:5])
    assert all(r.bound >= r.fast - 1e-9 for r in got[:5])


def test_gram_hash_is_keyed_and_matches_its_python_twin(spark):
    alphabet = grams.GRAM_ALPHABET
    listed = [a + b for a in alphabet[::5] for b in alphabet[::3]]  # from the lookup table
    cases = ["^j", "jo", "n$", grams.SEP + "a", "^й", "近", "a", "abc", "é$", *listed]
    df = spark.createDataFrame([(g,) for g in cases], "g string")
    a, b = (
        with_hash_key(df, key).select(fuzzy.gram_hash(F.col("g"), "n2").alias("h")).collect()
        for key in (KEY, "another-key")
    )
    assert [r.h for r in a] == [fuzzy.py_gram_hash(g, "n2", KEY) for g in cases]
    assert all(x.h != y.h for x, y in zip(a, b, strict=True))


def test_refine_hash_is_the_gram_hash_of_the_initial(spark):
    """The table of 128 behind `refine_hash` gives the very values of `gram_hash("^" + c)`,
    so indexes built before it still meet the sample's sub-keys."""
    initials = ["j", "z", "0", "9", grams.SEP, "", "é", "й", "近", "𠀋", "^", "A", "-", None]
    df = spark.createDataFrame([(c,) for c in initials], "c string")
    got = (
        with_hash_key(df, KEY)
        .select(
            hashes.refine_hash("name", F.col("c")).alias("fast"),
            fuzzy.gram_hash(F.concat(F.lit("^"), F.col("c")), "rname").alias("general"),
        )
        .collect()
    )
    assert [r.fast for r in got[:-1]] == [
        fuzzy.py_gram_hash("^" + c, "rname", KEY) for c in initials[:-1]
    ]
    assert [r.fast for r in got] == [r.general for r in got]
    assert got[-1].fast is None


TRICKY_TOKENS = [
    (["john", "smith"],),
    (None,),
    ([],),
    (["", "a", "o'neil", "jean-luc", "müller", "x9"],),  # empty, initial, outside the alphabet
    (["近藤", "kondo", "ab藤", "영수"],),  # CJK tokens take their characters only
    (["𠀋a", "ß"],),  # a character outside the BMP; one that upper-cases to two
    ([grams.SEP, "^$"],),
]


BUILDERS = {
    "token_gram_hashes": (fuzzy.token_gram_hashes, fuzzy.native_token_gram_hashes),
    "name_token_sets": (fuzzy.name_token_sets, fuzzy.native_name_token_sets),
    "street_gram_set": (fuzzy.street_gram_set, fuzzy.native_street_gram_set),
}


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_arrow_gram_hashes_equal_the_native_form(spark, builder):
    arrow, native = BUILDERS[builder]
    df = spark.createDataFrame(TRICKY_TOKENS * 3, "t array<string>").repartition(2)
    got = (
        with_hash_key(df, KEY)
        .select(
            "t",
            arrow(F.col("t"), "n2", KEY).alias("arrow"),
            native(F.col("t"), "n2").alias("native"),
        )
        .collect()
    )
    assert len(got) == 3 * len(TRICKY_TOKENS)
    assert all(r.arrow == r.native for r in got), [r for r in got if r.arrow != r.native][:3]
    assert next(r for r in got if r.t is None).arrow is None
    john = next(r.arrow for r in got if r.t == ["john", "smith"])
    sizes = {
        "token_gram_hashes": [9, 11],  # 5 + 4 bigrams and letters; 6 + 5
        "name_token_sets": [9, 11],  # no gram repeats in "john" or "smith"
        "street_gram_set": [19],  # 9 + 11 grams, the letter "h" in both
    }[builder]
    assert sorted(len(x) for x in ([john] if builder == "street_gram_set" else john)) == sizes


def scalar_hashes(hasher, tokens, cjk_flags):
    """A row's gram hashes one gram at a time (`one` of `py_token_grams`): what the Arrow
    batches are held to."""
    if tokens is None:
        return None
    cjk_flags = cjk_flags or [False] * len(tokens)
    return [
        [hasher.one(g) for g in grams.py_token_grams(t, c)]
        for t, c in zip(tokens, cjk_flags, strict=True)
    ]


def test_gram_hasher_on_sliced_batches():
    """Arrow hands over slices of larger buffers: offsets must be honoured."""
    hasher = fuzzy.gram_hasher("n2", KEY)
    rows = [["ann", "lee"], None, ["近藤"], ["a-b", ""], ["zoe"]]
    flags = [[False, False], None, [True], None, [False]]
    whole = pa.array(rows, pa.list_(pa.string()))
    cjk = pa.array(flags, pa.list_(pa.bool_()))
    batch = (whole.slice(1, 4), cjk.slice(1, 4))
    got = hasher.token_hashes(*batch).to_pylist()

    assert got == [scalar_hashes(hasher, t, c) for t, c in zip(rows[1:], flags[1:], strict=True)]
    assert got[1] == [[hasher.one(grams.SEP + "近"), hasher.one(grams.SEP + "藤")]]
    # The payloads from the same hashes: "ann" repeats "n", "" keeps its two grams.
    sets = [None if r is None else sorted([h[0], *sorted(set(h[1:]))] for h in r) for r in got]
    assert hasher.token_sets(*batch).to_pylist() == sets
    assert sorted(len(s) for s in sets[2]) == [2, 7]  # "": ^$ and SEP; "a-b": 4 bigrams + 3 letters
    flat = [None if r is None else sorted({x for h in r for x in h}) for r in got]
    assert hasher.value_set(*batch).to_pylist() == flat


def test_gram_hasher_off_the_table_equals_the_scalar_form(monkeypatch):
    """Tokens off the fast path (CJK, Hangul, Arabic, Thai, 4-byte characters, empty, mixed
    with ASCII) are decoded and hashed by array arithmetic: each gram's hash equals the scalar
    `one` of `py_token_grams`, on sliced batches, with the per-worker memo refilled many
    times (a memo of 5 grams) and then reused."""
    monkeypatch.setattr(grams, "MEMO_SIZE", 5)
    hasher = fuzzy.gram_hasher("n2", KEY)
    rng = random.Random(3)
    alphabet = [
        *"abcxyz019-^$ ",
        grams.SEP,
        "é",
        "ß",
        "近",
        "藤",
        "한",
        "글",
        "ا",
        "ก",
        "\U00020000",
    ]
    rows, flags = [], []
    for _ in range(1500):
        tokens = [
            "".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(rng.randint(0, 4))
        ]
        gone = rng.random() < 0.05
        rows.append(None if gone else tokens)
        no_flags = gone or rng.random() < 0.3
        flags.append(None if no_flags else [rng.random() < 0.3 for _ in tokens])
    whole = pa.array(rows, pa.list_(pa.string()))
    cjk = pa.array(flags, pa.list_(pa.bool_()))

    for lo, hi in ((0, 1500), (7, 900), (700, 701), (0, 1500)):
        got = hasher.token_hashes(whole.slice(lo, hi - lo), cjk.slice(lo, hi - lo)).to_pylist()
        assert got == [
            scalar_hashes(hasher, t, c) for t, c in zip(rows[lo:hi], flags[lo:hi], strict=True)
        ]
    wide = next(r for r in rows if r and any("\U00020000" in t for t in r))
    assert hasher.token_hashes(pa.array([wide], pa.list_(pa.string()))).to_pylist()[0] == (
        scalar_hashes(hasher, wide, None)
    )


def test_token_sets_order_ties_and_prefixes_like_sorted_lists():
    """Rows whose tokens share a start gram ("maria marta"), an initial against a token it
    starts ("m mario": a prefix sorts first), repeats: the payload equals Python's sorted list
    of per-token sets (start gram, then the rest distinct and sorted; an initial alone)."""
    hasher = fuzzy.gram_hasher("n2", KEY)
    rng = random.Random(7)
    words = ["maria", "marta", "mar", "m", "mario", "ann", "anna", "a", "lee", "le", "zoe"]
    rows = [[rng.choice(words) for _ in range(rng.randint(0, 4))] for _ in range(400)]
    rows += [["maria", "marta"], ["m", "mario"], ["mario", "m"], ["ann", "ann"], None]

    def expected(tokens):
        if tokens is None:
            return None
        sets = []
        for t in tokens:
            h = [hasher.one(g) for g in grams.py_token_grams(t, False)]
            sets.append(h[:1] if len(t) == 1 else [h[0], *sorted(set(h[1:]))])
        return sorted(sets)

    got = hasher.token_sets(pa.array(rows, pa.list_(pa.string()))).to_pylist()
    assert got == [expected(r) for r in rows]
    tied = [r for r in rows[:400] if len({t[0] for t in r}) < len(r)]
    assert len(tied) > 50  # the full comparison ran, not only the sort on start grams


# ---- pair budget --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hot(sample_rows, index, matching):
    """The same rows under a budget of 60 pairs per rule."""
    plan = fuzzy.plan_blocking(sample_rows, index, matching, budget=60).persist()
    diagnostics = {r.rule: r for r in plan.diagnostics.collect()}
    evidence = fuzzy.fuzzy_candidates(sample_rows, index, matching, plan=plan).collect()
    broadcast = fuzzy.fuzzy_candidates(
        sample_rows, index, matching, plan=plan, broadcast_sample=True
    ).collect()
    assert sorted(broadcast) == sorted(evidence)  # the sample sent to every task: same rows
    plan.unpersist()
    return diagnostics, evidence


def outside_caches(tree: str) -> str:
    """A plan's tree string without the plans cached frames were computed with."""
    kept, inside = [], None
    for line in tree.splitlines():
        depth = next((i for i, c in enumerate(line) if c.isalnum()), len(line))
        if inside is not None and depth > inside:
            continue
        inside = depth if "InMemoryRelation" in line else None
        kept.append(line)
    return "\n".join(kept)


def test_broadcast_candidates_stream_the_index_without_a_shuffle(sample_rows, index, matching):
    """With the sample broadcast, plain and refined blocks meet in one join that streams the
    index: no sort-merge or shuffled join (at scale that shuffled the blocked index rows)."""
    plan = fuzzy.plan_blocking(sample_rows, index, matching, budget=60).persist()
    try:
        for broadcast, joins in ((True, 0), (False, 1)):
            pairs = fuzzy.candidate_pairs(sample_rows, plan, broadcast=broadcast)
            physical = outside_caches(plan_text(pairs, "physical"))
            shuffled = physical.count("SortMergeJoin") + physical.count("ShuffledHashJoin")
            assert (shuffled > 0) == bool(joins)
    finally:
        plan.unpersist()


def test_the_sample_block_keys_are_broadcast_only_when_asked(sample_rows, index):
    """A sample of tens of millions of lines has more block keys than a driver can broadcast:
    with `broadcast` off the join carries no broadcast hint, and finds the same index rows."""
    got = {}
    for broadcast in (True, False):
        rows = blocked_index_rows(index, sample_rows, broadcast)
        assert ("strategy=broadcast" in plan_text(rows, "optimized")) == broadcast
        got[broadcast] = sorted(rows.collect())
    assert got[True] == got[False]
    assert len(got[True]) > 0


def test_hot_key_is_split_within_the_budget(hot):
    diagnostics, evidence = hot
    d = diagnostics["name_prefix"]
    # "mar" in ES: 10 sample lines x 31 customers, far above the budget of 60
    assert d.candidate_pairs > 60 and d.hot_keys >= 1
    assert d.heaviest_keys[0].pairs == 10 * 31
    assert d.heaviest_keys[0].sample_rows == 10 and d.heaviest_keys[0].index_rows == 31
    assert d.action in ("split", "split_skip") and "split by other_token_initial" in d.note
    assert d.pairs_run <= 60
    found = {(r.line_number, r.customer_id) for r in evidence if r.field == "name"}
    assert (200, "g1") in found  # refined on the other token's initial, still found


def test_hot_key_without_refinement_is_skipped(hot):
    diagnostics, evidence = hot
    d = diagnostics["email_local_part"]
    # "sales": 8 x 8 pairs, skipped; "johnsmith" (lines 12 and 14 x c1) still runs
    assert d.candidate_pairs == 66 and d.hot_keys == 1 and d.hot_pairs == 64
    assert d.action == "skip" and d.pairs_run == 2 and "skipped" in d.note
    assert d.heaviest_keys[0].pairs == 64
    emails = {r.line_number for r in evidence if r.field == "email"}
    assert 12 in emails and not emails & set(range(300, 308))


# ---- configuration ------------------------------------------------------------------------


def test_conf_loads_into_frozen_rules(matching):
    names = [r.name for r in matching.rules]
    assert names == [
        "name_prefix", "name_soundex", "address_postcode_number", "street_number",
        "street_city", "email_local_part", "phone_national_number", "birth_initial",
    ]  # fmt: skip
    rule = matching.rules[0]
    assert rule.per_country and rule.refine == "other_token_initial" and rule.length == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.threshold = 0.1  # type: ignore[misc]


def test_the_index_fingerprint_follows_the_blocks_the_rules_make(matching):
    # an index built under other blocking rules holds other blocks: it must read as stale
    from jobs.steps import key_fingerprint

    rules = matching.rules
    longer = dataclasses.replace(rules[0], length=4)
    prints = {
        key_fingerprint("k", rules),
        key_fingerprint("k", rules[:-1]),
        key_fingerprint("k", (longer, *rules[1:])),
        key_fingerprint("other key", rules),
    }
    assert len(prints) == 4
    # a threshold changes the scores kept, not the blocks: the index stays current
    stricter = dataclasses.replace(rules[0], threshold=0.95)
    assert key_fingerprint("k", (stricter, *rules[1:])) == key_fingerprint("k", rules)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"rules": [{"name": "x", "key": "nope", "comparator": "dice"}]}, "key"),
        ({"rules": [{"name": "x", "key": "email_local", "comparator": "dice", "foo": 1}]}, "foo"),
        (
            {
                "rules": [
                    {
                        "name": "x",
                        "key": "email_local",
                        "refine": "street_initials",
                        "comparator": "differs",
                    }
                ]
            },
            "refine",
        ),  # fmt: skip
        ({"rules": [{"name": "x", "key": "phone_tail", "comparator": "name_tokens"}]}, "names"),
    ],
)
def test_conf_rejects_bad_rules(raw, message):
    with pytest.raises(ConfigError, match=message):
        settings.matching_conf(raw)


def test_signatures_are_the_or_of_their_bits():
    """Per row [lo, hi] per set; bit (hash & 127); slices honoured."""
    rows = [[[1, 2, 130], [64, -1]], None, [], [[5], [5, 69]], [[-128]]]
    payload = pa.array(rows, pa.list_(pa.list_(pa.int32())))

    def words(values):
        sig = 0
        for v in values:
            sig |= 1 << (v & 127)
        lo, hi = sig & (2**64 - 1), sig >> 64
        return [w - 2**64 if w >= 2**63 else w for w in (lo, hi)]

    def expected(row):
        if row is None:
            return None
        return [w for s in row for w in words(s)]

    assert grams.signatures(payload).to_pylist() == [expected(r) for r in rows]
    assert grams.signatures(payload.slice(2, 3)).to_pylist() == [expected(r) for r in rows[2:]]
    assert expected(rows[0]) == [6, 0, 0, 1 - 2**63]  # 1, 2, 130&127=2 low; 64, 127 high


def _random_names(rng, n):
    """Token gram sets as the payloads have them: start gram then sorted rest, 1-4 tokens,
    some one-gram initials, drawn from a small pool of hashes so that many overlap."""
    out = []
    for _ in range(n):
        tokens = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.15:
                tokens.append([rng.randint(-300, 300)])
            else:
                rest = sorted(set(rng.sample(range(-300, 300), rng.randint(3, 14))))
                tokens.append([rng.randint(-300, 300), *rest])
        out.append(sorted(tokens))
    return out


def test_bounds_never_undercut_the_scores_and_reject_most_pairs(spark, index):
    """The signature bounds are upper bounds of the comparators (never a lost match) on the
    index's real payloads and on random ones, and they do reject pairs: a bound that lets
    every pair through would pass this test's first half and fail its second."""
    import random

    rng = random.Random(7)
    real = [r.payload for r in index.filter(F.col("field") == "name").select("payload").collect()]
    names = real + _random_names(rng, 60)
    pairs = spark.createDataFrame(
        [(a, b) for a in names for b in names[::3]], "a array<array<int>>, b array<array<int>>"
    ).select(
        "a", "b", fuzzy.signature(F.col("a")).alias("sa"), fuzzy.signature(F.col("b")).alias("sb")
    )
    a, b, sa, sb = F.col("a"), F.col("b"), F.col("sa"), F.col("sb")
    got = pairs.select(
        fuzzy.name_similarity(a, b, 0.85).alias("score"),
        fuzzy.name_bound(a, b, sa, sb, 0.85).alias("bound"),
        fuzzy.dice(F.element_at(a, 1), F.element_at(b, 1)).alias("dice"),
        fuzzy.dice_bound(F.element_at(a, 1), F.element_at(b, 1), sa, sb).alias("dice_bound"),
    ).collect()
    assert len(got) == len(names) * len(names[::3])
    assert all(r.score <= r.bound for r in got), [r for r in got if r.score > r.bound][:3]
    assert all(r.dice <= r.dice_bound for r in got)
    below = [r for r in got if r.score < 0.8]
    assert sum(r.bound < 0.8 for r in below) > 0.5 * len(below)
    below_dice = [r for r in got if r.dice < 0.6]
    assert sum(r.dice_bound < 0.6 for r in below_dice) > 0.5 * len(below_dice)
    # Without signatures nothing is rejected.
    no_sig = F.lit(None).cast(fuzzy.SIGNATURE_TYPE)
    unsigned = pairs.select(fuzzy.name_bound(a, b, no_sig, no_sig, 0.85).alias("x"))
    assert {r.x for r in unsigned.collect()} == {1.0}
