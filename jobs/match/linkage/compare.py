"""Every field of every candidate pair compared, whichever block made the pair meet.

A pair found through its name alone used to have its address judged "else": nothing had
compared it. Here each candidate (line, customer) pair reads both sides' payloads (the
fuzzy rows' gram-hash sets: hashes only) and gets one score per field: the name by the name
comparator, the address part by part (street line Dice, postcode by positional characters,
house number, city grams Dice). Address evidence of the matchers (an exact key, a postcode +
number block) counts as full agreement of the parts it implies, so the parts work without
fuzzy rows too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.match.birth import BIRTH_PAYLOAD, birth_score
from jobs.match.birth import FIELD as BIRTH
from jobs.match.fuzzy.schema import PAYLOAD_TYPE, SIGNATURE_TYPE
from jobs.match.fuzzy.score import (
    dice,
    dice_bound,
    name_bound,
    name_containment,
    name_similarity,
)
from jobs.match.linkage.vectors import PAIR, parts_of, reaches
from jobs.settings import PARTS, LevelRule

# The address payload's gram sets, in order (`fuzzy.rows._address_rows`): one field each here.
ADDRESS_PARTS = ("street", "postcode", "house_number", "city")
# The parts an address key holds (house number | street | postcode): evidence of them.
KEYED_PARTS = ADDRESS_PARTS[:3]
COMPARED = "compared"  # the method of a part's evidence rows
CONTAINED = "contained"  # a name's tokens all in the other's (`score.name_containment`)
LONE = "lone_token"  # a name of one token against a longer one: that token's best match
COMPARED_METHODS = ("fuzzy", CONTAINED, LONE, COMPARED, PARTS)  # levels compared payloads reach
EVIDENCE = ["line_number", "field", "customer_id", "method", "score"]


def payloads(
    fuzzy_rows: DataFrame,
    id_col: str,
    fields: Sequence[str] = ("name", "address", BIRTH),
    distinct: bool = True,
) -> DataFrame:
    """Fuzzy index rows (one per value) or sample rows (one per block) -> (id_col, field,
    payload, sig) of names, addresses and dates of birth (`fields`), distinct unless told:
    the index repeats few values (2.5 % at 1 M customers), and a repeat only scores a pair
    twice under the same `max`, cheaper than hashing every payload array to drop it."""
    wanted = fuzzy_rows.filter(F.col("field").isin(*fields))
    rows = wanted.select(id_col, "field", "payload", "sig")
    return rows.distinct() if distinct else rows


def line_birth_payloads(normalised: DataFrame) -> DataFrame:
    """sample_normalised -> (line_number, field, payload, sig) of the lines' dates of birth,
    as `payloads` gives the other fields'; none from a table written before the column."""
    held = BIRTH_PAYLOAD in normalised.columns
    payload = F.col(BIRTH_PAYLOAD) if held else F.lit(None).cast(PAYLOAD_TYPE)
    rows = normalised.select("line_number", payload.alias("payload"))
    return rows.filter(F.col("payload").isNotNull()).select(
        "line_number",
        F.lit(BIRTH).alias("field"),
        "payload",
        F.lit(None).cast(SIGNATURE_TYPE).alias("sig"),
    )


def _part(payload: Column, k: int) -> Column:
    return F.coalesce(F.try_element_at(payload, F.lit(k)), F.array().cast("array<int>"))


NAME_SCORE = "_name_score"  # the name score's column, where containment reads it (`best_scores`)


def name_score(s: Column, i: Column, ss: Column, si: Column, initial_score: float,
               floor: float) -> Column:  # fmt: skip
    """A name pair's score as the fuzzy name rule scores it, 0 where its signature bound is
    under `floor` (not compared); null for another field."""
    is_name = F.col("field") == "name"
    near = name_bound(s, i, ss, si, initial_score) >= floor
    return F.when(is_name & near, name_similarity(s, i, initial_score)).when(is_name, F.lit(0.0))


