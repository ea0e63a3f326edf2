"""Candidate pairs inside the planned blocks, scored into fuzzy evidence rows.

The index is read once: its values are expanded per block entry and joined with the sample's
rows on (rule, block key, sub-key), only in the blocks the plan joins. A pair is scored by its
rule's comparator (`score.pair_scores`) and kept at or above the rule's threshold (as a
`near` linkage candidate from its candidate threshold, where it has one); the roles
the customer's value came from are expanded only then, for the few pairs that match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.match.fuzzy.index import index_blocks
from jobs.match.fuzzy.plan import BlockingPlan, plan_blocking
from jobs.match.fuzzy.schema import FUZZY_EVIDENCE_COLUMNS, PAIR_COLUMNS
from jobs.match.fuzzy.score import pair_scores
from jobs.match.keys import explode_sources
from jobs.settings import NEAR, BlockRule, MatchingConf

# Stands for "no sub-key" in the candidates' join: refine keys are 32-bit gram hashes.
NO_SUB_KEY = -(1 << 40)


def _by_sub_key(rows: DataFrame, targets: DataFrame) -> DataFrame:
    """Rows in a joined block, one per join key: (rule, block_key, NO_SUB_KEY) in a plain
    block, (rule, block_key, refine key) per refine key in a refined one."""
    joined = rows.join(targets, on=["rule", "block_key"], how="inner")
    subs = F.when(F.col("_refined"), F.col("refine_keys")).otherwise(F.array(F.lit(NO_SUB_KEY)))
    return joined.select("*", F.explode(subs).alias("refine_key")).drop("refine_keys", "_refined")


def candidate_pairs(
    sample_rows: DataFrame, plan: BlockingPlan, broadcast: bool = False
) -> DataFrame:
    """The pairs a plan lets meet (`PAIR_COLUMNS`): plain keys joined on the block key,
    refined ones on (block key, sub-key), skipped ones not at all; all in one join, with
    NO_SUB_KEY as the sub-key of plain blocks. A pair meeting through two keys (a name
    sharing two tokens) appears twice.

    `broadcast`: the sample's rows and the joined keys go to every task and the index is
    read once, streaming, its payloads kept only in joined blocks (at 10 M customers,
    ~76 M blocked index rows were otherwise cached, then shuffled and sorted)."""
    key = ["rule", "block_key"]
    sub = [*key, "refine_key"]
    side = F.broadcast if broadcast else (lambda df: df)
    refined = plan.refined_keys
    targets = plan.plain_keys.select(*key, F.lit(False).alias("_refined")).unionByName(
        refined.select(*key).distinct().select(*key, F.lit(True).alias("_refined"))
    )
    wanted = plan.plain_keys.select(*key, F.lit(NO_SUB_KEY).alias("refine_key")).unionByName(
        refined
    )
    s = sample_rows.select(
        "line_number",
        "field",
        "rule",
        "block_key",
        "refine_keys",
        F.col("payload").alias("s_payload"),
        F.col("sig").alias("s_sig"),
    )
    s = _by_sub_key(s, side(targets)).join(side(wanted), on=sub, how="left_semi")
    i = index_blocks(plan.index, "customer_id", "sources", "payload", "sig").select(
        "rule",
        "block_key",
        "refine_keys",
        "customer_id",
        "sources",
        F.col("payload").alias("i_payload"),
        F.col("sig").alias("i_sig"),
    )
    i = _by_sub_key(i, side(targets))
    return i.join(side(s), on=sub, how="inner").select(*PAIR_COLUMNS)


def _per_rule(conf: MatchingConf, value: Callable[[BlockRule], Column], kind: str) -> Column:
    out = F.lit(None).cast(kind)
    for rule in reversed(conf.rules):
        out = F.when(F.col("rule") == rule.name, value(rule)).otherwise(out)
    return out


def _kept_from(rule: BlockRule) -> float:
    """The lowest score a pair of the rule is kept at: its candidate threshold, if any."""
    return rule.threshold if rule.candidate_threshold is None else rule.candidate_threshold


def _not_pushed(condition: Column) -> Column:
    """`condition`, kept where it stands. A deterministic filter on the score would be pushed
    into the join as its condition: evaluated there, in the join's generated code, it cost
    2-3x more per pair (measured; the projection then scores the survivors again). A
    nondeterministic wrapper is not pushed through the join."""
    return F.when(F.spark_partition_id() >= 0, condition)


def fuzzy_candidates(
    sample_rows: DataFrame,
    index_rows: DataFrame,
    rules: MatchingConf | Sequence[BlockRule],
    budget: int | None = None,
    plan: BlockingPlan | None = None,
    broadcast_sample: bool = False,
) -> DataFrame:
    """Evidence rows (line_number, field, customer_id, source, customers_hit, method, score):
    pairs made only inside the planned blocks, scored by their rule's comparator, kept at or
    above its threshold, best score per (line, field, customer, source, method). With a
    `plan`, the index it was made from is read (`index_rows` is then not).
    `broadcast_sample`: see `candidate_pairs`. `sample_rows` should be materialised (a Delta
    table or a checkpoint): the join reads them several times, and each read of the lazy plan
    would redo the line's country and address split."""
    conf = rules if isinstance(rules, MatchingConf) else MatchingConf(rules=tuple(rules))
    plan = plan or plan_blocking(sample_rows, index_rows, conf, budget)
    # Duplicate pairs (a name meeting through two tokens) score alike: `best` keeps one.
    pairs = candidate_pairs(sample_rows, plan, broadcast_sample)
    threshold = _per_rule(conf, lambda r: F.lit(r.threshold), "double")
    lowest = _per_rule(conf, lambda r: F.lit(_kept_from(r)), "double")
    method = _per_rule(conf, lambda r: F.lit(r.method), "string")
    score = pair_scores(conf, lowest)
    scored = pairs.select(
        "line_number",
        "field",
        "rule",
        "customer_id",
        F.col("sources").alias("_sources"),
        F.when(score >= threshold, method).otherwise(F.lit(NEAR)).alias("method"),
        score.alias("score"),
        lowest.alias("lowest"),
    ).filter(_not_pushed(F.col("score") >= F.col("lowest")))
    per_source = explode_sources(
        _few_near(scored, conf.linkage.near_max_customers),
        ["line_number", "field", "customer_id"],
        ["method", "score"],
    )
    best = per_source.groupBy("line_number", "field", "customer_id", "source", "method").agg(
        F.max("score").alias("score")
    )
    per_value = Window.partitionBy("line_number", "field", "method")
    hits = F.size(F.collect_set("customer_id").over(per_value))
    return best.select(
        "line_number",
        "field",
        "customer_id",
        "source",
        hits.cast("bigint").alias("customers_hit"),
        "method",
        F.col("score").cast("double").alias("score"),
    )


