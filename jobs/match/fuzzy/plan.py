"""The blocking plan: pairs per block key counted before any pair is made, and what is done
about the blocks over budget; the per-rule diagnostics that say so.

When a rule's pairs exceed its budget, its heaviest keys are joined on a second component
instead (`refine`: the initial of another name token, the initials of the street tokens)
and, if that is still too much, the heaviest refined keys are skipped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.match.fuzzy.index import index_blocks
from jobs.settings import BlockRule, MatchingConf

HEAVIEST_TYPE = "array<struct<pairs:bigint,block_key:bigint,sample_rows:bigint,index_rows:bigint>>"
RULE_COUNTS = (
    "keys", "candidate_pairs", "hot_keys", "hot_pairs", "plain_pairs", "refined_pairs",
    "skipped_subkeys", "skipped_subkey_pairs",
)  # fmt: skip


@dataclass(frozen=True)
class BlockingPlan:
    """Per block key and per refined sub-key of the sample: rows on each side, pairs, and
    whether it is joined; and the index rows the candidates are drawn from. `persist` it when
    both the diagnostics and the candidates are wanted, so the blocks are counted once."""

    key_pairs: DataFrame  # rule, block_key, sample_rows, index_rows, pairs, hot, ...
    sub_key_pairs: DataFrame  # rule, block_key, refine_key, ..., pairs, kept
    rules: DataFrame  # rule, field, method, pair_budget, refine
    index: DataFrame  # INDEX_COLUMNS: the whole index; `candidate_pairs` keeps the joined blocks
    heaviest: int = 5

    @property
    def plain_keys(self) -> DataFrame:
        """(rule, block_key) joined as they are: both sides have rows, and not hot."""
        return self.key_pairs.filter(~F.col("hot")).select("rule", "block_key")

    @property
    def refined_keys(self) -> DataFrame:
        """(rule, block_key, refine_key) joined instead of their hot key."""
        return self.sub_key_pairs.filter(F.col("kept")).select("rule", "block_key", "refine_key")

    @property
    def diagnostics(self) -> DataFrame:
        """Per rule: keys, pairs, budget, hot keys and what was done about them (the
        `fuzzy_blocking` table)."""
        return _diagnostics(self.key_pairs, self.sub_key_pairs, self.rules, self.heaviest)

    def persist(self) -> BlockingPlan:
        return dataclasses.replace(
            self, key_pairs=self.key_pairs.persist(), sub_key_pairs=self.sub_key_pairs.persist()
        )

    def unpersist(self) -> None:
        self.key_pairs.unpersist()
        self.sub_key_pairs.unpersist()


def _rules_frame(
    sample_rows: DataFrame, rules: Sequence[BlockRule], budget: int | None
) -> DataFrame:
    data = [
        (r.name, r.field, r.method, int(budget if budget is not None else r.pair_budget), r.refine)
        for r in rules
    ]
    schema = "rule string, field string, method string, pair_budget bigint, refine string"
    return sample_rows.sparkSession.createDataFrame(data, schema)


def blocked_index_rows(
    index_rows: DataFrame, sample_rows: DataFrame, broadcast: bool = True
) -> DataFrame:
    """(rule, block_key, refine_keys) of the index rows whose (rule, block_key) occurs in the
    sample: one pass over three columns of the index, the sample's keys broadcast (unless
    `broadcast` is off: a sample of tens of millions of lines has more keys than a driver
    can send). Only counted: the payloads are read once, by `candidate_pairs`, for the blocks
    it joins."""
    wanted = sample_rows.select("rule", "block_key").distinct()
    wanted = F.broadcast(wanted) if broadcast else wanted
    narrow = index_blocks(index_rows)
    return narrow.join(wanted, on=["rule", "block_key"], how="left_semi")


def _counts(rows: DataFrame, keys: list[str], name: str) -> DataFrame:
    return rows.groupBy(*keys).agg(F.count(F.lit(1)).alias(name))


def _refined(rows: DataFrame, hot: DataFrame) -> DataFrame:
    """Rows of hot keys, one per refine key: the sub-keys a hot key is split into."""
    return rows.join(F.broadcast(hot), on=["rule", "block_key"], how="left_semi").select(
        "rule", "block_key", F.explode("refine_keys").alias("refine_key")
    )


def plan_blocking(
    sample_rows: DataFrame,
    index_rows: DataFrame,
    rules: MatchingConf | Sequence[BlockRule],
    budget: int | None = None,
    broadcast_keys: bool = True,
) -> BlockingPlan:
    """Pair counts per block key (sample rows x index rows), before any pair is made.
    `broadcast_keys`: see `blocked_index_rows`.

    Per rule, keys are taken smallest first while the running total of pairs stays within the
    budget; the rest are hot. Hot keys of a rule with `refine` are joined on (key, refine key)
    instead, again smallest first within what is left of the budget, and the remainder skipped;
    hot keys of a rule without `refine` are skipped."""
    conf = rules if isinstance(rules, MatchingConf) else MatchingConf(rules=tuple(rules))
    rule_list = conf.rules
    rules_df = F.broadcast(_rules_frame(sample_rows, rule_list, budget))
    blocked = blocked_index_rows(index_rows, sample_rows, broadcast_keys)
    key = ["rule", "block_key"]
    pairs = (
        _counts(sample_rows, key, "sample_rows")
        .join(_counts(blocked, key, "index_rows"), on=key, how="inner")
        .withColumn("pairs", F.col("sample_rows") * F.col("index_rows"))
        .join(rules_df.select("rule", "pair_budget", "refine"), on="rule", how="inner")
    )
    running = (
        Window.partitionBy("rule")
        .orderBy("pairs", "block_key")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    pairs = pairs.withColumn("hot", F.sum("pairs").over(running) > F.col("pair_budget"))
    hot = pairs.filter(F.col("hot") & F.col("refine").isNotNull()).select(*key)
    plain_total = (
        pairs.filter(~F.col("hot")).groupBy("rule").agg(F.sum("pairs").alias("plain_pairs"))
    )
    sub = ["rule", "block_key", "refine_key"]
    refined = (
        _counts(_refined(sample_rows, hot), sub, "sample_rows")
        .join(_counts(_refined(blocked, hot), sub, "index_rows"), on=sub, how="inner")
        .withColumn("pairs", F.col("sample_rows") * F.col("index_rows"))
        .join(rules_df.select("rule", "pair_budget"), on="rule", how="inner")
        .join(plain_total, on="rule", how="left")
    )
    sub_running = (
        Window.partitionBy("rule")
        .orderBy("pairs", "block_key", "refine_key")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    room = F.col("pair_budget") - F.coalesce(F.col("plain_pairs"), F.lit(0))
    refined = refined.withColumn("kept", F.sum("pairs").over(sub_running) <= room)
    return BlockingPlan(pairs, refined, rules_df, index_rows, conf.heaviest_keys)


def fuzzy_blocking_diagnostics(
    sample_rows: DataFrame,
    index_rows: DataFrame,
    rules: MatchingConf | Sequence[BlockRule],
    budget: int | None = None,
) -> DataFrame:
    """Per rule: keys, candidate pairs (sum over keys of sample rows x index rows), budget,
    hot keys, what was done about them (run / split / split_skip / skip), the heaviest keys
    as hashes. `budget` overrides every rule's own `pair_budget`."""
    return plan_blocking(sample_rows, index_rows, rules, budget).diagnostics


