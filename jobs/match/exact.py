"""The cross-check: blocked equi-joins of the sample's hashed keys against the match index.

Shape of the work, chosen so that a common key ("maria garcia") cannot explode the join:
1. the sample's distinct keys (small) are broadcast and semi-joined with the index in one
   streaming pass: `matched` holds only index rows whose key occurs in the sample;
2. per key, the number of customers it hits; keys above `max_customers_per_key` are "hot":
   counted as field matches but expanded to customers only where another, selective field of
   the same line already points at that customer (which is what same-record means);
3. a line's widest field (its key hitting the most customers) is treated the same way unless
   it hits at most `max_customers_unconfirmed`: a customer two fields share is also hit by the
   narrower one, so nothing same-record is lost, and a name-only line no longer lists every
   namesake (at 10 M customers that listing was most of the evidence rows);
4. same-record matches: lines where >= 2 fields hit one customer.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.settings import NEAR

EXACT_EVIDENCE_COLUMNS = [
    "line_number", "field", "customer_id", "source", "customers_hit", "method",
]  # fmt: skip


def matched_index_rows(index: DataFrame, sample_keys: DataFrame, broadcast: bool) -> DataFrame:
    """Index rows whose (field, key) occurs in the sample."""
    wanted = sample_keys.select("field", "match_key").distinct()
    if broadcast:
        wanted = F.broadcast(wanted)
    return index.join(wanted, on=["field", "match_key"], how="inner").select(
        "field", "match_key", "customer_id", "source"
    )


def key_selectivity(matched: DataFrame) -> DataFrame:
    """How many customers each matched key hits: a key shared by 400 customers is weak."""
    return matched.groupBy("field", "match_key").agg(
        F.countDistinct("customer_id").alias("customers_hit")
    )


def line_field_matches(sample_keys: DataFrame, selectivity: DataFrame) -> DataFrame:
    """(line, field) pairs whose key is in the warehouse, with the key's selectivity."""
    return sample_keys.join(selectivity, on=["field", "match_key"], how="inner").select(
        "line_number", "field", "match_key", "customers_hit"
    )


def with_expansion(line_matches: DataFrame, max_per_key: int, max_unconfirmed: int) -> DataFrame:
    """`line_matches` + `expand`: whether the (line, field) lists every customer its key hits.

    A hot key (> `max_per_key` customers) never does; a line's widest field (ties: the last
    field name) only when its key hits at most `max_unconfirmed` customers. Any customer that
    two selective fields of a line share is hit by the narrower one, which is listed, so the
    others are confirmed against those customers and no same-record match is lost."""
    rank = F.struct(F.col("customers_hit"), F.col("field"))
    widest = F.max(rank).over(Window.partitionBy("line_number"))
    hits = F.col("customers_hit")
    expand = (hits <= max_per_key) & ((hits <= max_unconfirmed) | (rank != widest))
    return line_matches.select(
        "line_number", "field", "match_key", "customers_hit", expand.alias("expand")
    )


def confirmed(unlisted: DataFrame, customers: DataFrame, matched: DataFrame) -> DataFrame:
    """The unlisted (line, field, match_key)s' rows for the (line, customer)s in `customers`
    that their key hits too: (line_number, field, match_key, customer_id, source, ...)."""
    return unlisted.join(customers, on="line_number", how="inner").join(
        matched, on=["field", "match_key", "customer_id"], how="inner"
    )


def evidence_rows(line_matches: DataFrame, matched: DataFrame) -> DataFrame:
    """One row per (line, field, customer, source) for the (line, field)s `with_expansion`
    marks `expand`; the others become the rows of the customers a listed field of the same line
    also hits, or one row without a customer when there are none."""
    listed = line_matches.filter(F.col("expand")).drop("expand")
    rest = line_matches.filter(~F.col("expand")).drop("expand")
    direct = listed.join(matched, on=["field", "match_key"], how="inner")
    candidates = direct.select("line_number", "customer_id").distinct()
    found = confirmed(rest, candidates, matched)
    unconfirmed = rest.join(
        found.select("line_number", "field").distinct(),
        on=["line_number", "field"],
        how="left_anti",
    ).select(
        "line_number",
        "field",
        F.lit(None).cast("string").alias("customer_id"),
        F.lit(None).cast("string").alias("source"),
        "customers_hit",
    )
    cols = ["line_number", "field", "customer_id", "source", "customers_hit"]
    return (
        direct.select(*cols)
        .unionByName(found.select(*cols))
        .unionByName(unconfirmed)
        .withColumn("method", F.lit("exact"))
        .select(*EXACT_EVIDENCE_COLUMNS)
    )


