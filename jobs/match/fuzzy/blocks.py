"""Block entries: (rule, block key, refine keys) per value, as column builders.

Candidate pairs only arise inside a block, so the block key decides what can meet: a keyed
hash of (rule, country, code of one name token), (rule, postcode, house number), the e-mail
local part, or the last digits of a phone. The refine keys (initials of the value's other
tokens) split a block that holds too many pairs (`plan.plan_blocking`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.match.fuzzy.hashes import block_hash
from jobs.match.fuzzy.schema import BLOCKS_TYPE, REFINE_TYPE
from jobs.normalise.common import lit_strings
from jobs.settings import BlockRule


def block_entry(
    rule: BlockRule, block_key: Column, refine_keys: Column | None, keep: Column
) -> Column:
    """[one entry of a value's `blocks`] where `keep`, else []: the builders `concat` them.
    Not nulls dropped by `array_compact`: that is a lambda, and Spark would evaluate the
    whole array under it, block hashes included, interpreted."""
    refine = refine_keys if refine_keys is not None and rule.refine else F.array()
    entry = F.struct(
        F.lit(rule.name).alias("rule"),
        block_key.alias("block_key"),
        refine.cast(REFINE_TYPE).alias("refine_keys"),
    )
    return F.when(keep, F.array(entry)).otherwise(F.array().cast(BLOCKS_TYPE))


def _code(rule: BlockRule, tok: Column) -> Column:
    """A name token's block code under `rule`; null for a Latin initial (token_prefix) or a
    token Soundex cannot code."""
    latin = tok.rlike("^[a-z]")
    if rule.key == "token_prefix":
        blockable = (F.length(tok) >= 2) | ~latin  # a Latin one-letter token is an initial
        return F.when(
            blockable,
            F.when(latin, F.substring(tok, 1, rule.length)).otherwise(F.substring(tok, 1, 1)),
        )
    return F.when(tok.rlike("^[a-z]{2,}$"), F.soundex(tok))


def places(countries: Sequence[str]) -> Column:
    """Sample side: the countries a line's name is blocked in under a per-country rule: its
    own, or every country when it has none (its name cannot be placed). On the index side an
    unknown country is a block of its own ("")."""
    every = lit_strings([*countries, ""])
    return F.when(F.col("country").isNull(), every).otherwise(F.array(F.col("country")))


UNROLLED_BLOCK_TOKENS = 4


def name_blocks(rules: Sequence[BlockRule], tokens: Column, inits: Column) -> Column:
    """A name value's blocks in one place (`_place`): per distinct token with a code, per
    rule, (rule, keyed hash of (rule, place, code), the initials of the value's other
    tokens). A rule that is not per country blocks in "" only, once: on the row whose
    `_first_place` is true.

    Unrolled (`per_token`); a value with more than `UNROLLED_BLOCK_TOKENS` tokens (about one
    name in a million of the demo data) takes the lambda."""

    first = F.col("_first_place")

    def entries(tok: Column, others: Column) -> list[Column]:
        out = []
        for rule in rules:
            code = _code(rule, tok)
            place = F.col("_place") if rule.per_country else F.lit("")
            keep = code.isNotNull() if rule.per_country else code.isNotNull() & first
            key = block_hash(rule.name, place, code)
            out.append(block_entry(rule, key, others, keep))
        return out

    def others(i: Column | int) -> Column:  # initials of the tokens but the i-th (0-based)
        return F.array_distinct(F.concat(F.slice(inits, 1, i), F.slice(inits, i + 2, 1 << 16)))

    return per_token(tokens, lambda t, i: F.concat(*entries(t, others(i))))


def per_token(tokens: Column, entries: Callable[[Column, Column | int], Column]) -> Column:
    """The concatenated block entries `entries(token, 0-based index)` of each token: unrolled
    over the first `UNROLLED_BLOCK_TOKENS` tokens, so the block keys are hashed in generated
    code (inside a lambda Spark interprets each hash's expression tree); a longer array takes
    the lambda."""
    general = F.flatten(F.transform(tokens, entries))
    if UNROLLED_BLOCK_TOKENS <= 0:
        return general
    unrolled = F.concat(
        *[entries(F.try_element_at(tokens, F.lit(i + 1)), i) for i in range(UNROLLED_BLOCK_TOKENS)]
    )
    return F.when(F.size(tokens) <= UNROLLED_BLOCK_TOKENS, unrolled).otherwise(general)
