"""The Fellegi–Sunter model: weights worked out by hand, EM recovering known m and u, and
the Spark scoring expression agreeing with the model."""

from __future__ import annotations

import math
import random

import pytest
from pyspark.sql import functions as F

from jobs.errors import ConfigError
from jobs.match import linkage as lk
from jobs.match.linkage.model import FLOOR
from jobs.settings import LevelRule, LinkageConf, load_config
from jobs.settings.matching import linkage_conf
from tests.plans import plan_text


def toy_model() -> lk.LinkageModel:
    """Three customers: Ann Lee, Anne Lee, Bob Roy, e-mails all different. Their three pairs
    compared on name (0 else, 1 close, 2 exact) and e-mail (0 else, 1 exact): Ann/Anne close,
    the two pairs with Bob else on name; every e-mail pair else."""
    u_name = lk.level_shares({0: 2, 1: 1}, 3)
    u_email = lk.level_shares({0: 3}, 2)
    return lk.train_em(
        ["name", "email"], [], [u_name, u_email], [[0.05, 0.15, 0.8], [0.1, 0.9]], 0.01
    )


def test_weights_of_a_three_customer_toy_by_hand():
    model = toy_model()
    name, email = model.fields
    assert name.u == pytest.approx((2 / 3, 1 / 3, FLOOR))
    assert email.u == pytest.approx((1 - FLOOR, FLOOR))
    assert model.em_iterations == 0  # no pairs: the conf defaults stand
    # name close: log2(0.15 / (1/3)) = log2(0.45); exact: log2(0.8 / 1e-6)
    assert name.weights[1] == pytest.approx(math.log2(0.45))
    assert name.weights[2] == pytest.approx(math.log2(0.8e6))
    # e-mail else: log2(0.1 / (1 - 1e-6)), a penalty of about 3.3 bits
    assert email.weights[0] == pytest.approx(math.log2(0.1 / (1 - FLOOR)))
    # exact name + exact e-mail, missing fields weigh nothing
    both = math.log2(0.01 / 0.99) + math.log2(0.8e6) + math.log2(0.9e6)
    assert model.pattern_weight((2, 1)) == pytest.approx(both)
    assert model.pattern_weight((2, -1)) == pytest.approx(both - math.log2(0.9e6))
    assert lk.probability(model.pattern_weight((2, 1))) > 0.999999
    assert lk.probability(model.pattern_weight((0, 0))) < 0.001


TRUE_M = [[0.05, 0.1, 0.85], [0.2, 0.8], [0.1, 0.3, 0.6]]
TRUE_U = [[0.9, 0.09, 0.01], [0.95, 0.05], [0.7, 0.25, 0.05]]


def generated_patterns(n: int, prior: float, seed: int = 3) -> list[tuple[tuple[int, ...], int]]:
    rng = random.Random(seed)
    counts: dict[tuple[int, ...], int] = {}
    for _ in range(n):
        probs = TRUE_M if rng.random() < prior else TRUE_U
        pattern = tuple(rng.choices(range(len(p)), weights=p)[0] for p in probs)
        if rng.random() < 0.05:  # a field missing on one side now and then
            pattern = (-1, *pattern[1:])
        counts[pattern] = counts.get(pattern, 0) + 1
    return sorted(counts.items())


def test_em_recovers_known_m_and_prior():
    patterns = generated_patterns(40_000, prior=0.2)
    start = [[0.2, 0.3, 0.5], [0.4, 0.6], [0.3, 0.3, 0.4]]  # not the truth
    model = lk.train_em(["a", "b", "c"], patterns, TRUE_U, start, 0.5)
    assert model.converged and model.em_iterations > 1
    assert model.prior == pytest.approx(0.2, abs=0.02)
    for f, true in zip(model.fields, TRUE_M, strict=True):
        assert f.m == pytest.approx(true, abs=0.05)


def test_em_keeps_defaults_when_there_is_nothing_to_learn():
    patterns = [((0, 0, 0), 50)]  # a handful of pairs that all disagree
    start = [[0.05, 0.1, 0.85], [0.2, 0.8], [0.1, 0.3, 0.6]]
    model = lk.train_em(["a", "b", "c"], patterns, TRUE_U, start, 0.01)
    assert model.em_iterations == 0
    assert [f.m for f in model.fields] == [pytest.approx(s) for s in start]


