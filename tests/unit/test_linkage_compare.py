"""Record linkage's per-pair comparisons: address evidence as parts, and the compared levels'
u measured on random warehouse pairs."""

from __future__ import annotations

import pytest

from jobs.match import linkage as lk
from jobs.settings import LevelRule

PAYLOAD = "customer_id string, field string, payload array<array<int>>, sig array<bigint>"


def test_address_evidence_implies_its_parts(spark):
    evidence = spark.createDataFrame(
        [
            (1, "address", "a", "exact", None),
            (2, "address", "b", "fuzzy", 0.7),  # same postcode + number, street Dice 0.7
            (3, "address", "c", "near", 0.2),  # a candidate only: implies nothing
            (4, "name", "d", "exact", None),
            (5, "address", None, "exact", None),
        ],
        "line_number bigint, field string, customer_id string, method string, score double",
    )
    got = {
        (r.line_number, r.field): r.score
        for r in lk.address_evidence_parts(evidence).collect()
        if r.customer_id is not None
    }
    assert got == {
        (1, "street"): 1.0, (1, "postcode"): 1.0, (1, "house_number"): 1.0,
        (2, "street"): 0.7, (2, "postcode"): 1.0, (2, "house_number"): 1.0,
    }  # fmt: skip


def _customers(n: int, same_postcode: bool):
    """n customers, each a name of two tokens and an address: street, postcode, number sets.
    Street and number sets are each customer's own; the postcode all share, or each its own."""
    rows = []
    for i in range(n):
        base = 1000 * (i + 1)
        postcode = [1, 2, 3, 4] if same_postcode else [base + 7, base + 8, base + 9, base + 10]
        address = [[base + 1, base + 2, base + 3], postcode, [base + 5]]
        rows.append((f"c{i}", "address", address, None))  # no signature: nothing bounded
        rows.append((f"c{i}", "name", [[base + 11, base + 12], [base + 13, base + 14]], None))
    rows.append(("c-none", "address", None, None))  # a value without payload: compared with nothing
    return rows


LEVELS = {
    "street": (LevelRule("dice_0.9", "compared", 0.9, 0.8, 0.01),),
    "postcode": (LevelRule("exact", "compared", 1.0, 0.8, 0.01),),
    "house_number": (LevelRule("exact", "compared", 1.0, 0.8, 0.02),),
    "name": (LevelRule("exact", "exact", m=0.7), LevelRule("dice_0.9", "fuzzy", 0.9, 0.2, 0.01)),
    # the parts judged together: the whole address, else the postcode alone
    "address": (
        LevelRule("full", "parts", m=0.6, u=1e-6,
                  parts=(("street", 0.9), ("postcode", 1.0), ("house_number", 1.0))),
        LevelRule("postcode", "parts", m=0.2, u=0.05, parts=(("postcode", 1.0),)),
    ),
}  # fmt: skip


@pytest.mark.parametrize("same_postcode", [True, False])
def test_u_is_measured_on_random_warehouse_pairs(spark, same_postcode):
    n = 30
    index = spark.createDataFrame(_customers(n, same_postcode), PAYLOAD)
    # draws of 40 take all 31 customers (the payload-less one too)
    u = lk.measured_u(index, LEVELS, pairs=40 * 40, seed=3, initial_score=0.85)
    # every draw has the n customers with a payload; their n*(n-1) ordered pairs of two
    # different customers all hold every part (the payload-less value adds no pair)
    pairs = n * (n - 1)
    # no two customers share a street, a number or a name token: only the +1 smoothing
    assert u[("street", "dice_0.9")] == pytest.approx(1 / (pairs + 1))
    assert u[("house_number", "exact")] == pytest.approx(1 / (pairs + 1))
    assert u[("name", "dice_0.9")] == pytest.approx(1 / (pairs + 1))
    assert ("name", "exact") not in u  # an exact level's u comes from key frequencies
    # a postcode every customer shares says nothing: u ~ 1
    expected = 1.0 if same_postcode else 1 / (pairs + 1)
    assert u[("postcode", "exact")] == pytest.approx(expected)
    # judged together, every pair's best address level is the shared postcode, never the
    # whole address: a level no random pair reached keeps conf's smaller u (1e-6, not 1/871)
    assert u[("address", "postcode")] == pytest.approx(expected)
    assert u[("address", "full")] == pytest.approx(1e-6)


