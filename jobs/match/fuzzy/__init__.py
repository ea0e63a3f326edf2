"""Fuzzy matching on keyed hashes: near-equal names and addresses, plus weak e-mail/phone levels.

Why hashed q-grams. An exact key cannot see "Jonh Smith" = "John Smith". A raw-value comparison
(Levenshtein, Jaro-Winkler) would need raw PII at cross-check time: either written into an
index, or re-read and re-normalised from every warehouse source for the candidate customers of
every run, inside a job that otherwise never sees a raw warehouse value. Instead each token is
cut into q-grams (the bigrams of "^token$" and its letters), each q-gram is hashed with a key
derived from the secret (`gram_hash`, 32 bits kept) and only sorted sets of those integers are
stored. Dice on the sets (2|A∩B| / (|A|+|B|), native `array_intersect`/`size`) tolerates the
1-2 character slips an edit distance does (bigrams: insertions, deletions, doubled letters;
letters: swapped neighbours), the index stays PII-free and a cross-check reads one narrow
table. Without the key no hash can be computed or checked; someone holding the index could
still attempt frequency analysis of gram hashes, so the payload is pseudonymous, not
anonymous: keep the table under the match index's access control.

Blocking. Candidate pairs only arise inside a block: a 64-bit keyed hash of (rule, country,
code of one name token), (rule, postcode, house number), the e-mail local part, or the last
digits of a phone. Before any pair is made, `plan_blocking` counts rows per block key on each
side; when a rule's pairs exceed its budget, its heaviest keys are joined on a second component
instead (`refine`: the initial of another name token, the initials of the street tokens) and,
if that is still too much, the heaviest refined keys are skipped. The diagnostics say so.

Names. Cleaned (`clean_name`), Cyrillic and Greek transliterated to Latin (BGN/PCGN-like and
ELOT 743-like tables), then folded to a spelling skeleton (ou/oy->u, kh->h, ph->f, ks->x, y->i)
so two romanisation schemes compare as one. A one-letter token is an initial and scores
`initial_score` against any token starting with it. The score is the lower of the two directed
means of best token matches: order-free, and a token present on one side only costs. Names
written only in Han/Kana/Hangul are one set of characters. Where the warehouse keeps a
romanised name too (first_name_latin/last_name_latin), both are indexed.

Weak levels. The same e-mail local part at another domain, and the same national number with a
wrong or missing country code, carry their own `method` and are never exact matches.

Native Spark throughout (higher-order functions on arrays), but for the gram hashes of name and
street tokens: those are hashed over Arrow batches (`token_gram_hashes`, `jobs.grams`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, reduce

import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.match.grams import GRAM_ALPHABET, SEP, GramHasher, sha_gram_hash, signatures
from jobs.match.keys import (
    FIELD_INPUTS,
    cleaned,
    explode_sources,
    index_values,
    sample_parts,
    with_line_country,
)
from jobs.normalise import CJK_ONLY_RE, HOUSE_NUMBER_TOKEN_RE, keyed_hash
from jobs.settings import (
    COMPARATORS,
    BlockRule,
    MatchingConf,
    NormaliseConf,
    load_matching,
)

PAYLOAD_TYPE = "array<array<int>>"
SIGNATURE_TYPE = "array<bigint>"
BLOCKS_TYPE = "array<struct<rule:string,block_key:bigint,refine_keys:array<bigint>>>"
INDEX_COLUMNS = ["field", "customer_id", "sources", "blocks", "payload", "sig"]
SAMPLE_COLUMNS = [
    "run_id", "line_number", "field", "rule", "block_key", "refine_keys", "payload", "sig",
]  # fmt: skip
FUZZY_EVIDENCE_COLUMNS = [
    "line_number", "field", "customer_id", "source", "customers_hit", "method", "score",
]  # fmt: skip


# ---- transliteration and spelling skeleton ------------------------------------------------

# Applied after fold_text (lower case, Greek accents stripped, final sigma and yo folded).
CYRILLIC_MULTI = {
    "щ": "shch", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "ю": "yu", "я": "ya",
    "ї": "yi", "є": "ye", "љ": "lj", "њ": "nj", "џ": "dz", "ђ": "dj", "ъ": "", "ь": "",
}  # fmt: skip
CYRILLIC_SINGLE = ("абвгдезийклмнопрстуфыэіґўјћ", "abvgdeziyklmnoprstufyeigujc")
GREEK_MULTI = {"ου": "ou", "θ": "th", "χ": "ch", "ψ": "ps"}
GREEK_SINGLE = ("αβγδεζηικλμνξοπρσςτυφω", "avgdeziiklmnxoprsstyfo")
SKELETON = (("ou", "u"), ("oy", "u"), ("kh", "h"), ("ph", "f"), ("ks", "x"))
NON_LATIN_RE = "[\u0370-\u03ff\u0400-\u052f]"
CJK_CHAR_RE = r"[\p{IsHan}\p{IsHangul}\p{IsHiragana}\p{IsKatakana}]"


def transliterate(col: Column) -> Column:
    """Cyrillic and Greek letters of a folded value to Latin; other text unchanged.

    Multi-letter outputs are literal `replace`s (no regex: `regexp_replace` decodes every
    value to a Java string, ~4x the cost on these texts); the rest is one translate. Values
    without such letters (most) skip the chain."""
    out = col
    for table in (GREEK_MULTI, CYRILLIC_MULTI):
        for a, b in table.items():
            out = F.replace(out, F.lit(a), F.lit(b))
    out = F.translate(
        out, CYRILLIC_SINGLE[0] + GREEK_SINGLE[0], CYRILLIC_SINGLE[1] + GREEK_SINGLE[1]
    )
    return F.when(col.rlike(NON_LATIN_RE), out).otherwise(col)


def skeleton(col: Column) -> Column:
    """Fold spelling variants that romanisation schemes disagree on (Koyloyris/Kouloris,
    Khristos/Hristos, Yuriy/Iurii), applied to both sides alike."""
    out = col
    for a, b in SKELETON:
        out = F.replace(out, F.lit(a), F.lit(b))
    return F.translate(out, "y", "i")


# ---- hashed q-grams -----------------------------------------------------------------------
#
# Builders below take column *references* and are applied in successive projections: an
# expression used twice would otherwise be inlined twice by the optimizer, and nested
# transforms of transliteration chains grow the plan exponentially.


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
    return F.when(code < 128, F.element_at(F.lit(_GRAM_POS), code + 1)).otherwise(F.lit(0))


def gram_hash(gram: Column, tag: str, hash_key: str) -> Column:
    """32-bit keyed hash of one q-gram: SHA-256 of (secret prefix, tag, gram), first 4 bytes.

    One SHA-256 round instead of HMAC's two, since grams are hashed by the million: with a
    secret 256-bit prefix and the output cut to 32 bits this is still a PRF (length extension
    needs the full digest). The tag separates fields, so a gram never equals another key.
    Two-character grams over `GRAM_ALPHABET` take the same value from a precomputed table."""
    p1, p2 = _gram_pos(F.substring(gram, 1, 1)), _gram_pos(F.substring(gram, 2, 1))
    table = F.lit(list(_gram_table(tag, hash_key)))
    index = (p1 - 1) * len(GRAM_ALPHABET) + p2
    listed = (F.length(gram) == 2) & (p1 > 0) & (p2 > 0)
    return F.when(listed, F.element_at(table, index)).otherwise(_sha_gram_hash(gram, tag, hash_key))


def token_gram_hashes(tokens: Column, tag: str, hash_key: str) -> Column:
    """array<string> tokens -> per token the keyed hashes (`gram_hash`) of its q-grams: the
    bigrams of "^token$" (start gram first) and the token's letters; for a token with a
    Han/Kana/Hangul character its characters only.

    Bigrams keep letter order, letters keep a swap of two neighbours close ("hraing" and
    "haring" share every letter but only half their bigrams); single CJK characters carry
    as much as a Latin bigram, and their order varies more."""
    arrow = _arrow_grams("token_hashes", PAYLOAD_TYPE, tokens, tag, hash_key)
    return arrow if arrow is not None else native_token_gram_hashes(tokens, tag, hash_key)


def name_token_sets(tokens: Column, tag: str, hash_key: str) -> Column:
    """A name's payload: per token its `token_set` of `token_gram_hashes`, the sets sorted."""
    arrow = _arrow_grams("token_sets", PAYLOAD_TYPE, tokens, tag, hash_key)
    if arrow is not None:
        return arrow
    hashed = native_token_gram_hashes(tokens, tag, hash_key)
    return F.array_sort(F.transform(hashed, lambda h, i: token_set(h, F.element_at(tokens, i + 1))))