def test_the_spark_weight_equals_the_model(spark):
    model = lk.train_em(["a", "b", "c"], generated_patterns(5_000, 0.3), TRUE_U, TRUE_M, 0.3)
    rows = [(0, 2, 1, 2), (1, 0, 0, 0), (2, -1, 1, 1), (3, 1, -1, -1), (4, None, 0, 1)]
    df = spark.createDataFrame(rows, "id int, ga int, gb int, gc int")
    gammas = ["ga", "gb", "gc"]
    scored = df.select("id", lk.match_weight(model, gammas).alias("w"), *gammas).withColumn(
        "p", lk.match_probability(F.col("w"))
    )
    for r in scored.collect():
        pattern = tuple(-1 if r[g] is None else r[g] for g in gammas)
        assert r.w == pytest.approx(model.pattern_weight(pattern))
        assert r.p == pytest.approx(lk.probability(model.pattern_weight(pattern)))
    counts = dict(lk.pattern_counts(df.fillna(-1), gammas))
    assert counts[(2, 1, 2)] == 1 and sum(counts.values()) == len(rows)


FIELDS4 = ("email", "phone", "name")  # the fields with an exact level
LEVELS = {
    "name": [LevelRule("exact", "exact"), LevelRule("dice_0.9", "fuzzy", 0.9),
             LevelRule("dice_0.8", "fuzzy", 0.8)],
    "email": [LevelRule("exact", "exact"), LevelRule("local_part", "email_local_part")],
    "phone": [LevelRule("exact", "exact")],
}  # fmt: skip


def test_comparison_vectors_from_evidence(spark):
    evidence = spark.createDataFrame(
        [
            (1, "name", "c1", "fuzzy", 0.85),  # dice 0.8 level
            (1, "name", "c1", "fuzzy", 0.95),  # a better score for the same pair wins
            (1, "email", "c1", "exact", None),
            (2, "email", "c2", "email_local_part", 1.0),
            (2, "name", None, "exact", None),  # a key hitting no listed customer: no pair
            (3, "phone", "c1", "exact", None),
        ],
        "line_number long, field string, customer_id string, method string, score double",
    )
    line_fields = spark.createDataFrame(
        [(1, "name"), (1, "email"), (1, "phone"), (2, "email"), (2, "name"), (3, "phone")],
        "line_number long, field string",
    )
    customer_fields = spark.createDataFrame(
        [("c1", "name"), ("c1", "email"), ("c1", "phone"), ("c2", "email")],
        "customer_id string, field string",
    )
    vectors = lk.comparison_vectors(evidence, line_fields, customer_fields, LEVELS)
    got = {(r.line_number, r.customer_id): (r.gamma_name, r.gamma_email, r.gamma_phone)
           for r in vectors.collect()}  # fmt: skip
    assert got == {
        (1, "c1"): (2, 2, 0),  # name dice >= 0.9, e-mail exact, phones both held but differ
        (2, "c2"): (-1, 1, -1),  # c2 has no name or phone: missing, not disagreeing
        (3, "c1"): (-1, -1, 1),  # line 3 holds a phone only
    }
    # the customers' fields as masks, as the run passes them: the same vectors; a field held
    # twice (two e-mail keys) or a row with no field sets its bit once or not at all
    repeated = customer_fields.unionByName(
        spark.createDataFrame([("c1", "email"), ("c2", None)], "customer_id string, field string")
    )
    masks = lk.held_mask(repeated, "customer_id", LEVELS)
    assert sorted(masks.columns) == ["customer_id", "held_mask"] and masks.count() == 2
    again = lk.comparison_vectors(evidence, line_fields, masks, LEVELS)
    assert {(r.line_number, r.customer_id): (r.gamma_name, r.gamma_email, r.gamma_phone)
            for r in again.collect()} == got  # fmt: skip
    # the lines' masks broadcast (a sample small enough): read as before. Without line 1's
    # phone its phones no longer both held: missing (-1), not disagreeing (0)
    best = lk.best_levels(evidence, LEVELS)
    phone_1 = (F.col("line_number") == 1) & (F.col("field") == "phone")
    for fields, want in (
        (line_fields, got),
        (line_fields.filter(~phone_1), {**got, (1, "c1"): (2, 2, -1)}),
    ):
        sent = lk.vectors_of(best, fields, masks, LEVELS, broadcast_lines=True)
        assert "BroadcastHashJoin" in plan_text(sent, "physical")
        assert {(r.line_number, r.customer_id): (r.gamma_name, r.gamma_email, r.gamma_phone)
                for r in sent.collect()} == want  # fmt: skip


