"""Keyed hashes as Spark columns: 32-bit gram hashes, refine keys and 64-bit block keys.

Every hash takes a key derived from the deployment's secret, so the index holds no value
that can be computed, or checked against a guess, without it. The Spark forms read the key's
material from the key's columns (added by `jobs.match.secrets.with_hash_key`); the Python and
Arrow counterparts (`jobs.match.grams`) compute the same values from the same tables.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.match.grams import GRAM_ALPHABET, SEP, GramHasher, sha_gram_hash
from jobs.match.secrets import (
    GRAM_POS,
    GRAM_TAGS,
    REFINE_TAGS,
    gram_prefix,
    gram_table,
    prefix_hash,
)
from jobs.normalise.common import lit_ints
from jobs.normalise.hashing import key_material, keyed_hash


def py_gram_hash(gram: str, tag: str, hash_key: str) -> int:
    """The value `gram_hash` computes, in Python."""
    return sha_gram_hash(gram, tag, gram_prefix(hash_key))


def gram_hasher(tag: str, hash_key: str) -> GramHasher:
    """The Arrow-side hasher of `gram_hash` for one tag and key."""
    return GramHasher(tag, gram_prefix(hash_key), gram_table(tag, hash_key))


def _gram_pos(char: Column) -> Column:
    code = F.ascii(char)  # 0 for an empty string
    return F.when(code < 128, F.element_at(lit_ints(GRAM_POS), code + 1)).otherwise(F.lit(0))


def gram_hash(gram: Column, tag: str) -> Column:
    """32-bit keyed hash of one q-gram: SHA-256 of (secret prefix, tag, gram), first 4 bytes.

    One SHA-256 round instead of HMAC's two, since grams are hashed by the million: with a
    secret 256-bit prefix and the output cut to 32 bits this is still a PRF (length extension
    needs the full digest). The tag separates fields, so a gram never equals another key.
    Two-character grams over `GRAM_ALPHABET` take the same value from a precomputed table
    (`jobs.match.secrets.gram_table`). Needs the key's columns."""
    if tag not in GRAM_TAGS:
        raise ValueError(f"gram tag {tag!r} has no table in jobs.match.secrets.GRAM_TAGS")
    p1, p2 = _gram_pos(F.substring(gram, 1, 1)), _gram_pos(F.substring(gram, 2, 1))
    index = (p1 - 1) * len(GRAM_ALPHABET) + p2
    listed = (F.length(gram) == 2) & (p1 > 0) & (p2 > 0)
    table = key_material(f"t_{tag}")
    return F.when(listed, F.element_at(table, index)).otherwise(prefix_hash(gram, tag))


def refine_hash(field: str, initial: Column) -> Column:
    """Sub-key component (the hash of one initial); only ever compared within one (rule,
    block key), so a gram hash is enough: `gram_hash` of "^" + initial, read straight from a
    table of 128 for an ASCII initial. It runs per token in a lambda, which Spark interprets:
    there `gram_hash`'s general expression cost ten times as much. Needs the key's columns."""
    tag = f"r{field}"
    if tag not in REFINE_TAGS:
        raise ValueError(f"refine tag {tag!r} has no table in jobs.match.secrets.REFINE_TAGS")
    listed = F.try_element_at(key_material(f"i_{tag}"), F.ascii(initial) + 1)  # ascii("") = 0
    gram = F.concat(F.lit("^"), initial)
    return F.coalesce(listed, prefix_hash(gram, tag)).cast("bigint")


def block_hash(rule: str | Column, *parts: Column) -> Column:
    """64-bit keyed hash of (rule, parts): a rule's keys never meet another rule's. Needs
    the key's columns."""
    name = F.lit(rule) if isinstance(rule, str) else rule
    return keyed_hash(F.concat_ws(SEP, name, *parts))