def street_gram_set(tokens: Column, tag: str, hash_key: str) -> Column:
    """A street's payload: the `token_gram_hashes` of all its tokens as one sorted set."""
    arrow = _arrow_grams("value_set", "array<int>", tokens, tag, hash_key)
    return arrow if arrow is not None else native_street_gram_set(tokens, tag, hash_key)


def _arrow_grams(
    kind: str, return_type: str, tokens: Column, tag: str, hash_key: str
) -> Column | None:
    """The gram hashes of `jobs.grams`, a whole Arrow batch at a time (per gram, Spark's
    interpreted lambdas cost several times more); None where pyspark has no Arrow UDFs
    (before 4.1: older Databricks runtimes), so the native form is used."""
    if not hasattr(F, "arrow_udf"):
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


def index_blocks(index_rows: DataFrame, *columns: str) -> DataFrame:
    """The index's values, one row per block entry: (rule, block_key, refine_keys) after
    `columns`. The index keeps a value's payload once with all its blocks (a name meets its
    blocks through each token and rule); the cross-check expands them as it reads."""
    return index_rows.select(*columns, F.inline("blocks"))


def native_token_gram_hashes(tokens: Column, tag: str, hash_key: str) -> Column:
    """`token_gram_hashes` in Spark's own functions (lambdas, interpreted): used where Arrow
    UDFs are missing, and the reference the Arrow batches are tested against."""

    def one(t: Column) -> Column:
        padded = F.concat(F.lit("^"), t, F.lit("$"))
        bigrams = F.transform(
            F.sequence(F.lit(2), F.length(padded)), lambda i: padded.substr(i - 1, F.lit(2))
        )
        letters = F.transform(F.split(t, ""), lambda c: F.concat(F.lit(SEP), c))
        grams = F.when(t.rlike(CJK_CHAR_RE), letters).otherwise(F.concat(bigrams, letters))
        return F.transform(grams, lambda g: gram_hash(g, tag, hash_key))

    return F.transform(tokens, one)


