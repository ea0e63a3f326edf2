"""The linked lines' chance baseline: each field's rows moved to other lines by a seeded
permutation, the same for every row of a (field, line)."""

from __future__ import annotations

import random

from jobs.match import linkage as lk
from jobs.settings import LevelRule, LinkageConf

FIELDS = ["email", "name"]


def lines(spark, n: int):
    return spark.createDataFrame([(i,) for i in range(1, n + 1)], "line_number long")


def test_each_field_gets_a_permutation_of_the_lines(spark):
    moves = lk.permutations(lines(spark, 50), FIELDS, seed=1).collect()
    for field in FIELDS:
        pairs = [(r.line_number, r.to_line) for r in moves if r.field == field]
        assert sorted(a for a, _ in pairs) == list(range(1, 51))
        assert sorted(b for _, b in pairs) == list(range(1, 51))
        assert sum(a != b for a, b in pairs) > 40  # moved, not left in place
    by_field = {f: {r.line_number: r.to_line for r in moves if r.field == f} for f in FIELDS}
    assert by_field["email"] != by_field["name"]  # fields are re-paired independently


def test_the_seed_fixes_the_permutation(spark):
    def mapping(seed: int) -> set:
        return {tuple(r) for r in lk.permutations(lines(spark, 30), FIELDS, seed).collect()}

    assert mapping(1) == mapping(1)
    assert mapping(1) != mapping(2)


def test_repaired_rows_follow_their_field_and_keep_their_values(spark):
    moves = lk.permutations(lines(spark, 20), FIELDS, seed=5)
    rows = spark.createDataFrame(
        [(3, "email", 77, "exact"), (3, "name", 77, "fuzzy"), (9, "name", None, None)],
        "line_number long, field string, customer_id long, method string",
    )
    to = {(r.field, r.line_number): r.to_line for r in moves.collect()}
    got = sorted(lk.repaired(rows, moves).collect(), key=lambda r: (r.field, r.line_number))
    want = sorted(
        [(to[("email", 3)], "email", 77, "exact"), (to[("name", 3)], "name", 77, "fuzzy"),
         (to[("name", 9)], "name", None, None)],
        key=lambda r: (r[1], r[0]),
    )  # fmt: skip
    assert [(r.line_number, r.field, r.customer_id, r.method) for r in got] == want


CHANCE_LEVELS = {
    "name": [LevelRule("exact", "exact"), LevelRule("dice_0.8", "fuzzy", 0.8)],
    "email": [LevelRule("exact", "exact")],
    "address": [
        LevelRule("full", "parts", m=0.1, u=0.001,
                  parts=(("street", 0.9), ("postcode", 1.0), ("house_number", 1.0))),
        LevelRule("street", "parts", m=0.1, u=0.01, parts=(("street", 0.7),)),
    ],
}  # fmt: skip


def test_the_repaired_levels_are_those_of_the_repaired_evidence(spark):
    """The chance baseline moves each pair's best level per field, not the evidence rows it
    was judged from: the vectors must be those of the moved evidence, address parts moving
    with their address, a pair seen through an address row alone included."""
    rng = random.Random(11)
    parts = ["street", "postcode", "house_number"]
    evidence, held = [], []
    for line in range(1, 25):
        held += [(line, f) for f in ("name", "email", "address", *parts) if rng.random() < 0.8]
        for customer in ("c1", "c2", "c3"):
            if rng.random() < 0.5:
                evidence.append((line, "name", customer, rng.choice(["exact", "fuzzy"]),
                                 rng.choice([None, 0.5, 0.85, 0.95])))  # fmt: skip
            if rng.random() < 0.3:
                evidence.append((line, "email", customer, "exact", None))
            if rng.random() < 0.4:
                evidence += [(line, p, customer, "compared", rng.choice([0.6, 0.8, 1.0]))
                             for p in parts if rng.random() < 0.7]  # fmt: skip
            if rng.random() < 0.1:
                evidence.append((line, "address", customer, "exact", None))
    evidence.append((3, "name", None, "exact", None))  # a key hitting no customer: no pair
    evidence = spark.createDataFrame(
        evidence, "line_number long, field string, customer_id string, method string, score double"
    )
    line_fields = spark.createDataFrame(held, "line_number long, field string")
    customers = spark.createDataFrame(
        [(c, f) for c in ("c1", "c2") for f in ("name", "email", *parts)] + [("c3", "name")],
        "customer_id string, field string",
    )
    moves = lk.field_moves(lines(spark, 24), CHANCE_LEVELS, seed=3)
    moved_fields = lk.repaired(line_fields, moves)

    def vectors(df) -> set:
        return {tuple(r) for r in df.collect()}

    want = vectors(lk.comparison_vectors(lk.repaired(evidence, moves), moved_fields, customers,
                                         CHANCE_LEVELS))  # fmt: skip
    best = lk.best_levels(evidence, CHANCE_LEVELS)
    got = vectors(lk.vectors_of(lk.repaired_levels(best, moves, CHANCE_LEVELS), moved_fields,
                                customers, CHANCE_LEVELS))  # fmt: skip
    assert got == want
    unmoved = vectors(lk.comparison_vectors(evidence, line_fields, customers, CHANCE_LEVELS))
    assert len(want) > 30 and want != unmoved
    assert {v for r in want for v in r[2:]} >= {-1, 0, 1, 2}  # missing, else and levels seen
    by_field = {}
    for r in moves.collect():
        by_field.setdefault(r.field, {})[r.line_number] = r.to_line
    assert by_field["street"] == by_field["address"] == by_field["house_number"]
    assert by_field["name"] != by_field["address"]


