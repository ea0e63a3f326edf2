"""Every field of every candidate pair compared, whichever block made the pair meet.

A pair found through its name alone used to have its address judged "else": nothing had
compared it. Here each candidate (line, customer) pair reads both sides' payloads (the
fuzzy rows' gram-hash sets: hashes only) and gets one score per field: the name by the name
comparator, the address part by part (street line Dice, postcode by positional characters,
house number). Address evidence of the matchers (an exact key, a postcode + number block)
counts as full agreement of the parts it implies, so the parts work without fuzzy rows too.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.match.fuzzy.score import dice, name_similarity

# The address payload's gram sets, in order (`fuzzy.rows._address_rows`): one field each here.
ADDRESS_PARTS = ("street", "postcode", "house_number")
COMPARED = "compared"  # the method of a part's evidence rows
EVIDENCE = ["line_number", "field", "customer_id", "method", "score"]


def payloads(fuzzy_rows: DataFrame, id_col: str) -> DataFrame:
    """Fuzzy index rows (one per value) or sample rows (one per block) -> distinct
    (id_col, field, payload) of names and addresses."""
    wanted = fuzzy_rows.filter(F.col("field").isin("name", "address"))
    return wanted.select(id_col, "field", "payload").distinct()


def _part(payload: Column, k: int) -> Column:
    return F.coalesce(F.try_element_at(payload, F.lit(k)), F.array().cast("array<int>"))


def _scores(s: Column, i: Column, initial_score: float) -> Column:
    """array<struct<field, method, score>> of one (line value, customer value) pair: a name
    scored as the fuzzy name rule scores it; the address parts both sides hold."""
    name = F.array(
        F.struct(
            F.lit("name").alias("field"),
            F.lit("fuzzy").alias("method"),
            name_similarity(s, i, initial_score).alias("score"),
        )
    )
    parts = []
    for k, part in enumerate(ADDRESS_PARTS, start=1):
        a, b = _part(s, k), _part(i, k)
        held = (F.size(a) > 0) & (F.size(b) > 0)
        score = F.when(held, dice(a, b))
        method = F.lit(COMPARED).alias("method")
        parts.append(F.struct(F.lit(part).alias("field"), method, score.alias("score")))
    return F.when(F.col("field") == "name", name).otherwise(F.array(*parts))


def compared_pairs(
    pairs: DataFrame, line_payloads: DataFrame, customer_payloads: DataFrame, initial_score: float
) -> DataFrame:
    """(line_number, customer_id) pairs -> evidence rows (line_number, field, customer_id,
    method, score): per field, the best score over the values each side holds."""
    s = line_payloads.select("line_number", "field", F.col("payload").alias("_s"))
    i = customer_payloads.select("customer_id", "field", F.col("payload").alias("_i"))
    joined = pairs.join(s, on="line_number", how="inner").join(
        i, on=["customer_id", "field"], how="inner"
    )
    scored = joined.select(
        "line_number",
        "customer_id",
        F.inline(_scores(F.col("_s"), F.col("_i"), initial_score)),
    ).filter(F.col("score").isNotNull())
    best = scored.groupBy("line_number", "field", "customer_id", "method").agg(
        F.max("score").alias("score")
    )
    return best.select(*EVIDENCE)


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
            for part, score in zip(ADDRESS_PARTS, (street, implied, implied), strict=True)
        ]
    )
    rows = address.select("line_number", "customer_id", F.inline(parts))
    return rows.filter(F.col("score").isNotNull()).select(
        "line_number", "field", "customer_id", F.lit(COMPARED).alias("method"), "score"
    )


def part_presence(payload_rows: DataFrame, id_col: str) -> DataFrame:
    """(id_col, field, payload) -> (id_col, field) for each address part a value holds."""
    held = F.array(
        *[
            F.when(F.size(_part(F.col("payload"), k)) > 0, F.lit(part))
            for k, part in enumerate(ADDRESS_PARTS, start=1)
        ]
    )
    address = payload_rows.filter(F.col("field") == "address")
    return address.select(id_col, F.explode(F.array_compact(held)).alias("field")).distinct()


def address_presence(fields: DataFrame, id_col: str) -> DataFrame:
    """(id_col, field) rows -> the street and postcode an address key implies (a key needs
    both)."""
    address = fields.filter(F.col("field") == "address")
    return address.select(
        id_col, F.explode(F.array(F.lit("street"), F.lit("postcode"))).alias("field")
    )