def same_record_lines(evidence: DataFrame) -> DataFrame:
    """Per line, the most fields that match one single customer (lines where a customer is
    listed: a line whose one matched field lists none has no row)."""
    per_customer = (
        evidence.filter(F.col("customer_id").isNotNull())
        .groupBy("line_number", "customer_id")
        .agg(F.countDistinct("field").alias("fields_matched"))
    )
    return per_customer.groupBy("line_number").agg(
        F.max("fields_matched").alias("max_fields_same_customer")
    )


def same_record_lines_with_fuzzy(
    evidence: DataFrame, fuzzy_evidence: DataFrame, line_matches: DataFrame, matched: DataFrame
) -> DataFrame:
    """Per line, the most fields matching one customer exactly or by a fuzzy comparison;
    weak levels (e-mail local part, national number) never count. An exact field that lists
    no customers (`with_expansion`) counts for the customers a fuzzy field of its line hits
    when its key hits them too."""
    cols = ["line_number", "field", "customer_id"]
    fz = fuzzy_evidence.filter(F.col("method") == "fuzzy").select(*cols)
    unlisted = line_matches.filter(~F.col("expand")).select("line_number", "field", "match_key")
    customers = fz.select("line_number", "customer_id").distinct()
    # one row per source: `same_record_lines` counts a field once per customer
    found = confirmed(unlisted, customers, matched).select(*cols)
    exact = evidence.select(*cols).unionByName(found)
    return same_record_lines(exact.unionByName(fz))


def fuzzy_field_counts(evidence: DataFrame, fuzzy_evidence: DataFrame) -> DataFrame:
    """Per field: lines matched by a fuzzy comparison but not exactly (`lines_matched_fuzzy`),
    and lines with only a weak level (`lines_matched_weak`: e-mail local part, national number)."""
    exact = evidence.select("line_number", "field").distinct()
    found = fuzzy_evidence.filter(F.col("method") != NEAR)  # candidates, not matches
    only = found.join(exact, on=["line_number", "field"], how="left_anti")
    is_fuzzy = F.col("method") == "fuzzy"
    per_line = only.groupBy("field", "line_number").agg(F.max(is_fuzzy.cast("int")).alias("fz"))
    return per_line.groupBy("field").agg(
        F.sum("fz").cast("long").alias("lines_matched_fuzzy"),
        F.sum(1 - F.col("fz")).cast("long").alias("lines_matched_weak"),
    )


def lines_per_customer_with_fuzzy(per_customer: DataFrame, fuzzy_evidence: DataFrame) -> DataFrame:
    """`lines_per_customer` with the fuzzy-method rows added (weak levels never count)."""
    fz = (
        fuzzy_evidence.filter(F.col("method") == "fuzzy")
        .groupBy("field", "customer_id")
        .agg(F.countDistinct("line_number").alias("n_lines"))
    )
    both = per_customer.select("field", "customer_id", "n_lines").unionByName(fz)
    return both.groupBy("field", "customer_id").agg(F.sum("n_lines").alias("n_lines"))


