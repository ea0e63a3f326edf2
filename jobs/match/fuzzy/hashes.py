"""Keyed hashes as Spark columns: 32-bit gram hashes, refine keys and 64-bit block keys.

Every hash takes a key derived from the deployment's secret, so the index holds no value
that can be computed, or checked against a guess, without it. The Python and Arrow
counterparts (`jobs.match.grams`) compute the same values from the same tables.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.match.grams import GRAM_ALPHABET, SEP, GramHasher, sha_gram_hash
from jobs.normalise import keyed_hash
from jobs.normalise.common import lit_ints


@lru_cache(maxsize=16)
def _gram_prefix(hash_key: str) -> bytes:
    """Per-deployment secret prefix for gram hashes, derived from the hash key."""
    return hmac.new(hash_key.encode(), b"crosscheck-fuzzy-grams", hashlib.sha256).digest()


def py_gram_hash(gram: str, tag: str, hash_key: str) -> int:
    """The value `gram_hash` computes, in Python."""
    return sha_gram_hash(gram, tag, _gram_prefix(hash_key))


def _sha_gram_hash(gram: Column, tag: str, hash_key: str) -> Column:
    prefix = F.unhex(F.lit(_gram_prefix(hash_key).hex()))
    message = F.concat(prefix, F.encode(F.concat(F.lit(f"{tag}{SEP}"), gram), "UTF-8"))
    unsigned = F.conv(F.substring(F.sha2(message, 256), 1, 8), 16, 10).cast("bigint")
    return (unsigned - F.lit(1 << 32) * (unsigned >= F.lit(1 << 31)).cast("bigint")).cast("int")


# Grams of two characters from this alphabet (Latin after transliteration, digits, the "^"/"$"
# padding, SEP before a single letter) are most of all grams: their hashes are computed once
# per (tag, key) in Python and looked up by position, instead of one SHA-256 per occurrence.
_GRAM_POS = [GRAM_ALPHABET.find(chr(i)) + 1 for i in range(128)]  # 0: not in the alphabet


@lru_cache(maxsize=16)
def _gram_table(tag: str, hash_key: str) -> tuple[int, ...]:
    return tuple(py_gram_hash(a + b, tag, hash_key) for a in GRAM_ALPHABET for b in GRAM_ALPHABET)


def gram_hasher(tag: str, hash_key: str) -> GramHasher:
    """The Arrow-side hasher of `gram_hash` for one tag and key."""
    return GramHasher(tag, _gram_prefix(hash_key), _gram_table(tag, hash_key))


def _gram_pos(char: Column) -> Column:
    code = F.ascii(char)  # 0 for an empty string
    return F.when(code < 128, F.element_at(lit_ints(_GRAM_POS), code + 1)).otherwise(F.lit(0))


def gram_hash(gram: Column, tag: str, hash_key: str) -> Column:
    """32-bit keyed hash of one q-gram: SHA-256 of (secret prefix, tag, gram), first 4 bytes.

    One SHA-256 round instead of HMAC's two, since grams are hashed by the million: with a
    secret 256-bit prefix and the output cut to 32 bits this is still a PRF (length extension
    needs the full digest). The tag separates fields, so a gram never equals another key.
    Two-character grams over `GRAM_ALPHABET` take the same value from a precomputed table."""
    p1, p2 = _gram_pos(F.substring(gram, 1, 1)), _gram_pos(F.substring(gram, 2, 1))
    table = lit_ints(_gram_table(tag, hash_key))
    index = (p1 - 1) * len(GRAM_ALPHABET) + p2
    listed = (F.length(gram) == 2) & (p1 > 0) & (p2 > 0)
    return F.when(listed, F.element_at(table, index)).otherwise(_sha_gram_hash(gram, tag, hash_key))


@lru_cache(maxsize=16)
def _initial_table(tag: str, hash_key: str) -> tuple[int | None, ...]:
    """Per ASCII code, `gram_hash` of "^" + that character (None off `GRAM_ALPHABET`): the
    "^" row of the two-character gram table."""
    table, row = _gram_table(tag, hash_key), _GRAM_POS[ord("^")] - 1
    return tuple(table[row * len(GRAM_ALPHABET) + p - 1] if p else None for p in _GRAM_POS)


def refine_hash(field: str, initial: Column, hash_key: str) -> Column:
    """Sub-key component (the hash of one initial); only ever compared within one (rule,
    block key), so a gram hash is enough: `gram_hash` of "^" + initial, read straight from a
    table of 128 for an ASCII initial. It runs per token in a lambda, which Spark interprets:
    there `gram_hash`'s general expression cost ten times as much."""
    tag = f"r{field}"
    table = lit_ints(_initial_table(tag, hash_key))
    listed = F.try_element_at(table, F.ascii(initial) + 1)  # ascii("") = 0: None
    gram = F.concat(F.lit("^"), initial)
    return F.coalesce(listed, _sha_gram_hash(gram, tag, hash_key)).cast("bigint")


def block_hash(rule: str | Column, hash_key: str, *parts: Column) -> Column:
    """64-bit keyed hash of (rule, parts): a rule's keys never meet another rule's."""
    name = F.lit(rule) if isinstance(rule, str) else rule
    return keyed_hash(F.concat_ws(SEP, name, *parts), hash_key)