def test_address_parts_are_judged_together(spark):
    """An address level is reached by its parts' best scores together: a pair is judged once
    for the address, not once per part (parts of one address are not independent)."""
    part = {"method": "parts", "m": 0.1, "u": 0.001}
    levels = {
        "name": [LevelRule("exact", "exact"), LevelRule("dice_0.9", "fuzzy", 0.9)],
        "address": [
            LevelRule("full", parts=(("street", 0.9), ("postcode", 1.0), ("house_number", 1.0)),
                      **part),
            LevelRule("street_number", parts=(("street", 0.7), ("house_number", 1.0)), **part),
            LevelRule("postcode", parts=(("postcode", 1.0),), **part),
        ],
    }  # fmt: skip
    evidence = spark.createDataFrame(
        [
            *[(1, p, "c1", "compared", 1.0) for p in ("street", "postcode", "house_number")],
            (2, "street", "c1", "compared", 0.8),
            (2, "house_number", "c1", "compared", 1.0),
            (2, "postcode", "c1", "compared", 0.5),  # not enough for the postcode level
            (3, "postcode", "c2", "compared", 1.0),
            (3, "street", "c2", "compared", 0.95),  # a street alone reaches no level
            (4, "street", "c2", "compared", 0.3),
            (4, "name", "c2", "fuzzy", 0.95),
            (5, "name", "c1", "exact", None),
        ],
        "line_number long, field string, customer_id string, method string, score double",
    )
    held = ["name", "street", "postcode", "house_number"]
    line_fields = spark.createDataFrame(
        [(n, f) for n in (1, 2, 3, 4) for f in held] + [(5, "name")],
        "line_number long, field string",
    )
    customer_fields = spark.createDataFrame(
        [("c1", f) for f in held] + [("c2", "name"), ("c2", "address")],
        "customer_id string, field string",
    )
    vectors = lk.comparison_vectors(evidence, line_fields, customer_fields, levels)
    got = {(r.line_number, r.customer_id): (r.gamma_name, r.gamma_address)
           for r in vectors.collect()}  # fmt: skip
    assert got == {
        (1, "c1"): (0, 3),  # every part agrees: the whole address, one level
        (2, "c1"): (0, 2),  # street and number, the postcode two characters off
        (3, "c2"): (0, 1),  # the postcode; c2's address key counts as holding an address
        (4, "c2"): (1, 0),  # both hold an address, nothing agrees enough
        (5, "c1"): (2, -1),  # line 5 holds no address
    }


def test_the_same_street_and_number_in_another_town_is_another_address(spark):
    """`unless`: street + number reach their level when the towns agree, or a side names no
    town, or the town is retyped; not when both sides name towns with nothing in common (or
    postcodes): the pair then falls to the street alone."""
    part = {"method": "parts", "m": 0.1, "u": 0.001}
    levels = {
        "address": [
            LevelRule("street_number", parts=(("street", 0.7), ("house_number", 1.0)),
                      unless=(("city", 0.3), ("postcode", 0.3)), **part),
            LevelRule("street", parts=(("street", 0.5),), **part),
        ],
    }  # fmt: skip
    same = [(p, 1.0) for p in ("street", "house_number")]
    pairs = {
        1: [*same, ("city", 0.1)],  # another town
        2: same,  # the line names no town
        3: [*same, ("city", 0.5)],  # the town retyped
        4: [*same, ("city", 1.0), ("postcode", 0.0)],  # same town name, another postcode
        5: [*same, ("postcode", 0.5)],  # two postcode digits swapped
    }
    evidence = spark.createDataFrame(
        [(n, f, "c1", "compared", x) for n, parts in pairs.items() for f, x in parts],
        "line_number long, field string, customer_id string, method string, score double",
    )
    held = spark.createDataFrame([(n, "street") for n in pairs], "line_number long, field string")
    customer = spark.createDataFrame([("c1", "street")], "customer_id string, field string")
    vectors = lk.comparison_vectors(evidence, held, customer, levels).collect()
    got = {r.line_number: r.gamma_address for r in vectors}
    assert got == {1: 1, 2: 2, 3: 2, 4: 1, 5: 2}
    with pytest.raises(ConfigError, match="unless"):
        linkage_conf({"fields": {"address": [
            {"level": "x", "method": "fuzzy", "unless": {"city": 0.3}, "m": 0.1, "u": 0.1}
        ]}})  # fmt: skip