def field_summary(
    normalised: DataFrame,
    line_matches: DataFrame,
    fields: tuple[str, ...],
    fuzzy_counts: DataFrame | None = None,
) -> DataFrame:
    """Per field: lines with a usable key, lines matched (exactly, or only fuzzily: together
    `lines_matched`), lines with only a weak level, distinct keys matched, match rate."""
    with_value = normalised.select(*[F.count(F.col(f"{f}_key")).alias(f) for f in fields]).select(
        F.expr(
            f"stack({len(fields)}, "
            + ", ".join(f"'{f}', {f}" for f in fields)
            + ") as (field, lines_with_value)"
        )
    )
    matched = line_matches.groupBy("field").agg(
        F.countDistinct("line_number").alias("lines_matched"),
        F.countDistinct("match_key").alias("distinct_keys_matched"),
        F.max("customers_hit").alias("max_customers_per_key"),
    )
    if fuzzy_counts is None:
        fuzzy_counts = matched.select(
            "field",
            F.lit(0).cast("long").alias("lines_matched_fuzzy"),
            F.lit(0).cast("long").alias("lines_matched_weak"),
        ).limit(0)
    counted = ["lines_matched", "distinct_keys_matched", "max_customers_per_key"]
    total = F.col("lines_matched") + F.col("lines_matched_fuzzy")
    return (
        with_value.join(matched, on="field", how="left")
        .join(fuzzy_counts, on="field", how="left")
        .fillna(0, subset=[*counted, "lines_matched_fuzzy", "lines_matched_weak"])
        .select(
            "field",
            F.col("lines_with_value").cast("long").alias("lines_with_value"),
            total.cast("long").alias("lines_matched"),
            F.when(F.col("lines_with_value") > 0, total / F.col("lines_with_value"))
            .otherwise(F.lit(0.0))
            .alias("match_rate"),
            F.col("lines_matched").cast("long").alias("lines_matched_exact"),
            F.col("lines_matched_fuzzy").cast("long").alias("lines_matched_fuzzy"),
            F.col("lines_matched_weak").cast("long").alias("lines_matched_weak"),
            F.col("distinct_keys_matched").cast("long").alias("distinct_keys_matched"),
            F.col("max_customers_per_key").cast("long").alias("max_customers_per_key"),
        )
    )


def lines_per_customer(line_matches: DataFrame, matched: DataFrame) -> DataFrame:
    """(field, customer_id, n_lines): how many sample lines each field points at a customer
    with, hot keys included (they are expanded here only as counts, never as pairs)."""
    per_key = line_matches.groupBy("field", "match_key").agg(
        F.countDistinct("line_number").alias("n_lines")
    )
    customers = matched.select("field", "match_key", "customer_id").distinct()
    return (
        per_key.join(customers, on=["field", "match_key"], how="inner")
        .groupBy("field", "customer_id")
        .agg(F.sum("n_lines").alias("n_lines"))
    )


def chance_same_record(per_customer: DataFrame, lines_parsed: int) -> DataFrame:
    """Expected same-record lines if each field's matches were re-paired with other lines at
    random (a uniform permutation per field): sum over field pairs f<g and customers c of
    n_f(c) * n_g(c) / N. One row, column `expected`."""
    a = per_customer.select(F.col("field").alias("f"), "customer_id", F.col("n_lines").alias("n_f"))
    b = per_customer.select(F.col("field").alias("g"), "customer_id", F.col("n_lines").alias("n_g"))
    pairs = a.join(b, on="customer_id", how="inner").filter(F.col("f") < F.col("g"))
    total = F.coalesce(F.sum(F.col("n_f") * F.col("n_g")), F.lit(0))
    return pairs.agg((total / F.lit(max(lines_parsed, 1))).cast("double").alias("expected"))


def exact_blocking_diagnostics(
    line_matches: DataFrame, max_per_key: int, top: int = 5
) -> DataFrame:
    """Per field: candidate pairs an unrestricted join would make (sum over keys of sample
    lines x customers), the pairs actually expanded (`with_expansion`: a listed (line, field)
    counts its customers, any other one row), the hot keys, and the heaviest keys as hashes
    (never values)."""
    rows = F.when(F.col("expand"), F.col("customers_hit")).otherwise(F.lit(1))
    per_key = line_matches.groupBy("field", "match_key").agg(
        F.count(F.lit(1)).alias("lines"),
        F.max("customers_hit").alias("customers"),
        F.sum(rows).alias("expanded"),
    )
    pairs = F.col("lines") * F.col("customers")
    is_hot = F.col("customers") > max_per_key
    heaviest = F.slice(
        F.sort_array(
            F.collect_list(
                F.struct(
                    pairs.alias("pairs"),
                    F.col("match_key").alias("key_hash"),
                    "lines",
                    "customers",
                )
            ),
            asc=False,
        ),
        1,
        top,
    )
    return per_key.groupBy("field").agg(
        F.sum(pairs).alias("candidate_pairs"),
        F.sum("expanded").alias("expanded_pairs"),
        F.count(F.when(is_hot, 1)).alias("hot_keys"),
        heaviest.alias("heaviest_keys"),
    )