def test_the_lone_token_u_is_measured_with_surnames_alone(spark):
    """A line of one name token meets customers sharing it: u is the share of random pairs
    where one customer's surname alone reaches the level against the other's whole name."""
    n = 30
    rows = [r for r in _customers(n, same_postcode=False) if r[1] != "name"]
    for i in range(n):
        surname = [7, 8, 9] if i % 2 else [17, 18, 19]  # two surnames, each half the customers
        rows.append((f"c{i}", "name", [[1000 * (i + 1) + 11, 1000 * (i + 1) + 12], surname], None))
    lone = LevelRule("lone_token", lk.LONE, 0.55, 0.02, 0.01)
    levels = {"name": (*LEVELS["name"], lone)}
    u = lk.measured_u(spark.createDataFrame(rows, PAYLOAD), levels, 40 * 40, 3, 0.85)
    # ordered pairs of two different customers with the same surname: 2 * 15 * 14 of 30 * 29;
    # their whole names score 0.5 (one token of two), under dice_0.9
    assert u[("name", "lone_token")] == pytest.approx((2 * 15 * 14 + 1) / (n * (n - 1) + 1))
    assert u[("name", "dice_0.9")] == pytest.approx(1 / (n * (n - 1) + 1))


VETO_LEVELS = {
    "address": (
        LevelRule(
            "street_number",
            "parts",
            m=0.5,
            u=1e-5,
            parts=(("street", 0.7), ("house_number", 1.0)),
            unless=(("city", 0.3),),
        ),
        LevelRule("postcode", "parts", m=0.2, u=0.01, parts=(("postcode", 0.5),)),
    ),
    "name": (LevelRule("dice_0.8", "fuzzy", 0.8, 0.5, 0.001),),
}
EVIDENCE = "line_number bigint, field string, customer_id string, method string, score double"


def test_zero_scored_parts_that_say_nothing_are_dropped_and_the_vectors_stay(spark):
    rows = [
        (1, "street", "a", "compared", 0.0),  # silent: no level reads a street at 0
        (1, "house_number", "a", "compared", 1.0),
        (1, "city", "a", "compared", 0.0),  # vetoes street_number: kept
        (2, "street", "b", "compared", 0.9),
        (2, "house_number", "b", "compared", 1.0),
        (2, "postcode", "b", "compared", 0.0),  # silent
        (3, "postcode", "c", "compared", 0.0),  # silent: the pair's only part row
        (3, "name", "c", "fuzzy", 0.0),  # not an address part: kept
        (4, "name", "d", "near", None),
        (5, "street", None, "compared", 0.0),  # silent, and without a customer
    ]
    evidence = spark.createDataFrame(rows, EVIDENCE)
    kept = lk.without_silent_zeros(evidence, VETO_LEVELS)
    assert sorted((r.line_number, r.field) for r in kept.collect()) == [
        (1, "city"), (1, "house_number"), (2, "house_number"), (2, "street"), (3, "name"),
        (4, "name"),
    ]  # fmt: skip
    held = ["address", "street", "postcode", "house_number", "city", "name"]
    lines = spark.createDataFrame(
        [(n, f) for n in range(1, 6) for f in held], "line_number bigint, field string"
    )
    customers = spark.createDataFrame(
        [(c, f) for c in "abcd" for f in held], "customer_id string, field string"
    )
    want = lk.comparison_vectors(evidence, lines, customers, VETO_LEVELS)
    got = lk.comparison_vectors(kept, lines, customers, VETO_LEVELS).collect()
    assert sorted(got) == sorted(want.collect())
    by_line = {r.line_number: r.gamma_address for r in got}
    # 1: street + number, but the towns differ: vetoed, nothing reached; 2: street + number
    assert by_line[1] == 0 and by_line[2] == 2 and by_line[3] == 0