def field_scores(
    s: Column,
    i: Column,
    ss: Column,
    si: Column,
    initial_score: float,
    floors: Mapping[str, float],
    name: Column,
    name_settles: float | None = None,
) -> dict[tuple[str, str], Column]:
    """(field, method) -> its score for a (line value, customer value) pair: a name
    scored as the fuzzy name rule scores it, the address parts both sides hold, a date of
    birth (`birth.birth_score`: exact, near or 0); null where
    the value's field is another or a side lacks the part. A score whose signature bound
    (`ss`, `si`) is under its floor (`score_floors`: the lowest value a level reads it at) is
    0 without comparing: most pairs are far apart, and each comparison reads two arrays of
    arrays. Plain columns, not an array of structs to explode: once compiled and warm, a
    projection runs the comparators about twice as fast as a generator does; its larger code
    costs more to warm up, so the gain shows on large runs (1 M customers), not on small
    ones.

    `name`: the name score, a column a projection before made (`name_score`);
    `name_settles`: containment is 0 without comparing where the name score is at least
    this (`name_settled_at`: no containment can change the name's level there)."""
    is_name = F.col("field") == "name"
    # the containment column also gives the lone-token score (`best_scores`)
    lone_floor = min(floors[CONTAINED], floors[LONE])
    contained_floor = F.when(lone_shape(s, i), F.lit(lone_floor)).otherwise(floors[CONTAINED])
    wanted = is_name & (name_bound(s, i, ss, si, initial_score, F.greatest) >= contained_floor)
    if name_settles is not None:
        wanted = wanted & (name < name_settles)
    contained = F.when(wanted, name_containment(s, i, initial_score)).when(is_name, F.lit(0.0))
    scores = {("name", "fuzzy"): name, ("name", CONTAINED): contained}
    is_address = F.col("field") == "address"
    for k, part in enumerate(ADDRESS_PARTS, start=1):
        a, b = _part(s, k), _part(i, k)
        held = is_address & (F.size(a) > 0) & (F.size(b) > 0)
        near = dice_bound(a, b, ss, si, k) >= floors[part]
        scores[(part, COMPARED)] = F.when(held, F.when(near, dice(a, b)).otherwise(F.lit(0.0)))
    scores[(BIRTH, COMPARED)] = F.when(F.col("field") == BIRTH, birth_score(s, i))
    return scores


def sides(
    payload_rows: DataFrame, id_col: str, as_id: str, line: bool, keep: Sequence[str] = ()
) -> DataFrame:
    """`payloads` rows as one side of the pairs `best_scores` reads: (as_id, field, and the
    payload and signature as _s/_ss for the line side, _i/_si for the customer side), and the
    columns in `keep`."""
    p, sig = ("_s", "_ss") if line else ("_i", "_si")
    return payload_rows.select(
        F.col(id_col).alias(as_id),
        "field",
        F.col("payload").alias(p),
        F.col("sig").alias(sig),
        *keep,
    )


def lone_shape(s: Column, i: Column) -> Column:
    """A line's name of one token against a longer one: the lone-token level's shape."""
    return (F.size(s) == 1) & (F.size(i) > 1)


def best_scores(
    joined: DataFrame,
    ids: Sequence[str],
    initial_score: float,
    floors: Mapping[str, float] | None = None,
    name_settles: float | None = None,
) -> DataFrame:
    """Pairs of values (ids, field and both `sides`) -> (ids, field, method, score): per
    pair and field the best score over the values each side holds.

    The lone-token score is the containment of a line's name of one token against a longer
    one ("K0ch" for "Bianca Koch", the first name left out): its own level, apart from a
    two-token line's containment (another first name with the customer's surname: a
    relative). It is read off the containment column, not compared a second time.

    `name_settles` (`name_settled_at`): containment is compared only where the name score
    is under it. The name score is a projection's column of its own, which the
    containment's condition reads: one comparison of the name, not two (read once, Spark
    folds the two projections into one)."""
    floors = floors or dict.fromkeys(SCORED, 0.0)
    values = [F.col(c) for c in ("_s", "_i", "_ss", "_si")]
    scored = name_score(*values, initial_score, floors["fuzzy"]).alias(NAME_SCORE)
    joined = joined.select(*ids, "field", *values, scored)
    scores = field_scores(*values, initial_score, floors, F.col(NAME_SCORE), name_settles)
    flat = joined.select(
        *ids,
        *[x.alias(f"_{f}_{m}") for (f, m), x in scores.items()],
        lone_shape(F.col("_s"), F.col("_i")).alias("_lone_shape"),
    )
    columns = {key: F.col(f"_{key[0]}_{key[1]}") for key in scores}
    columns[("name", LONE)] = F.when(F.col("_lone_shape"), F.col(f"_name_{CONTAINED}"))
    # the best of each score per pair of ids, one wide row per pair, then one row per score:
    # a grouping by the ids alone shuffles one row per pair, not one per (pair, score)
    best = flat.groupBy(*ids).agg(*[F.max(x).alias(f"_{f}_{m}") for (f, m), x in columns.items()])
    stacked = F.array(
        *[
            F.struct(
                F.lit(f).alias("field"), F.lit(m).alias("method"), F.col(f"_{f}_{m}").alias("score")
            )
            for f, m in columns
        ]
    )
    return best.select(*ids, F.inline(stacked)).filter(F.col("score").isNotNull())


SETTLED = "_settled"  # the compared fields a pair's matcher evidence already puts at the top