# ---- diagnostics: per rule, from the plan's counts ----------------------------------------


def _key_counts(pairs: DataFrame, top: int) -> DataFrame:
    """Per rule: keys, pairs, hot keys and their pairs, the `top` heaviest keys."""
    heavy = F.struct(F.col("pairs"), F.col("block_key"), F.col("sample_rows"), F.col("index_rows"))
    return pairs.groupBy("rule").agg(
        F.count(F.lit(1)).alias("keys"),
        F.sum("pairs").alias("candidate_pairs"),
        F.count(F.when(F.col("hot"), 1)).alias("hot_keys"),
        F.coalesce(F.sum(F.when(F.col("hot"), F.col("pairs"))), F.lit(0)).alias("hot_pairs"),
        F.coalesce(F.sum(F.when(~F.col("hot"), F.col("pairs"))), F.lit(0)).alias("plain_pairs"),
        F.slice(F.sort_array(F.collect_list(heavy), asc=False), 1, top).alias("heaviest_keys"),
    )


def _sub_key_counts(refined: DataFrame) -> DataFrame:
    """Per rule: pairs of the refined sub-keys joined, sub-keys skipped and their pairs."""
    return refined.groupBy("rule").agg(
        F.sum(F.when(F.col("kept"), F.col("pairs"))).alias("refined_pairs"),
        F.count(F.when(~F.col("kept"), 1)).alias("skipped_subkeys"),
        F.sum(F.when(~F.col("kept"), F.col("pairs"))).alias("skipped_subkey_pairs"),
    )