def test_a_part_asked_for_at_zero_keeps_its_zero_rows(spark):
    levels = {
        "address": (LevelRule("any_street", "parts", m=0.5, u=0.1, parts=(("street", 0.0),)),)
    }
    assert lk.telling_zero_parts(levels) == {"street"}
    assert lk.telling_zero_parts(VETO_LEVELS) == {"city"}
    evidence = spark.createDataFrame([(1, "street", "a", "compared", 0.0)], EVIDENCE)
    assert lk.without_silent_zeros(evidence, levels).count() == 1


def _address(street, postcode, number, city):
    """An address payload and a signature with one bit per gram (grams under 64): its bounds
    are exact."""
    sets = [street, postcode, number, city]
    return sets, [w for s in sets for w in (sum(1 << g for g in s), 0)]


def test_each_score_is_compared_down_to_the_lowest_value_a_level_reads_it_at(spark):
    """Same street and number, towns that share a little (city Dice 0.4): `street_number` is
    vetoed only under 0.3. With one floor for every part (the lowest level, 0.5), the city's
    bound (0.4) was under it, the city scored 0 and vetoed the level: a lost match."""
    floors = lk.score_floors(VETO_LEVELS)
    assert floors["city"] == 0.3 and floors["street"] == 0.7 and floors["house_number"] == 1.0
    assert floors["postcode"] == 0.5 == lk.lowest_level(VETO_LEVELS)
    assert floors["fuzzy"] == 0.8  # the name's only level
    line, line_sig = _address([11, 12, 13], [31, 32], [21], [1, 2, 3, 4, 5])
    customer, customer_sig = _address([11, 12, 13], [33, 34], [21], [1, 2, 6, 7, 8])
    line_p = spark.createDataFrame(
        [(1, "address", line, line_sig), (2, "address", line, line_sig)],
        "line_number bigint, field string, payload array<array<int>>, sig array<bigint>",
    )
    customer_p = spark.createDataFrame(
        [("a", "address", customer, customer_sig), ("b", "address", line, line_sig)], PAYLOAD
    )
    pairs = spark.createDataFrame(
        [(1, "a"), (2, "b"), (None, None)], "line_number bigint, customer_id string"
    )
    rows = lk.compared_pairs(pairs, line_p, customer_p, 0.85, floors)
    scores = {(r.line_number, r.field): r.score for r in rows.collect()}
    assert scores[(1, "city")] == pytest.approx(0.4) and scores[(2, "city")] == 1.0
    assert scores[(1, "postcode")] == 0.0  # bound 0: not compared
    best = {r.line_number: r._address for r in lk.best_levels(rows, VETO_LEVELS).collect()}
    assert best == {1: 2, 2: 2}  # street + number; the towns are not "different" at 0.4
    one_floor = lk.compared_pairs(pairs, line_p, customer_p, 0.85, dict.fromkeys(floors, 0.5))
    vetoed = {r.line_number: r._address for r in lk.best_levels(one_floor, VETO_LEVELS).collect()}
    assert vetoed == {1: 0, 2: 2}


def test_the_default_levels_floors():
    """conf/matching.yaml: containment is read from 0.8 (0.55 for a lone token), a city from
    its veto (0.3), a house number only whole."""
    from jobs.settings import load_config

    floors = lk.score_floors(load_config().matching.linkage.levels)
    assert floors["contained"] == 0.8 and floors["lone_token"] == 0.55
    assert floors["city"] == 0.3 and floors["house_number"] == 1.0 and floors["fuzzy"] == 0.5


def _name(*tokens):
    """A name payload and a signature with one bit per gram (grams under 64)."""
    return list(tokens), [w for t in tokens for w in (sum(1 << g for g in t), 0)]


