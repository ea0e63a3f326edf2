"""The hash key's material as the columns of a one-row broadcast relation.

HMAC's pads are the key XOR a constant, the gram prefix is derived from the key, and the
tables of two-character gram hashes let anyone who holds them hash a guessed name. As plan
literals, all of them would reach Spark's SQL tab and event log. As data of a relation made
from Python, they reach the executors only: plans show the relation's columns, not its rows.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.match.grams import GRAM_ALPHABET, SEP, sha_gram_hash
from jobs.normalise.hashing import KEY_PREFIX, hmac_key_bytes, key_material

# Every tag a gram hash is made under (fields and payload parts), and those of refine keys.
GRAM_TAGS = ("n1", "n2", "a2", "a3", "a4", "a5", "e", "p", "rname", "raddress")
REFINE_TAGS = ("rname", "raddress")
SECRETS_SCHEMA = ", ".join(
    [f"{KEY_PREFIX}{p} binary" for p in ("ipad", "opad", "prefix")]
    + [f"{KEY_PREFIX}t_{t} array<int>" for t in GRAM_TAGS]
    + [f"{KEY_PREFIX}i_{t} array<int>" for t in REFINE_TAGS]
)
# Grams of two characters from GRAM_ALPHABET (Latin after transliteration, digits, the "^"/"$"
# padding, SEP before a single letter) are most of all grams: their hashes are computed once per
# (tag, key) here and looked up by position, instead of one SHA-256 per occurrence.
# Per ASCII code, the 1-based place of the character in GRAM_ALPHABET (0: not in it).
GRAM_POS = [GRAM_ALPHABET.find(chr(i)) + 1 for i in range(128)]


@lru_cache(maxsize=16)
def gram_prefix(hash_key: str) -> bytes:
    """Per-deployment secret prefix for gram hashes, derived from the hash key."""
    return hmac.new(hash_key.encode(), b"crosscheck-fuzzy-grams", hashlib.sha256).digest()


@lru_cache(maxsize=64)
def gram_table(tag: str, hash_key: str) -> tuple[int, ...]:
    """The gram hashes of every two-character gram over GRAM_ALPHABET, in its order."""
    prefix = gram_prefix(hash_key)
    return tuple(sha_gram_hash(a + b, tag, prefix) for a in GRAM_ALPHABET for b in GRAM_ALPHABET)


@lru_cache(maxsize=16)
def initial_table(tag: str, hash_key: str) -> tuple[int | None, ...]:
    """Per ASCII code, the gram hash of "^" + that character (None off `GRAM_ALPHABET`): the
    "^" row of the two-character gram table."""
    table, row = gram_table(tag, hash_key), GRAM_POS[ord("^")] - 1
    return tuple(table[row * len(GRAM_ALPHABET) + p - 1] if p else None for p in GRAM_POS)


@lru_cache(maxsize=4)
def _material(hash_key: str) -> tuple:
    ipad, opad = hmac_key_bytes(hash_key)
    tables = [list(gram_table(t, hash_key)) for t in GRAM_TAGS]
    initials = [list(initial_table(t, hash_key)) for t in REFINE_TAGS]
    return (bytearray(ipad), bytearray(opad), bytearray(gram_prefix(hash_key)), *tables, *initials)


def with_hash_key(df: DataFrame, hash_key: str) -> DataFrame:
    """df with the key's columns (`SECRETS_SCHEMA`) added: what `keyed_hash`, `gram_hash`,
    `refine_hash` and `block_hash` read. A cross join with one broadcast row, right before
    the select that hashes, which drops the columns again (each row would carry a copy)."""
    if f"{KEY_PREFIX}ipad" in df.columns:
        return df
    key = df.sparkSession.createDataFrame([_material(hash_key)], SECRETS_SCHEMA)
    return df.crossJoin(F.broadcast(key))


def prefix_hash(value: Column, tag: str) -> Column:
    """32-bit keyed hash of a short value: SHA-256 of (secret prefix, tag, value), first 4
    bytes (`grams.sha_gram_hash` in Python). The tag keeps kinds of values apart. Needs the
    key's columns (`with_hash_key`)."""
    message = F.concat(
        key_material("prefix"), F.encode(F.concat(F.lit(f"{tag}{SEP}"), value), "UTF-8")
    )
    unsigned = F.conv(F.substring(F.sha2(message, 256), 1, 8), 16, 10).cast("bigint")
    return (unsigned - F.lit(1 << 32) * (unsigned >= F.lit(1 << 31)).cast("bigint")).cast("int")