def test_pairs_that_cannot_link_are_dropped_without_changing_what_links(spark):
    """The chance baseline scores only the re-paired pairs `may_link` keeps. Weights: one
    field alone never reaches p 0.95, an e-mail with a full address does; two agreeing fields
    reach p 0.5 with the name exact and the e-mail, not with the name and a street. Every
    pair that links must be kept, fewer pairs must be scored, and each line's link (best
    customer or one-to-one) must be the same with and without the dropped pairs."""
    rng = random.Random(7)
    parts = ["street", "postcode", "house_number"]
    evidence, held = [], []
    for line in range(1, 61):
        held += [(line, f) for f in ("name", "email", "address", *parts) if rng.random() < 0.9]
        for customer in ("c1", "c2", "c3", "c4", "c5"):
            if rng.random() < 0.6:
                evidence.append((line, "name", customer, rng.choice(["exact", "fuzzy"]),
                                 rng.choice([None, 0.5, 0.85])))  # fmt: skip
            if rng.random() < 0.25:
                evidence.append((line, "email", customer, "exact", None))
            if rng.random() < 0.35:
                evidence += [(line, p, customer, "compared", rng.choice([0.75, 1.0]))
                             for p in parts if rng.random() < 0.8]  # fmt: skip
    evidence = spark.createDataFrame(
        evidence, "line_number long, field string, customer_id string, method string, score double"
    )
    line_fields = spark.createDataFrame(held, "line_number long, field string")
    customers = spark.createDataFrame(
        [(c, f) for c in ("c1", "c2", "c3", "c4") for f in ("name", "email", *parts)]
        + [("c5", "name")],
        "customer_id string, field string",
    )
    model = _model()
    gammas = [lk.gamma(f) for f in CHANCE_LEVELS]
    moves = lk.field_moves(lines(spark, 60), CHANCE_LEVELS, seed=3)
    moved = lk.repaired_levels(lk.best_levels(evidence, CHANCE_LEVELS), moves, CHANCE_LEVELS)
    moved_fields = lk.repaired(line_fields, moves)

    def scored(best):
        vectors = lk.vectors_of(best, moved_fields, customers, CHANCE_LEVELS)
        return lk.scored_pairs(vectors, model)

    for share in (None, 0.1):
        conf = LinkageConf()
        every = scored(moved).withColumn("linked", lk.linked(model, conf, share)).collect()
        kept = scored(moved.filter(lk.may_link(model, conf, share)))
        kept_pairs = {(r.line_number, r.customer_id) for r in kept.collect()}
        assert {(r.line_number, r.customer_id) for r in every if r.linked} <= kept_pairs
        assert sum(r.linked for r in every) > 0 and len(kept_pairs) < len(every) / 2
        for pick in (lk.best_per_line, lk.one_to_one):

            def links(df, pick=pick, share=share):
                picked = pick(df, extra=gammas).filter(lk.linked(model, LinkageConf(), share))
                return {(r.line_number, r.customer_id) for r in picked.collect()}

            assert links(kept) == links(scored(moved)), (share, pick.__name__)


def _model(prior: float = 0.01) -> lk.LinkageModel:
    """Weights: one field alone never reaches p 0.95 at prior 0.01; "else" weighs < 0."""
    return lk.LinkageModel(
        (lk.FieldModel("name", (0.1, 0.3, 0.6), (0.9, 0.05, 0.05)),
         lk.FieldModel("email", (0.2, 0.8), (0.99, 0.01)),
         lk.FieldModel("address", (0.2, 0.3, 0.5), (0.9, 0.09, 0.01))),
        prior=prior,
    )  # fmt: skip