def token_set(hashed: Column, token: Column) -> Column:
    """One name token's payload: start gram first, the other grams distinct and sorted (the
    order of letters is not kept). A one-letter token keeps only its start gram: an initial."""
    head = F.slice(hashed, 1, 1)
    full = F.concat(head, F.array_sort(F.array_distinct(F.slice(hashed, 2, 1 << 16))))
    initial = (F.length(token) == 1) & ~token.rlike(CJK_CHAR_RE)
    return F.when(initial, head).otherwise(full)


def native_name_token_sets(tokens: Column, tag: str, hash_key: str) -> Column:
    """`name_token_sets` in Spark's own functions."""
    hashed = native_token_gram_hashes(tokens, tag, hash_key)
    return F.array_sort(F.transform(hashed, lambda h, i: token_set(h, F.element_at(tokens, i + 1))))


def native_street_gram_set(tokens: Column, tag: str, hash_key: str) -> Column:
    """`street_gram_set` in Spark's own functions."""
    hashed = native_token_gram_hashes(tokens, tag, hash_key)
    return F.array_sort(F.array_distinct(F.flatten(hashed)))


def unigram_set(clean: Column, tag: str, hash_key: str) -> Column:
    """Characters of the value (blanks dropped) as one sorted set of hashes (CJK names)."""
    chars = F.split(F.regexp_replace(clean, r"\s+", ""), "")
    return F.array_sort(F.array_distinct(F.transform(chars, lambda c: gram_hash(c, tag, hash_key))))


# ---- comparators (native expressions on payloads) -----------------------------------------


def dice(a: Column, b: Column) -> Column:
    """Dice coefficient of two hashed gram sets; 0 when both are empty."""
    total = F.size(a) + F.size(b)
    inter = F.size(F.array_intersect(a, b))
    return F.when(total > 0, 2.0 * inter / total).otherwise(F.lit(0.0))


def token_similarity(a: Column, b: Column, initial_score: float) -> Column:
    """Dice of two tokens' gram sets; an initial (one gram) against a token with the same
    start gram scores `initial_score`."""
    initial = (F.size(a) == 1) | (F.size(b) == 1)
    same_start = F.element_at(a, 1) == F.element_at(b, 1)
    return F.when(
        initial, F.when(same_start, F.lit(initial_score)).otherwise(F.lit(0.0))
    ).otherwise(dice(a, b))


def _directed(a: Column, b: Column, initial_score: float) -> Column:
    best = F.transform(
        a, lambda x: F.array_max(F.transform(b, lambda y: token_similarity(x, y, initial_score)))
    )
    total = F.aggregate(best, F.lit(0.0), lambda acc, s: acc + s)
    return F.when(F.size(a) > 0, total / F.size(a)).otherwise(F.lit(0.0))


UNROLLED_TOKENS = 3


def _best_match_means(cell: Callable[[int, int], Column], a: Column, b: Column, n: int) -> Column:
    """The lower of the two directed means of best matches over an n x n grid of token pair
    values `cell(i, j)` (1-based; cells past a name's size are left out)."""
    size_a, size_b = F.size(a), F.size(b)
    sims = [
        [F.when((size_a >= i) & (size_b >= j), cell(i, j)) for j in range(1, n + 1)]
        for i in range(1, n + 1)
    ]

    def mean(best: list[Column], size: Column) -> Column:
        total = reduce(operator.add, [F.coalesce(x, F.lit(0.0)) for x in best])
        return F.when(size > 0, total / size).otherwise(F.lit(0.0))

    rows = [F.greatest(*row) for row in sims]
    cols = [F.greatest(*[sims[i][j] for i in range(n)]) for j in range(n)]
    return F.least(mean(rows, size_a), mean(cols, size_b))


def _unrolled(a: Column, b: Column, initial_score: float, n: int) -> Column:
    """`name_similarity` for names of at most `n` tokens each, as n*n token similarities in
    plain expressions: generated code instead of the interpreted lambdas of `_directed`."""

    def cell(i: int, j: int) -> Column:
        x, y = F.try_element_at(a, F.lit(i)), F.try_element_at(b, F.lit(j))
        return token_similarity(x, y, initial_score)

    return _best_match_means(cell, a, b, n)


def _short(a: Column, b: Column) -> Column:
    """Both names have 1 to `UNROLLED_TOKENS` tokens: the unrolled form (and its bound) apply."""
    n = UNROLLED_TOKENS
    return (F.size(a) <= n) & (F.size(b) <= n) & (F.size(a) > 0) & (F.size(b) > 0)


def name_similarity(a: Column, b: Column, initial_score: float) -> Column:
    """min of the two directed means of best token matches: order-free, and a token present
    on one side only lowers the score. Names of up to `UNROLLED_TOKENS` tokens (nearly all)
    take the unrolled form; longer ones the lambdas."""
    general = F.least(_directed(a, b, initial_score), _directed(b, a, initial_score))
    return F.when(_short(a, b), _unrolled(a, b, initial_score, UNROLLED_TOKENS)).otherwise(general)


def differs(a: Column, b: Column) -> Column:
    """1.0 unless both sides carry the same whole value (that is an exact match, not weak)."""
    va, vb = F.element_at(a, 1), F.element_at(b, 1)
    same = (F.size(va) == 1) & (F.size(vb) == 1) & (F.element_at(va, 1) == F.element_at(vb, 1))
    return F.when(same, F.lit(0.0)).otherwise(F.lit(1.0))