def test_a_lone_token_is_compared_down_to_its_own_floor(spark):
    """A name of one token against a two-token name: its containment (0.6, one token's Dice
    with the customer's surname) is under containment's floor (0.8) but over the lone-token
    level's (0.55), so it is compared and scores at the lone-token level."""
    from jobs.settings import load_config

    floors = lk.score_floors(load_config().matching.linkage.levels)
    surname = list(range(1, 11))
    line, line_sig = _name(surname)
    customer, customer_sig = _name([40, 41, 42], [1, 2, 3, 4, 5, 6, 11, 12, 13, 14])
    line_p = spark.createDataFrame(
        [(1, "name", line, line_sig)],
        "line_number bigint, field string, payload array<array<int>>, sig array<bigint>",
    )
    customer_p = spark.createDataFrame([("a", "name", customer, customer_sig)], PAYLOAD)
    pairs = spark.createDataFrame([(1, "a")], "line_number bigint, customer_id string")
    rows = lk.compared_pairs(pairs, line_p, customer_p, 0.85, floors).collect()
    scores = {r.method: r.score for r in rows}
    # Dice of the surname and the customer's second token: 2 * 6 / (10 + 10)
    assert scores[lk.LONE] == pytest.approx(0.6)
    assert scores["fuzzy"] == 0.0  # the name score: (0.6 + 0) / 2 is under its floor


def test_the_default_levels_settle_the_name_at_its_lowest_level_above_containment():
    """conf/matching.yaml lists dice_0.7 above `contained` and `lone_token`: from a name score
    of 0.7 no containment changes the level. Without a fuzzy level above them, none settles."""
    from jobs.settings import load_config

    assert lk.name_settled_at(load_config().matching.linkage.levels) == 0.7
    contained = LevelRule("contained", lk.CONTAINED, 0.8, 0.02, 0.005)
    below = {"name": (contained, LevelRule("dice_0.5", "fuzzy", 0.5, 0.02, 0.02))}
    assert lk.name_settled_at(below) is None
    assert lk.name_settled_at({"name": (LevelRule("dice_0.9", "fuzzy", 0.9, 0.1, 0.01),)}) is None


def test_containment_is_compared_only_under_the_name_score_that_settles_the_level(spark):
    """Line 1 holds two of customer a's three tokens: name score min(2/2, 2/3) = 0.67, under
    0.7, so its containment (1.0) is compared. Line 2 is customer b's name: score 1.0, its
    containment is given as 0 without comparing. Both pairs' name levels are the same as when
    every containment is compared."""
    from jobs.settings import load_config

    levels = load_config().matching.linkage.levels
    t1, t2, t3 = [1, 2, 3, 4], [11, 12, 13, 14], [21, 22, 23, 24]
    line_p = spark.createDataFrame(
        [(1, "name", [t1, t2], None), (2, "name", [t1, t3], None), (3, "name", None, None)],
        "line_number bigint, field string, payload array<array<int>>, sig array<bigint>",
    )
    customer_p = spark.createDataFrame(
        [("a", "name", [t1, t2, t3], None), ("b", "name", [t3, t1], None)], PAYLOAD
    )
    pairs = spark.createDataFrame(
        [(1, "a"), (2, "b"), (3, "a")], "line_number bigint, customer_id string"
    )
    floors = lk.score_floors(levels)

    def compared(settles):
        rows = lk.compared_pairs(pairs, line_p, customer_p, 0.85, floors, False, settles)
        return rows.filter("field = 'name'").cache()

    settled, every = compared(lk.name_settled_at(levels)), compared(None)
    scores = {(r.line_number, r.method): r.score for r in settled.collect()}
    assert scores[(1, "fuzzy")] == pytest.approx(2 / 3) and scores[(1, lk.CONTAINED)] == 1.0
    assert scores[(2, "fuzzy")] == 1.0 and scores[(2, lk.CONTAINED)] == 0.0
    assert {(r.line_number, r.method): r.score for r in every.collect()}[(2, lk.CONTAINED)] == 1.0

    def name_levels(rows):
        best = lk.best_levels(rows, {"name": levels["name"]}).collect()
        return {r.line_number: r._name for r in best}

    assert name_levels(settled) == name_levels(every)
    # line 1: containment 1.0 reaches `contained` (level 3 of 7); line 2: dice_0.9 (6);
    # line 3 has no name to compare: no level
    assert name_levels(settled) == {1: 3, 2: 6, 3: 0}