def _few_near(scored: DataFrame, near_max: int) -> DataFrame:
    """Scored pairs without the `near` ones of a (line, field, rule) that has more than
    `near_max` of them: a common surname or street alone meets thousands of customers and
    tells none of them apart. Counted per rule, so a crowded street block does not cost the
    line the few candidates its postcode + number block found. A pair that meets through two
    tokens counts twice: a few too many at worst."""
    near = F.col("method") == NEAR
    per_rule = Window.partitionBy("line_number", "field", "rule")
    crowded = F.count(F.when(near, F.lit(1))).over(per_rule) > near_max
    counted = scored.withColumn("_crowded", near & crowded)
    return counted.filter(~F.col("_crowded")).drop("rule", "_crowded")


def drop_exact(fuzzy_evidence: DataFrame, line_matches: DataFrame, matched: DataFrame) -> DataFrame:
    """Fuzzy rows for a (line, field, customer) whose exact key also hits that customer add
    nothing, whether or not the exact evidence lists it (`crosscheck.with_expansion`).
    `line_matches`: (line_number, field, match_key); `matched`: (field, match_key, customer_id)."""
    keyed = fuzzy_evidence.join(
        line_matches.select("line_number", "field", "match_key"),
        on=["line_number", "field"],
        how="left",
    )
    return keyed.join(
        matched.select("field", "match_key", "customer_id"),
        on=["field", "match_key", "customer_id"],
        how="left_anti",
    ).select(*FUZZY_EVIDENCE_COLUMNS)