# ---- upper bounds from signatures (cheap, before the comparator) --------------------------
#
# Most pairs in a block are not near-equal, and a comparator reads two arrays of arrays per
# pair. `grams.signatures` keeps 128 bits per gram set; a bit of x missing from y is a gram of
# x missing from y, so popcounts of two words bound each intersection from above, and so the
# score. A pair whose bound is under its threshold is never scored: of the 6.5 M name pairs
# of the 100 k-customer benchmark, 1.4 % pass the bound and 0.8 % match. A missing signature
# (older pyspark without Arrow UDFs) bounds nothing: the pair is scored.


def _excess(sig_x: Column, kx: int, sig_y: Column, ky: int) -> Column:
    """Bits of set kx (1-based) of sig_x not in set ky of sig_y: grams of the one surely
    missing from the other."""
    lo = F.element_at(sig_x, 2 * kx - 1).bitwiseAND(F.bitwise_not(F.element_at(sig_y, 2 * ky - 1)))
    hi = F.element_at(sig_x, 2 * kx).bitwiseAND(F.bitwise_not(F.element_at(sig_y, 2 * ky)))
    return F.bit_count(lo) + F.bit_count(hi)


def dice_bound(a: Column, b: Column, sa: Column, sb: Column) -> Column:
    """Upper bound of `dice(a, b)` for two single gram sets from their signatures."""
    ka, kb = F.size(a), F.size(b)
    inter = F.least(ka - _excess(sa, 1, sb, 1), kb - _excess(sb, 1, sa, 1))
    bounded = sa.isNotNull() & sb.isNotNull() & (ka + kb > 0)
    return F.when(bounded, 2.0 * inter / (ka + kb)).otherwise(F.lit(1.0))


def name_bound(a: Column, b: Column, sa: Column, sb: Column, initial_score: float) -> Column:
    """Upper bound of `name_similarity(a, b)`: each token pair's similarity replaced by its
    bound (an initial by `initial_score`), the same means of best matches. 1.0 (no bound)
    past `UNROLLED_TOKENS` tokens."""

    def cell(i: int, j: int) -> Column:
        ki, kj = F.size(F.element_at(a, i)), F.size(F.element_at(b, j))
        inter = F.least(ki - _excess(sa, i, sb, j), kj - _excess(sb, j, sa, i))
        dice_ub = 2.0 * inter / (ki + kj)
        return F.when((ki == 1) | (kj == 1), F.lit(initial_score)).otherwise(dice_ub)

    bounded = _short(a, b) & sa.isNotNull() & sb.isNotNull()
    means = _best_match_means(cell, a, b, UNROLLED_TOKENS)
    return F.when(bounded, means).otherwise(F.lit(1.0))


def _bound(
    comparator: str, a: Column, b: Column, sa: Column, sb: Column, initial_score: float
) -> Column | None:
    if comparator == "name_tokens":
        return name_bound(a, b, sa, sb, initial_score)
    if comparator == "dice":
        return dice_bound(F.element_at(a, 1), F.element_at(b, 1), sa, sb)
    return None


def _compare(comparator: str, a: Column, b: Column, initial_score: float) -> Column:
    if comparator == "name_tokens":
        return name_similarity(a, b, initial_score)
    if comparator == "dice":
        return dice(F.element_at(a, 1), F.element_at(b, 1))
    return differs(a, b)


# ---- rows: one per value, its blocks in an array ------------------------------------------
#
# One builder per field, each a short chain of flat projections: per-value work (cleaning,
# transliteration, gram hashes) runs once per distinct value, and the value's blocks, (rule,
# block key, refine keys) per token and rule, are one array beside its payload, built in
# generated code (`_name_blocks`). The index stores each payload once; the sample side expands
# the array into one row per block (`fuzzy_sample_rows`). On the
# index side they start from `keys.index_values`, the values the exact index is made from:
# distinct per customer (an order's ship-to name or address usually repeats the customer's
# own) and cleaned once, the roles they came from kept as a bitmask (`sources`). On the sample
# side, from `keys.cleaned` of each line.


NO_REFINE = "array<bigint>"


def _block_hash(rule: str | Column, hash_key: str, *parts: Column) -> Column:
    """64-bit keyed hash of (rule, parts): a rule's keys never meet another rule's."""
    name = F.lit(rule) if isinstance(rule, str) else rule
    return keyed_hash(F.concat_ws(SEP, name, *parts), hash_key)


@lru_cache(maxsize=16)
def _initial_table(tag: str, hash_key: str) -> tuple[int | None, ...]:
    """Per ASCII code, `gram_hash` of "^" + that character (None off `GRAM_ALPHABET`): the
    "^" row of the two-character gram table."""
    table, row = _gram_table(tag, hash_key), _GRAM_POS[ord("^")] - 1
    return tuple(table[row * len(GRAM_ALPHABET) + p - 1] if p else None for p in _GRAM_POS)


def _refine_hash(field: str, initial: Column, hash_key: str) -> Column:
    """Sub-key component (the hash of one initial); only ever compared within one (rule,
    block key), so a gram hash is enough: `gram_hash` of "^" + initial, read straight from a
    table of 128 for an ASCII initial. It runs per token in a lambda, which Spark interprets:
    there `gram_hash`'s general expression cost ten times as much."""
    tag = f"r{field}"
    table = F.lit(list(_initial_table(tag, hash_key))).cast("array<int>")
    listed = F.try_element_at(table, F.ascii(initial) + 1)  # ascii("") = 0: None
    gram = F.concat(F.lit("^"), initial)
    return F.coalesce(listed, _sha_gram_hash(gram, tag, hash_key)).cast("bigint")