def settled_pairs(evidence: DataFrame, levels: Mapping[str, Sequence[LevelRule]]) -> DataFrame:
    """Matcher evidence -> its candidate pairs once each (line_number, customer_id, _settled):
    `_settled` lists the compared plain fields (the name, the date) whose first level the
    pair's evidence already reaches. Comparing their payloads cannot raise a level past the
    first, and a name that an exact key joined passes every bound, so it would pay the full
    comparison: at 10 M customers a common name's exact key makes a third of all pairs."""
    plain = [f for f in compared_fields(levels) if not parts_of(levels[f])]
    # one bit per field while grouping: a string aggregate would make Spark sort the pairs
    bit = F.lit(0)
    for i, f in enumerate(plain):
        bit = F.when((F.col("field") == f) & reaches(levels[f][0]), F.lit(1 << i)).otherwise(bit)
    pairs = evidence.filter(F.col("customer_id").isNotNull()).groupBy(*PAIR)
    bits = pairs.agg(F.bit_or(bit).alias("_bits"))
    named = [
        F.when(F.col("_bits").bitwiseAND(F.lit(1 << i)) != 0, F.lit(f)) for i, f in enumerate(plain)
    ]
    settled = F.array_compact(F.array(*named, F.lit(None).cast("string")))
    return bits.select(*PAIR, settled.alias(SETTLED))


def compared_pairs(
    pairs: DataFrame,
    line_payloads: DataFrame,
    customer_payloads: DataFrame,
    initial_score: float,
    floors: Mapping[str, float] | None = None,
    broadcast_lines: bool = False,
    name_settles: float | None = None,
) -> DataFrame:
    """(line_number, customer_id) pairs -> evidence rows (line_number, field, customer_id,
    method, score): per field, the best score over the values each side holds; a score
    under its floor (`score_floors`; none when not given) may be given as 0. A pair's fields
    in its `_settled` (`settled_pairs`), when it has that column, are not compared.

    `broadcast_lines`: the lines' payloads are sent whole to every task, and the pairs meet
    their customers' payloads first: the pairs with one side's payload (two rows per pair)
    are then not shuffled a second time to meet the other side. 17 % less time at 10 M
    customers and 1 M lines, where the lines' payloads are about 600 MB.
    `name_settles`: see `best_scores`."""
    s = sides(line_payloads, "line_number", "line_number", line=True)
    i = sides(customer_payloads, "customer_id", "customer_id", line=False)

    def unsettled(joined: DataFrame) -> DataFrame:
        if SETTLED not in pairs.columns:
            return joined
        settled = F.coalesce(F.array_contains(F.col(SETTLED), F.col("field")), F.lit(False))
        return joined.filter(~settled).drop(SETTLED)

    if broadcast_lines:
        with_customer = unsettled(pairs.join(i, on="customer_id", how="inner"))
        joined = with_customer.join(F.broadcast(s), on=["line_number", "field"], how="inner")
    else:
        with_line = unsettled(pairs.join(s, on="line_number", how="inner"))
        joined = with_line.join(i, on=["customer_id", "field"], how="inner")
    return best_scores(joined, PAIR, initial_score, floors, name_settles).select(*EVIDENCE)


def telling_zero_parts(levels: Mapping[str, Sequence[LevelRule]]) -> set[str]:
    """The address parts (and compared fields: the date) whose score of 0 can change a level:
    those some level names in `unless` (their disagreement vetoes it) or asks for at 0 or
    less."""
    rules = [rule for field_rules in levels.values() for rule in field_rules]
    vetoing = {p for rule in rules for p, _ in rule.unless}
    asked_at_zero = {p for rule in rules for p, least in rule.parts if least <= 0.0}
    compared_at_zero = {
        f for f, field_rules in levels.items() for r in field_rules
        if r.method == COMPARED and r.min_score <= 0.0
    }  # fmt: skip
    return vetoing | asked_at_zero | compared_at_zero


def without_silent_zeros(rows: DataFrame, levels: Mapping[str, Sequence[LevelRule]]) -> DataFrame:
    """Evidence rows without the compared address parts (and dates) that scored 0 where that
    says nothing (`telling_zero_parts`): such a part reaches no level, and a pair whose parts
    all went unread falls back to presence, which for a part both sides held is "else" (0) as well.
    About a third of the compared rows: less to shuffle for the vectors and the chance
    baseline, the same vectors."""
    telling = telling_zero_parts(levels)
    parts = [p for p in (*ADDRESS_PARTS, BIRTH) if p not in telling]
    silent = (F.col("method") == COMPARED) & F.col("field").isin(parts) & (F.col("score") == 0.0)
    return rows.filter(~F.coalesce(silent, F.lit(False)))