def test_exact_u_from_key_frequencies(spark):
    index = spark.createDataFrame(
        [("name", "k1", "c1"), ("name", "k1", "c2"), ("name", "k2", "c3"),
         ("name", "k2", "c3"),  # the same key from two roles counts once
         ("email", "e1", "c1"), ("email", "e2", "c2")],
        "field string, match_key string, customer_id string",
    )  # fmt: skip
    u = {r.field: r.u for r in lk.exact_u(index).collect()}
    assert u["name"] == pytest.approx((2 * 2 + 1 * 1) / 3**2)
    assert u["email"] == pytest.approx(2 / 2**2)


def scored_pairs(spark):
    rows = [(1, "a", 10.0), (1, "b", 9.0), (2, "a", 8.0), (2, "b", 1.0), (3, "c", -2.0),
            (4, "a", None)]  # fmt: skip
    df = spark.createDataFrame(rows, "line_number long, customer_id string, match_weight double")
    return df.fillna({"match_weight": -99.0}).withColumn(
        "match_probability", lk.match_probability(F.col("match_weight"))
    )


def test_best_per_line_and_one_to_one(spark):
    pairs = scored_pairs(spark)
    best = {r.line_number: r.customer_id for r in lk.best_per_line(pairs).collect()}
    assert best == {1: "a", 2: "a", 3: "c", 4: "a"}
    # greedy: (1, a) first; line 2 then gets b; line 4 had only a, already taken
    one = {r.line_number: r.customer_id for r in lk.one_to_one(pairs).collect()}
    assert one == {1: "a", 2: "b", 3: "c"}


def test_conf_levels_give_the_start_values():
    conf = load_config().matching.linkage
    measured = {("address", "street_number"): 0.03}
    names, us, ms = lk.start_values(conf, {"name": 0.01}, measured)
    assert names == ["email", "phone", "name", "address", "date_of_birth"]
    name = names.index("name")
    # name levels: else, lone_token, dice_0.5, contained, 0.7, 0.8, 0.9, exact (the first
    # listed is the highest)
    u_levels = [0.01, 0.02, 0.005, 0.005, 0.001, 0.0002, 0.01]
    assert us[name] == pytest.approx([1 - sum(u_levels), *u_levels])
    m_levels = [0.015, 0.02, 0.02, 0.03, 0.07, 0.12, 0.715]
    assert ms[name] == pytest.approx([1 - sum(m_levels), *m_levels])
    # a level measured on random warehouse pairs takes that u, not conf's 0.00001
    address = dict(conf.fields)["address"]
    conf_u = [lv.u for lv in reversed(address)]  # level 1 first
    at = len(address) - [lv.name for lv in address].index("street_number")
    conf_u[at - 1] = 0.03
    assert us[names.index("address")] == pytest.approx([1 - sum(conf_u), *conf_u])
    assert all(sum(u) == pytest.approx(1) for u in us)
    assert all(sum(m) == pytest.approx(1) for m in ms)


def test_a_level_needs_its_u_and_probabilities():
    bad = {"fields": {"name": [{"level": "close", "method": "fuzzy", "m": 0.2}]}}
    with pytest.raises(ConfigError, match="needs its u"):
        linkage_conf(bad)
    over = {"fields": {"name": [{"level": "exact", "method": "exact", "m": 1.2}]}}
    with pytest.raises(ConfigError, match="between 0 and 1"):
        linkage_conf(over)