def _output(df: DataFrame, ids: list[str]) -> DataFrame:
    """The value rows with the final columns, those without a block dropped; on the index
    side the roles a value came from stay one bitmask, `sources` (`keys.SOURCES` order): a
    name the customer and its orders share is one row, not one per role. Evidence rows get
    their `source` back after scoring (`fuzzy_candidates`), from the few pairs that match.

    Rows without a block are dropped by a generator, not a filter: a filter would be pushed
    below the projections (computing every block key twice) and below
    `keys.field_values`'s de-duplication (cleaning every raw value twice, see
    explode_sources). The generator's input is an expression, not a column: on a column
    Spark infers the filter `size(column) > 0` itself and pushes it down all the same."""
    out = [F.col(c).alias("sources") if c == "_sources" else F.col(c) for c in ids]
    rows = df.select(*out, "field", "blocks", "payload", "sig")
    row = F.struct(*[F.col(c) for c in rows.columns])
    return rows.select(F.inline(F.when(F.size(F.col("blocks")) > 0, F.array(row))))


def _block(rule: BlockRule, block_key: Column, refine_keys: Column | None, keep: Column) -> Column:
    """[one entry of a value's `blocks`] where `keep`, else []: the builders `concat` them.
    Not nulls dropped by `array_compact`: that is a lambda, and Spark would evaluate the
    whole array under it, block hashes included, interpreted."""
    refine = refine_keys if refine_keys is not None and rule.refine else F.array()
    entry = F.struct(
        F.lit(rule.name).alias("rule"),
        block_key.alias("block_key"),
        refine.cast(NO_REFINE).alias("refine_keys"),
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


def _places(countries: Sequence[str]) -> Column:
    """Sample side: the countries a line's name is blocked in under a per-country rule: its
    own, or every country when it has none (its name cannot be placed). On the index side an
    unknown country is a block of its own ("")."""
    every = F.array(*[F.lit(c) for c in [*countries, ""]])
    return F.when(F.col("country").isNull(), every).otherwise(F.array(F.col("country")))


UNROLLED_BLOCK_TOKENS = 4


def _name_blocks(
    rules: Sequence[BlockRule], tokens: Column, inits: Column, hash_key: str
) -> Column:
    """A name value's blocks in one place (`_place`): per distinct token with a code, per
    rule, (rule, keyed hash of (rule, place, code), the initials of the value's other
    tokens). A rule that is not per country blocks in "" only, once: on the row whose
    `_first_place` is true.

    Unrolled over the first `UNROLLED_BLOCK_TOKENS` tokens, so the block keys are hashed in
    generated code (inside a lambda Spark interprets each hash's expression tree); a value
    with more tokens (about one name in a million of the demo data) takes the lambda."""

    first = F.col("_first_place")

    def entries(tok: Column, others: Column) -> list[Column]:
        out = []
        for rule in rules:
            code = _code(rule, tok)
            place = F.col("_place") if rule.per_country else F.lit("")
            keep = code.isNotNull() if rule.per_country else code.isNotNull() & first
            key = _block_hash(rule.name, hash_key, place, code)
            out.append(_block(rule, key, others, keep))
        return out

    def others(i: Column | int) -> Column:  # initials of the tokens but the i-th (0-based)
        return F.array_distinct(F.concat(F.slice(inits, 1, i), F.slice(inits, i + 2, 1 << 16)))

    general = F.flatten(F.transform(tokens, lambda t, i: F.concat(*entries(t, others(i)))))
    if UNROLLED_BLOCK_TOKENS <= 0:
        return general
    unrolled = F.concat(
        *[
            e
            for i in range(UNROLLED_BLOCK_TOKENS)
            for e in entries(F.try_element_at(tokens, F.lit(i + 1)), others(i))
        ]
    )
    return F.when(F.size(tokens) <= UNROLLED_BLOCK_TOKENS, unrolled).otherwise(general)


def _name_rows(
    values: DataFrame,
    ids: list[str],
    rules: Sequence[BlockRule],
    countries: Sequence[str] | None,
    hash_key: str,
) -> DataFrame:
    """`keys.cleaned` names -> per name value (the name and, where kept, its romanised form),
    per distinct token that has a code, per rule, per place: one row, refined by the
    initials of the value's other tokens."""
    both = F.array(F.coalesce(F.col("name_c"), F.lit("")), F.coalesce(F.col("latin_c"), F.lit("")))
    values = values.select(
        *ids, "country", F.explode(F.array_remove(F.array_distinct(both), "")).alias("_value")
    )
    latin = values.select(
        *ids, "country", "_value", skeleton(transliterate(F.col("_value"))).alias("_latin")
    )
    tokens = latin.select(
        *ids,
        "country",
        "_value",
        F.array_remove(F.split(F.col("_latin"), " "), "").alias("_tokens"),
    )
    hashed = tokens.select(
        *ids,
        "country",
        "_tokens",
        F.when(
            F.col("_value").rlike(CJK_ONLY_RE), unigram_set(F.col("_value"), "n1", hash_key)
        ).alias("_cjk"),
        name_token_sets(F.col("_tokens"), "n2", hash_key).alias("_sets"),
    )
    payload = F.when(F.col("_cjk").isNotNull(), F.array(F.col("_cjk"))).otherwise(F.col("_sets"))
    # The signature in a projection of its own, over the payload column: an Arrow UDF over
    # the payload expression would be handed the other UDF's output inlined.
    valued = hashed.select(*ids, "country", "_tokens", payload.alias("payload"))
    signed = valued.select(
        *ids, "country", "_tokens", "payload", signature(F.col("payload")).alias("sig")
    )
    # Per distinct token: its rules' codes on the flat token, refined by the initials of the
    # value's other tokens (positions cut out with slices).
    distinct = F.array_distinct(F.col("_tokens"))
    inits = F.transform(distinct, lambda t: _refine_hash("name", F.substring(t, 1, 1), hash_key))
    # Tokens and initials as columns: the blocks expression reads each of them many times.
    per_value = [*ids, "payload", "sig", distinct.alias("_distinct"), inits.alias("_inits")]
    if countries is None or not any(r.per_country for r in rules):
        place = F.coalesce(F.col("country"), F.lit("")) if countries is None else F.lit("")
        placed = signed.select(*per_value, place.alias("_place"), F.lit(True).alias("_first_place"))
    else:
        exploded = signed.select(
            *per_value, F.posexplode(_places(countries)).alias("_place_pos", "_place")
        )
        placed = exploded.withColumn("_first_place", F.col("_place_pos") == 0)
    blocks = _name_blocks(rules, F.col("_distinct"), F.col("_inits"), hash_key)
    rows = placed.select(
        *ids, F.lit("name").alias("field"), blocks.alias("blocks"), "payload", "sig"
    )
    return _output(rows, ids)


def _address_rows(
    values: DataFrame, ids: list[str], rules: Sequence[BlockRule], hash_key: str
) -> DataFrame:
    """`keys.cleaned` addresses -> postcode + house number as the block; the street line
    (number removed) as one gram set, token order ignored; refined by the street tokens'
    initials."""
    numbered = values.select(
        *ids,
        F.col("postcode").alias("_postcode"),
        F.col("street").alias("_street"),
        F.regexp_extract(F.col("street"), HOUSE_NUMBER_TOKEN_RE, 1).alias("_number"),
    )
    # fold_street leaves single spaces, so the only empty token is that of an empty street;
    # every token equal to the house number ("" when there is none) is dropped.
    rest = numbered.select(
        *ids,
        "_postcode",
        F.concat_ws("|", F.col("_postcode"), F.col("_number")).alias("_code"),
        F.array_remove(F.split(F.col("_street"), " "), F.col("_number")).alias("_rest"),
    )
    hashed = rest.select(
        *ids,
        "_code",
        (F.col("_postcode").isNotNull() & (F.size(F.col("_rest")) > 0)).alias("_usable"),
        F.array_distinct(
            F.transform(
                F.col("_rest"), lambda t: _refine_hash("address", F.substring(t, 1, 1), hash_key)
            )
        ).alias("_initials"),
        F.array(street_gram_set(F.col("_rest"), "a2", hash_key)).alias("payload"),
    )
    # The signature in a projection of its own: once per value.
    signed = hashed.select(
        *ids, "_code", "_usable", "_initials", "payload", signature(F.col("payload")).alias("sig")
    )
    code, initials, usable = F.col("_code"), F.col("_initials"), F.col("_usable")
    blocks = F.concat(
        *[_block(r, _block_hash(r.name, hash_key, code), initials, usable) for r in rules]
    )
    rows = signed.select(
        *ids, F.lit("address").alias("field"), blocks.alias("blocks"), "payload", "sig"
    )
    return _output(rows, ids)


def _value_payload(value: Column, tag: str, hash_key: str) -> Column:
    """[[hash of the whole value]] or [[]]: lets `differs` tell another value from the same."""
    return F.array(F.array_compact(F.array(gram_hash(value, tag, hash_key))))


def _weak_rows(
    values: DataFrame,
    ids: list[str],
    rules: Sequence[BlockRule],
    hash_key: str,
    part: Callable[[BlockRule], tuple[Column, Column]],
    value: str,
    tag: str,
) -> DataFrame:
    """Weak-level rows: blocked on a part of the value (`part(rule)` -> (block, usable)),
    the payload the whole value."""
    entries = []
    for rule in rules:
        block, usable = part(rule)
        entries.append(_block(rule, _block_hash(rule.name, hash_key, block), None, usable))
    rows = values.select(
        *ids,
        F.lit(rules[0].field).alias("field"),
        F.concat(*entries).alias("blocks"),
        _value_payload(F.col(value), tag, hash_key).alias("payload"),
        F.lit(None).cast(SIGNATURE_TYPE).alias("sig"),  # `differs` needs no bound
    )
    return _output(rows, ids)


def _email_rows(
    values: DataFrame, ids: list[str], rules: Sequence[BlockRule], hash_key: str
) -> DataFrame:
    """`keys.cleaned` e-mails -> blocked on the local part with dots and +tags dropped, so
    the same mailbox name at another domain meets."""
    local = values.select(
        *ids,
        F.col("value").alias("_email_n"),
        F.replace(
            F.substring_index(F.substring_index(F.col("value"), "@", 1), "+", 1),
            F.lit("."),
            F.lit(""),
        ).alias("_local"),
    )

    def part(rule: BlockRule) -> tuple[Column, Column]:
        return F.col("_local"), F.length(F.col("_local")) >= rule.min_length

    return _weak_rows(local, ids, rules, hash_key, part, "_email_n", "e")


def _phone_rows(
    values: DataFrame, ids: list[str], rules: Sequence[BlockRule], hash_key: str
) -> DataFrame:
    """`keys.cleaned` phones -> blocked on the last `digits` digits: the national number
    whatever the country code says."""
    keyed = values.select(
        *ids,
        F.translate(F.col("phone_c"), "+", "").alias("_digits"),  # clean_phone: digits and "+"
        F.col("value").alias("_phone_n"),
    )

    def part(rule: BlockRule) -> tuple[Column, Column]:
        digits = F.col("_digits")
        tail = F.substring(digits, -rule.digits, rule.digits)
        return tail, F.length(digits) >= rule.digits

    return _weak_rows(keyed, ids, rules, hash_key, part, "_phone_n", "p")


def _rows(
    values: Mapping[str, DataFrame],
    ids: list[str],
    hash_key: str,
    matching: MatchingConf,
    countries: Sequence[str] | None,
) -> DataFrame | None:
    """`keys.cleaned` values per field -> one row per value with its blocks under every
    rule (ids, field, blocks, payload, sig); None without rules."""
    out = []
    if rules := matching.for_field("name"):
        out.append(_name_rows(values["name"], ids, rules, countries, hash_key))
    builders = {"address": _address_rows, "email": _email_rows, "phone": _phone_rows}
    for field, build in builders.items():
        if rules := matching.for_field(field):
            out.append(build(values[field], ids, rules, hash_key))
    if not out:
        return None
    rows = out[0]
    for more in out[1:]:
        rows = rows.unionByName(more)
    return rows


def fuzzy_index(
    values: Sequence[DataFrame],
    conf: NormaliseConf,
    hash_key: str,
    matching: MatchingConf | None = None,
) -> DataFrame:
    """`role_values` of every role -> the fuzzy index (field, customer_id, sources, blocks,
    payload, sig): hashes only, one row per value. Write it partitioned by field.
    `matching` defaults to conf/matching.yaml."""
    return fuzzy_index_of(index_values(values, conf), hash_key, matching)


def fuzzy_index_of(
    values: Mapping[str, DataFrame], hash_key: str, matching: MatchingConf | None = None
) -> DataFrame:
    """`keys.index_values` -> the fuzzy index: the exact index (`keys.keys_of`) is made from
    the same cleaned values, so a build that persists them cleans each value once."""
    matching = matching or load_matching()
    rows = _rows(values, ["customer_id", "_sources"], hash_key, matching, None)
    if rows is None:
        schema = (
            f"field string, customer_id string, sources int, blocks {BLOCKS_TYPE}, "
            f"payload {PAYLOAD_TYPE}, sig {SIGNATURE_TYPE}"
        )
        return next(iter(values.values())).sparkSession.createDataFrame([], schema)
    return rows.select(*INDEX_COLUMNS)


def fuzzy_sample_rows(
    parsed: DataFrame,
    conf: NormaliseConf,
    hash_key: str,
    default_country: str | None = None,
    matching: MatchingConf | None = None,
) -> DataFrame:
    """sample_raw rows -> (run_id, line_number, field, rule, block_key, refine_keys, payload).

    Lines without a country (and no default) meet name blocks of every country known to
    `phone_countries`, since their names cannot be placed. `matching` defaults to
    conf/matching.yaml."""
    matching = matching or load_matching()
    parts = with_line_country(parsed, conf, default_country).select(
        "run_id",
        "line_number",
        *sample_parts(conf),
        F.lit(None).cast("string").alias("name_latin"),
    )
    countries = sorted(conf.phone_countries)
    ids = ["run_id", "line_number"]
    values = {f: cleaned(parts, f, conf, ids) for f in FIELD_INPUTS}
    rows = _rows(values, ids, hash_key, matching, countries)
    if rows is None:
        schema = (
            "run_id string, line_number bigint, field string, rule string, block_key bigint, "
            f"refine_keys array<bigint>, payload {PAYLOAD_TYPE}, sig {SIGNATURE_TYPE}"
        )
        return parsed.sparkSession.createDataFrame([], schema)
    return rows.select(*ids, "field", F.inline("blocks"), "payload", "sig")


# ---- blocking plan and diagnostics --------------------------------------------------------


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


def blocked_index_rows(index_rows: DataFrame, sample_rows: DataFrame) -> DataFrame:
    """(rule, block_key, refine_keys) of the index rows whose (rule, block_key) occurs in the
    sample: one pass over three columns of the index, the sample's keys broadcast. Only
    counted: the payloads are read once, by `candidate_pairs`, for the blocks it joins."""
    wanted = F.broadcast(sample_rows.select("rule", "block_key").distinct())
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
) -> BlockingPlan:
    """Pair counts per block key (sample rows x index rows), before any pair is made.

    Per rule, keys are taken smallest first while the running total of pairs stays within the
    budget; the rest are hot. Hot keys of a rule with `refine` are joined on (key, refine key)
    instead, again smallest first within what is left of the budget, and the remainder skipped;
    hot keys of a rule without `refine` are skipped."""
    conf = rules if isinstance(rules, MatchingConf) else MatchingConf(rules=tuple(rules))
    rule_list = conf.rules
    rules_df = F.broadcast(_rules_frame(sample_rows, rule_list, budget))
    blocked = blocked_index_rows(index_rows, sample_rows)
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


