"""Payloads: the sorted sets of gram hashes a value is compared by, and their signatures.

A name's payload is one set per token (start gram first), a street's one set for all its
tokens, a CJK-only name one set of its characters. The gram hashes of name and street tokens
are computed over whole Arrow batches (`jobs.match.grams`): in Spark's own functions they run
in interpreted lambdas, at about 1.5 µs of CPU per gram. The `native_*` forms are the same
values in Spark's own functions, for pyspark without Arrow UDFs.

The Spark-side forms (`native_*`, `unigram_set`) read the key's material from columns that
`jobs.match.secrets.with_hash_key` adds; the Arrow forms carry it in their closure.

Builders take column *references* and are applied in successive projections: an expression
used twice would otherwise be inlined twice by the optimizer, and nested transforms of
transliteration chains grow the plan exponentially.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.match.fuzzy.hashes import gram_hash, gram_hasher
from jobs.match.fuzzy.schema import PAYLOAD_TYPE, SIGNATURE_TYPE
from jobs.match.grams import SEP, signatures

CJK_CHAR_RE = r"[\p{IsHan}\p{IsHangul}\p{IsHiragana}\p{IsKatakana}]"
ARROW_GRAMS = hasattr(F, "arrow_udf")  # before pyspark 4.1 (older Databricks runtimes): native


def token_gram_hashes(tokens: Column, tag: str, hash_key: str) -> Column:
    """array<string> tokens -> per token the keyed hashes (`gram_hash`) of its q-grams: the
    bigrams of "^token$" (start gram first) and the token's letters; for a token with a
    Han/Kana/Hangul character its characters only.

    Bigrams keep letter order, letters keep a swap of two neighbours close ("hraing" and
    "haring" share every letter but only half their bigrams); single CJK characters carry
    as much as a Latin bigram, and their order varies more."""
    arrow = _arrow_grams("token_hashes", PAYLOAD_TYPE, tokens, tag, hash_key)
    return arrow if arrow is not None else native_token_gram_hashes(tokens, tag)


def name_token_sets(tokens: Column, tag: str, hash_key: str) -> Column:
    """A name's payload: per token its `token_set` of `token_gram_hashes`, the sets sorted."""
    arrow = _arrow_grams("token_sets", PAYLOAD_TYPE, tokens, tag, hash_key)
    return arrow if arrow is not None else native_name_token_sets(tokens, tag)


def street_gram_set(tokens: Column, tag: str, hash_key: str) -> Column:
    """A street's payload: the `token_gram_hashes` of all its tokens as one sorted set."""
    arrow = _arrow_grams("value_set", "array<int>", tokens, tag, hash_key)
    return arrow if arrow is not None else native_street_gram_set(tokens, tag)


def _arrow_grams(
    kind: str, return_type: str, tokens: Column, tag: str, hash_key: str
) -> Column | None:
    """The gram hashes of `jobs.match.grams`, a whole Arrow batch at a time (per gram, Spark's
    interpreted lambdas cost several times more); None where pyspark has no Arrow UDFs
    (before 4.1: older Databricks runtimes), so the native form is used."""
    if not ARROW_GRAMS:
        return None
    method = getattr(gram_hasher(tag, hash_key), kind)

    def hashes(t: pa.Array, cjk: pa.Array) -> pa.Array:
        return method(t, cjk)

    cjk = F.when(
        F.array_join(tokens, " ").rlike(CJK_CHAR_RE),
        F.transform(tokens, lambda t: t.rlike(CJK_CHAR_RE)),
    )  # per token, only for the few values with such characters
    return F.arrow_udf(hashes, return_type)(tokens, cjk)


def signature(payload: Column) -> Column:
    """Per gram set of a payload its 128-bit signature (`grams.signatures`): what the
    comparators' upper bounds read. Null without Arrow UDFs (nothing is bounded then)."""
    if not hasattr(F, "arrow_udf"):
        return F.lit(None).cast(SIGNATURE_TYPE)
    return F.arrow_udf(signatures, SIGNATURE_TYPE)(payload)


def unigram_set(clean: Column, tag: str) -> Column:
    """Characters of the value (blanks dropped) as one sorted set of hashes (CJK names), each
    character hashed twice (alone and doubled): a one-character name (양, 淳) is then a set of
    two, never read as a Latin initial (one gram), and Dice and containment are unchanged.
    Needs the key's columns."""
    chars = F.array_distinct(F.split(F.regexp_replace(clean, r"\s+", ""), ""))
    once = F.transform(chars, lambda c: gram_hash(c, tag))
    twice = F.transform(chars, lambda c: gram_hash(F.concat(c, c), tag))
    return F.array_sort(F.array_distinct(F.concat(once, twice)))


def token_set(hashed: Column, token: Column) -> Column:
    """One name token's payload: start gram first, the other grams distinct and sorted (the
    order of letters is not kept). A one-letter token keeps only its start gram: an initial."""
    head = F.slice(hashed, 1, 1)
    full = F.concat(head, F.array_sort(F.array_distinct(F.slice(hashed, 2, 1 << 16))))
    initial = (F.length(token) == 1) & ~token.rlike(CJK_CHAR_RE)
    return F.when(initial, head).otherwise(full)


# ---- the same payloads in Spark's own functions -------------------------------------------
#
# Used where pyspark has no Arrow UDFs, and the reference the Arrow batches are held to
# (tests/unit/test_fuzzy.py compares the two on awkward tokens). Their lambdas are
# interpreted: several times slower than the Arrow forms.


def native_token_gram_hashes(tokens: Column, tag: str) -> Column:
    """`token_gram_hashes` in Spark's own functions: the fallback without Arrow UDFs and the
    reference for the Arrow form."""

    def one(t: Column) -> Column:
        padded = F.concat(F.lit("^"), t, F.lit("$"))
        bigrams = F.transform(
            F.sequence(F.lit(2), F.length(padded)), lambda i: padded.substr(i - 1, F.lit(2))
        )
        letters = F.transform(F.split(t, ""), lambda c: F.concat(F.lit(SEP), c))
        grams = F.when(t.rlike(CJK_CHAR_RE), letters).otherwise(F.concat(bigrams, letters))
        return F.transform(grams, lambda g: gram_hash(g, tag))

    return F.transform(tokens, one)


def native_name_token_sets(tokens: Column, tag: str) -> Column:
    """`name_token_sets` in Spark's own functions: the fallback without Arrow UDFs and the
    reference for the Arrow form."""
    hashed = native_token_gram_hashes(tokens, tag)
    return F.array_sort(F.transform(hashed, lambda h, i: token_set(h, F.element_at(tokens, i + 1))))


def native_street_gram_set(tokens: Column, tag: str) -> Column:
    """`street_gram_set` in Spark's own functions: the fallback without Arrow UDFs and the
    reference for the Arrow form."""
    hashed = native_token_gram_hashes(tokens, tag)
    return F.array_sort(F.array_distinct(F.flatten(hashed)))