def test_train_and_score_on_vectors(spark):
    exact = LevelRule("exact", "exact", m=0.4)
    conf = LinkageConf(
        fields=(
            ("a", (exact, LevelRule("near", "fuzzy", 0.8, 0.3, 0.09))),
            ("b", (exact,)),
            ("c", (exact, LevelRule("near", "fuzzy", 0.8, 0.4, 0.25))),
        ),
    )
    patterns = generated_patterns(20_000, prior=0.2)
    rows = [(i, f"c{i}", *p) for i, (p, n) in enumerate(patterns) for _ in range(n)]
    vectors = spark.createDataFrame(
        rows, "line_number long, customer_id string, gamma_a int, gamma_b int, gamma_c int"
    )
    # exact u as TRUE_U's top level: EM then has the true u for every level
    model = lk.train(vectors, conf, {"a": 0.01, "b": 0.05, "c": 0.05})
    assert model.prior == pytest.approx(0.2, abs=0.02)
    assert model.fields[0].m == pytest.approx(TRUE_M[0], abs=0.05)
    scored = lk.scored_pairs(vectors, model)
    top = scored.filter((F.col("gamma_a") == 2) & (F.col("gamma_b") == 1) & (F.col("gamma_c") == 2))
    assert top.first().match_probability > 0.99


def test_a_lone_common_field_is_no_link_with_the_random_pair_prior():
    """Candidates all agree somewhere: 99 lines that are customers (every field exact) and
    208 fabricated lines whose name happens to be a customer's. With u measured over all
    pairs and the prior of a random pair (1 / 20,000 customers), EM keeps the name-only
    pairs apart; a prior trained on the candidates alone would link them all."""
    conf = load_config().matching.linkage
    names, us, ms = lk.start_values(conf, dict.fromkeys(FIELDS4, 1 / 20_000))
    top = tuple(len(u) - 1 for u in us)
    name_only = tuple(len(us[i]) - 1 if f == "name" else 0 for i, f in enumerate(names))
    # name and address exact, no e-mail or phone on the line (a name + address dump)
    name_address = tuple(
        len(us[i]) - 1 if f in ("name", "address") else -1 for i, f in enumerate(names)
    )
    patterns = [(top, 99), (name_only, 208)]
    prior = lk.random_pair_prior(conf, 20_000)
    model = lk.train_em(names, patterns, us, ms, prior, fix_prior=True, pseudo_pairs=50)
    assert model.prior == pytest.approx(1 / 20_000)
    assert lk.probability(model.pattern_weight(top)) > 0.999
    assert lk.probability(model.pattern_weight(name_only)) < 0.01
    assert lk.probability(model.pattern_weight(name_address)) >= conf.threshold
    trained = lk.train_em(names, patterns, us, ms, 0.5, pseudo_pairs=50)  # prior left to EM
    assert lk.probability(trained.pattern_weight(name_only)) > conf.threshold


def test_other_people_at_our_addresses_do_not_teach_em_that_names_disagree():
    """300 customers' lines (name and address exact) and 100 lines of other people at our
    customers' addresses (the name else). Left free, EM takes the 100 for matches whose
    names disagree and links them; with "else" capped at conf's m they stay unlinked."""
    conf = load_config().matching.linkage
    names, us, ms = lk.start_values(conf, dict.fromkeys(FIELDS4, 1 / 3000))
    name = names.index("name")

    def pattern(name_level: int) -> tuple[int, ...]:
        return tuple(
            name_level if f == "name" else len(us[i]) - 1 if f == "address" else -1
            for i, f in enumerate(names)
        )

    customer, other_person = pattern(len(us[name]) - 1), pattern(0)
    patterns = [(customer, 300), (other_person, 100)]
    prior = lk.random_pair_prior(conf, 3000)
    kwargs = {"fix_prior": True, "pseudo_pairs": conf.m_pseudo_pairs}
    capped = lk.train_em(names, patterns, us, ms, prior, cap_else=True, **kwargs)
    assert capped.fields[name].m[0] == pytest.approx(ms[name][0])
    assert lk.probability(capped.pattern_weight(customer)) > 0.999
    assert lk.probability(capped.pattern_weight(other_person)) < conf.threshold
    free = lk.train_em(names, patterns, us, ms, prior, **kwargs)
    assert lk.probability(free.pattern_weight(other_person)) >= conf.threshold