def _diagnostics(pairs: DataFrame, refined: DataFrame, rules_df: DataFrame, top: int) -> DataFrame:
    heavy = F.struct(F.col("pairs"), F.col("block_key"), F.col("sample_rows"), F.col("index_rows"))
    per_key = pairs.groupBy("rule").agg(
        F.count(F.lit(1)).alias("keys"),
        F.sum("pairs").alias("candidate_pairs"),
        F.count(F.when(F.col("hot"), 1)).alias("hot_keys"),
        F.coalesce(F.sum(F.when(F.col("hot"), F.col("pairs"))), F.lit(0)).alias("hot_pairs"),
        F.coalesce(F.sum(F.when(~F.col("hot"), F.col("pairs"))), F.lit(0)).alias("plain_pairs"),
        F.slice(F.sort_array(F.collect_list(heavy), asc=False), 1, top).alias("heaviest_keys"),
    )
    per_sub = refined.groupBy("rule").agg(
        F.sum(F.when(F.col("kept"), F.col("pairs"))).alias("refined_pairs"),
        F.count(F.when(~F.col("kept"), 1)).alias("skipped_subkeys"),
        F.sum(F.when(~F.col("kept"), F.col("pairs"))).alias("skipped_subkey_pairs"),
    )
    zero = F.lit(0).cast("bigint")
    d = rules_df.join(per_key, on="rule", how="left").join(per_sub, on="rule", how="left")
    d = d.select(
        "rule",
        "field",
        "method",
        "pair_budget",
        "refine",
        *[
            F.coalesce(F.col(c), zero).cast("bigint").alias(c)
            for c in (
                "keys",
                "candidate_pairs",
                "hot_keys",
                "hot_pairs",
                "plain_pairs",
                "refined_pairs",
                "skipped_subkeys",
                "skipped_subkey_pairs",
            )
        ],  # fmt: skip
        F.coalesce(
            F.col("heaviest_keys"),
            F.array().cast(
                "array<struct<pairs:bigint,block_key:bigint,sample_rows:bigint,index_rows:bigint>>"
            ),
        ).alias("heaviest_keys"),
    )
    hot = F.col("hot_keys") > 0
    no_refine = F.col("refine").isNull()
    action = (
        F.when(~hot, F.lit("run"))
        .when(no_refine, F.lit("skip"))
        .when(F.col("skipped_subkeys") > 0, F.lit("split_skip"))
        .otherwise(F.lit("split"))
    )
    note = (
        F.when(
            ~hot,
            F.format_string(
                "%d candidate pairs within the budget %d", "candidate_pairs", "pair_budget"
            ),
        )
        .when(
            no_refine,
            F.format_string(
                "%d candidate pairs above the budget %d: %d hot key(s) (%d pairs) skipped",
                "candidate_pairs",
                "pair_budget",
                "hot_keys",
                "hot_pairs",
            ),  # fmt: skip
        )
        .otherwise(
            F.format_string(
                "%d candidate pairs above the budget %d: %d hot key(s) (%d pairs) split by %s "
                "into %d pairs; %d sub-key(s) (%d pairs) skipped",
                "candidate_pairs",
                "pair_budget",
                "hot_keys",
                "hot_pairs",
                "refine",
                "refined_pairs",
                "skipped_subkeys",
                "skipped_subkey_pairs",
            )  # fmt: skip
        )
    )
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
        action.alias("action"),
        note.alias("note"),
        "heaviest_keys",
    )


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