def compared_fields(levels: Mapping[str, Sequence[LevelRule]]) -> list[str]:
    """The linkage fields whose levels a comparison of payloads reaches: the name, address
    parts, fields whose levels are made of address parts, and the date of birth."""
    plain = ("name", BIRTH, *ADDRESS_PARTS)
    return [f for f in levels if f in plain or parts_of(levels[f])]


# The scores `field_scores` bounds, each with its own floor: the name's by method, the rest
# by field or part.
SCORED = ("fuzzy", CONTAINED, LONE, *ADDRESS_PARTS, BIRTH)


def _read_at(levels: Mapping[str, Sequence[LevelRule]]) -> Iterator[tuple[str, float, bool]]:
    """(score, a value some level reads it at, whether that value is an `unless` veto) for
    every compared level: a name's scores by method, the rest by field or part."""
    for f in compared_fields(levels):
        for lv in levels[f]:
            if lv.method not in COMPARED_METHODS:
                continue
            yield from ((part, least, False) for part, least in lv.parts)
            yield from ((part, most, True) for part, most in lv.unless)
            if not lv.parts:
                yield (lv.method if f == "name" else f, lv.min_score, False)


def score_floors(levels: Mapping[str, Sequence[LevelRule]]) -> dict[str, float]:
    """Each score's floor (`SCORED`): the lowest value at which some level reads it, a
    part's `unless` included (a city under it vetoes a level, so a city scored 0 for being
    under a higher floor would veto it wrongly). Under its floor a score reaches no level and
    changes none, and is given as 0 without comparing. A score no level reads keeps the
    lowest of them all (`lowest_level`)."""
    found: dict[str, float] = {}
    for key, least, _ in _read_at(levels):
        found[key] = min(found.get(key, least), least)
    rest = lowest_level(levels)
    return {key: found.get(key, rest) for key in SCORED}


def name_settled_at(levels: Mapping[str, Sequence[LevelRule]]) -> float | None:
    """The name score from which no containment can change a pair's name level: the lowest
    fuzzy level listed above every containment and lone-token level (a name at it is at that
    level or higher, whatever its containment). None when no fuzzy level is above them."""
    rules = list(levels.get("name", ()))
    below = [k for k, rule in enumerate(rules) if rule.method in (CONTAINED, LONE)]
    if not below:
        return None
    above = [rule.min_score for rule in rules[: min(below)] if rule.method == "fuzzy"]
    return min(above, default=None)


def lowest_level(levels: Mapping[str, Sequence[LevelRule]]) -> float:
    """The lowest score any name or address-part level asks for: under it a score is "else"."""
    return min((least for _, least, veto in _read_at(levels) if not veto), default=0.0)


def address_evidence_parts(evidence: DataFrame) -> DataFrame:
    """Address evidence rows -> the parts they imply: an exact key agrees on all three (a
    part neither side holds is told apart by presence), a postcode + number block on the
    postcode and number, with the street at the block's score."""
    address = evidence.filter(F.col("field") == "address")
    exact = F.col("method") == "exact"
    blocked = F.col("method") == "fuzzy"
    street = F.when(exact, F.lit(1.0)).when(blocked, F.col("score"))
    implied = F.when(exact | blocked, F.lit(1.0))
    parts = F.array(
        *[
            F.struct(F.lit(part).alias("field"), score.alias("score"))
            for part, score in zip(KEYED_PARTS, (street, implied, implied), strict=True)
        ]
    )
    rows = address.select("line_number", "customer_id", F.inline(parts))
    return rows.filter(F.col("score").isNotNull()).select(
        "line_number", "field", "customer_id", F.lit(COMPARED).alias("method"), "score"
    )


def part_presence(payload_rows: DataFrame, id_col: str) -> DataFrame:
    """(id_col, field, payload) -> (id_col, field) for each address part a value holds, and
    for a date of birth."""
    held = F.array(
        *[
            F.when(F.size(_part(F.col("payload"), k)) > 0, F.lit(part))
            for k, part in enumerate(ADDRESS_PARTS, start=1)
        ]
    )
    address = payload_rows.filter(F.col("field") == "address")
    parts = address.select(id_col, F.explode(F.array_compact(held)).alias("field"))
    dates = payload_rows.filter(F.col("field") == BIRTH).select(id_col, "field")
    return parts.unionByName(dates).distinct()


def address_presence(fields: DataFrame, id_col: str) -> DataFrame:
    """(id_col, field) rows -> the street and postcode an address key implies (a key needs
    both)."""
    address = fields.filter(F.col("field") == "address")
    return address.select(
        id_col, F.explode(F.array(F.lit("street"), F.lit("postcode"))).alias("field")
    )