def test_two_agreeing_fields_link_from_the_lower_threshold(spark):
    """Name and date of birth weigh ±log2(3) bits, the address ±log2(24), the prior 0: two
    agreeing fields link from probability 0.5, one field alone only from 0.95."""
    three = (0.25, 0.75), (0.75, 0.25)
    model = lk.LinkageModel(
        (lk.FieldModel("name", *three), lk.FieldModel("date_of_birth", *three),
         lk.FieldModel("address", (0.04, 0.96), (0.96, 0.04))),
        prior=0.5,
    )  # fmt: skip
    rows = [
        ("name and date: p 0.9", 1, 1, -1, True),
        ("name alone: p 0.75", 1, -1, -1, False),
        ("address alone: p 0.96", -1, -1, 1, True),
        ("another name, the date and address: p 0.96", 0, 1, 1, True),
        ("another name, the date: p 0.5, one field", 0, 1, -1, False),
        ("name and date, another address: p 0.27", 1, 1, 0, False),
        ("nothing known", None, None, None, False),
    ]
    df = spark.createDataFrame(
        rows,
        "case string, gamma_name int, gamma_date_of_birth int, gamma_address int, want boolean",
    )
    scored = lk.scored_pairs(
        df.withColumns({"line_number": F.lit(1), "customer_id": F.col("case")}), model
    )
    scored = scored.join(df.select("case", "want"), scored.customer_id == df.case, how="inner")
    scored = scored.withColumn("linked", lk.linked(model, LinkageConf()))
    got = {r.case: (r.linked, r.want) for r in scored.collect()}
    assert all(linked == want for linked, want in got.values()), got
    # a sample a tenth of whose lines are ours: the prior falls from 0.5 to 0.05 (-4.25 bits),
    # name and date (3.17 bits) fall to p 0.27; the high bar is judged as before
    tenth = scored.withColumn("linked", lk.linked(model, LinkageConf(), share=0.1))
    got = {r.case: r.linked for r in tenth.collect()}
    assert not got["name and date: p 0.9"]
    assert got["address alone: p 0.96"] and got["another name, the date and address: p 0.96"]


def test_the_share_of_lines_that_are_ours_comes_from_the_high_bar():
    conf = LinkageConf()
    assert lk.sample_share(4_945, 5_000, conf) == pytest.approx(0.989)
    assert lk.sample_share(0, 100_000, conf) == pytest.approx(1e-5)  # made up: one line at most
    assert lk.sample_share(12, 10, conf) == 1.0  # never above conf's matched_share


def test_the_lower_threshold_stays_under_the_threshold():
    with pytest.raises(ConfigError, match="corroborated_threshold"):
        linkage_conf({"fields": {}, "threshold": 0.9, "corroborated_threshold": 0.95})
    with pytest.raises(ConfigError, match="corroborating_fields"):
        linkage_conf({"fields": {}, "corroborating_fields": 1})


def test_a_sample_up_to_broadcast_lines_is_broadcast():
    conf = linkage_conf({"fields": {}, "broadcast_lines": 5})
    assert conf.broadcasts(0) and conf.broadcasts(5) and not conf.broadcasts(6)


def test_a_sample_of_every_mask_share_lines_per_customer_reads_every_mask():
    conf = linkage_conf({"fields": {}, "every_mask_share": 0.1})
    assert conf.reads_every_mask(100, 1000) and conf.reads_every_mask(101, 1000)
    assert not conf.reads_every_mask(99, 1000)
    # the default: 1 M lines against 10 M customers read every mask, 10 k lines their candidates'
    assert linkage_conf({"fields": {}}).reads_every_mask(1_000_000, 10_000_000)
    assert not linkage_conf({"fields": {}}).reads_every_mask(10_000, 10_000_000)


def test_stored_held_names_give_the_same_masks(spark):
    """A customer's held names (`customer_fields`, written by the index build) make the mask
    the claim would make from its rows: a field held twice, a field no level reads and a row
    with no field set no bit of their own."""
    rows = spark.createDataFrame(
        [("c1", "name"), ("c1", "email"), ("c1", "email"), ("c2", "phone"), ("c2", "city"),
         ("c3", None), ("c4", "street")],
        "customer_id string, field string",
    )  # fmt: skip
    names = lk.held_names(rows)
    assert {r.customer_id: r.fields for r in names.collect()} == {
        "c1": ["email", "name"], "c2": ["city", "phone"], "c3": [], "c4": ["street"]
    }  # fmt: skip
    want = {r.customer_id: r.held_mask for r in lk.held_mask(rows, "customer_id", LEVELS).collect()}
    got = {r.customer_id: r.held_mask for r in lk.names_mask(names, LEVELS).collect()}
    assert got == want and want["c1"] != want["c2"] and want["c3"] == want["c4"] == 0