def test_only_levelled_fields_move_and_the_same_pairs_link(spark):
    """Fields at "else" (a compared name under the lowest level, a compared address whose
    parts reach none) do not move: where their pair still exists after the move, the held
    fields read them as "else" again. Every re-paired pair with a level must have the same
    vector, fewer rows must move, and the same lines must link. A prior so high that a pair
    with no level links keeps every row."""
    rng = random.Random(5)
    parts = ["street", "postcode", "house_number"]
    evidence, held, holds = [], set(), set()
    for line in range(1, 61):
        held |= {(line, f) for f in ("name", "email", "address", *parts) if rng.random() < 0.5}
        for customer in ("c1", "c2", "c3", "c4", "c5"):
            rows = []
            if rng.random() < 0.6:  # fuzzy 0.5 and 0.6 are under the 0.8 level: "else"
                rows.append((line, "name", customer, rng.choice(["exact", "fuzzy"]),
                             rng.choice([None, 0.5, 0.6, 0.85])))  # fmt: skip
            if rng.random() < 0.2:
                rows.append((line, "email", customer, "exact", None))
            if rng.random() < 0.5:  # street 0.4 reaches no address level
                rows += [(line, p, customer, "compared", rng.choice([0.4, 0.75, 1.0]))
                         for p in parts if rng.random() < 0.8]  # fmt: skip
            evidence += rows
            for _, field, _, _, _ in rows:  # what was compared, both sides hold
                held.add((line, field))
                holds.add((customer, field))
                if field in parts:
                    held.add((line, "address"))
                    holds.add((customer, "address"))
    evidence = spark.createDataFrame(
        evidence, "line_number long, field string, customer_id string, method string, score double"
    )
    line_fields = spark.createDataFrame(sorted(held), "line_number long, field string")
    customers = spark.createDataFrame(sorted(holds), "customer_id string, field string")
    moves = lk.field_moves(lines(spark, 60), CHANCE_LEVELS, seed=4)
    moved_fields = lk.repaired(line_fields, moves)
    best = lk.best_levels(evidence, CHANCE_LEVELS)
    levelled = lk.levelled_fields(best, CHANCE_LEVELS)
    gammas = [lk.gamma(f) for f in CHANCE_LEVELS]

    def vectors(df):
        moved = lk.repaired_levels(df, moves, CHANCE_LEVELS)
        return lk.vectors_of(moved, moved_fields, customers, CHANCE_LEVELS)

    def with_a_level(df) -> set:
        return {tuple(r) for r in df.collect() if any(v > 0 for v in r[2:])}

    every, fewer = vectors(best), vectors(levelled)
    want = with_a_level(every)
    # the same vectors of pairs with a level, and no pair without one left
    assert {tuple(r) for r in fewer.collect()} == want
    assert {v for r in want for v in r[2:]} >= {-1, 0, 1, 2}

    def per_field(df) -> int:
        return sum(bin(r._seen).count("1") for r in df.collect())

    assert per_field(levelled) < 0.8 * per_field(best)
    conf, model = LinkageConf(), _model()
    assert not lk.levelless_may_link(model, conf) and lk.levelless_may_link(_model(0.99), conf)
    for pick in (lk.best_per_line, lk.one_to_one):

        def links(df, pick=pick):
            scored = lk.scored_pairs(df, model)
            picked = pick(scored, extra=gammas).filter(lk.linked(model, conf))
            return {(r.line_number, r.customer_id) for r in picked.collect()}

        linked = links(every)
        assert linked and links(fewer) == linked, pick.__name__


def test_a_permutation_moves_fields_among_the_lines_that_exist(spark):
    """Line numbers with gaps (quarantined lines): each field's lines go to lines of the
    sample, each line receiving one, never to a number no line has, and never to itself
    (a field left on its line would be the line's own, not chance's)."""
    numbers = [2, 5, 9, 40, 41, 77, 100]
    sample = spark.createDataFrame([(n,) for n in numbers], "line_number long")
    moves = lk.permutations(sample, FIELDS, seed=3).collect()
    for field in FIELDS:
        pairs = [(r.line_number, r.to_line) for r in moves if r.field == field]
        assert sorted(a for a, _ in pairs) == numbers
        assert sorted(b for _, b in pairs) == numbers
        assert all(a != b for a, b in pairs)