# ---- candidates and evidence --------------------------------------------------------------


PAIR_COLUMNS = [
    "line_number", "field", "rule", "customer_id", "sources", "s_payload", "i_payload", "s_sig",
    "i_sig",
]  # fmt: skip


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


def pair_scores(conf: MatchingConf, threshold: Column) -> Column:
    """Each `candidate_pairs` row's score under its rule's comparator; null where the
    signatures' bound is under `threshold` (the comparator is not evaluated: CASE WHEN is
    lazy)."""
    score = F.lit(None).cast("double")
    a, b, sa, sb = F.col("s_payload"), F.col("i_payload"), F.col("s_sig"), F.col("i_sig")
    for comparator in COMPARATORS:  # one expression per comparator, however many rules
        names = [r.name for r in conf.rules if r.comparator == comparator]
        if names:
            compared = _compare(comparator, a, b, conf.initial_score)
            bound = _bound(comparator, a, b, sa, sb, conf.initial_score)
            if bound is not None:
                compared = F.when(bound >= threshold, compared)
            score = F.when(F.col("rule").isin(names), compared).otherwise(score)
    return score


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
    method = _per_rule(conf, lambda r: F.lit(r.method), "string")
    score = pair_scores(conf, threshold)
    scored = pairs.select(
        "line_number",
        "field",
        "customer_id",
        F.col("sources").alias("_sources"),
        method.alias("method"),
        score.alias("score"),
        threshold.alias("threshold"),
    ).filter(_not_pushed(F.col("score") >= F.col("threshold")))
    per_source = explode_sources(
        scored, ["line_number", "field", "customer_id"], ["method", "score"]
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
