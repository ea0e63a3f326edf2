"""The linked lines' chance baseline: each field's rows moved to other lines by a seeded
permutation, the same for every row of a (field, line)."""

from __future__ import annotations

from jobs.match import linkage as lk

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