def _rule_counts(pairs: DataFrame, refined: DataFrame, rules_df: DataFrame, top: int) -> DataFrame:
    """Every rule, with or without keys in this sample: its `RULE_COUNTS` (0 when none)."""
    zero = F.lit(0).cast("bigint")
    d = rules_df.join(_key_counts(pairs, top), on="rule", how="left")
    d = d.join(_sub_key_counts(refined), on="rule", how="left")
    return d.select(
        "rule",
        "field",
        "method",
        "pair_budget",
        "refine",
        *[F.coalesce(F.col(c), zero).cast("bigint").alias(c) for c in RULE_COUNTS],
        F.coalesce(F.col("heaviest_keys"), F.array().cast(HEAVIEST_TYPE)).alias("heaviest_keys"),
    )


def _action() -> Column:
    """run: within the budget; skip: hot keys dropped; split(_skip): refined (some skipped)."""
    return (
        F.when(~(F.col("hot_keys") > 0), F.lit("run"))
        .when(F.col("refine").isNull(), F.lit("skip"))
        .when(F.col("skipped_subkeys") > 0, F.lit("split_skip"))
        .otherwise(F.lit("split"))
    )


def _note() -> Column:
    """The action in a sentence, with its figures."""
    within = F.format_string(
        "%d candidate pairs within the budget %d", "candidate_pairs", "pair_budget"
    )
    skipped = F.format_string(
        "%d candidate pairs above the budget %d: %d hot key(s) (%d pairs) skipped",
        "candidate_pairs", "pair_budget", "hot_keys", "hot_pairs",
    )  # fmt: skip
    split = F.format_string(
        "%d candidate pairs above the budget %d: %d hot key(s) (%d pairs) split by %s "
        "into %d pairs; %d sub-key(s) (%d pairs) skipped",
        "candidate_pairs", "pair_budget", "hot_keys", "hot_pairs", "refine", "refined_pairs",
        "skipped_subkeys", "skipped_subkey_pairs",
    )  # fmt: skip
    return (
        F.when(~(F.col("hot_keys") > 0), within)
        .when(F.col("refine").isNull(), skipped)
        .otherwise(split)
    )


def _diagnostics(pairs: DataFrame, refined: DataFrame, rules_df: DataFrame, top: int) -> DataFrame:
    d = _rule_counts(pairs, refined, rules_df, top)
    pairs_run = F.col("plain_pairs") + F.col("refined_pairs")
    return d.select(
        "rule",
        "field",
        "method",
        "keys",
        "candidate_pairs",
        "pair_budget",
        "hot_keys",
        "hot_pairs",
        "refined_pairs",
        "skipped_subkeys",
        "skipped_subkey_pairs",
        pairs_run.alias("pairs_run"),
        _action().alias("action"),
        _note().alias("note"),
        "heaviest_keys",
    )
