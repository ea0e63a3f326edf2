"""Comparators on payloads, as native expressions, and their upper bounds from signatures.

Names: the score is the lower of the two directed means of best token matches, so it is
order-free and a token present on one side only costs; a one-letter token is an initial and
scores `initial_score` against any token starting with it. Streets: Dice on one gram set.
Weak levels (e-mail, phone): 1.0 for another value in the same block, 0.0 for the same.

Bounds. Most pairs in a block are not near-equal, and a comparator reads two arrays of arrays
per pair. `grams.signatures` keeps 128 bits per gram set; a bit of x missing from y is a gram
of x missing from y, so popcounts of two words bound each intersection from above, and so the
score. A pair whose bound is under its threshold is never scored: of the 6.5 M name pairs of
the 100 k-customer benchmark, 1.4 % pass the bound and 0.8 % match. A missing signature
(older pyspark without Arrow UDFs) bounds nothing: the pair is scored.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import reduce

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.match.birth import birth_score
from jobs.settings import COMPARATORS, MatchingConf


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


Combine = Callable[[Column, Column], Column]  # F.least (the name score) or F.greatest


def _best_match_means(
    cell: Callable[[int, int], Column], a: Column, b: Column, n: int, combine: Combine = F.least
) -> Column:
    """The lower (`combine`) of the two directed means of best matches over an n x n grid of
    token pair values `cell(i, j)` (1-based; cells past a name's size are left out)."""
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
    return combine(mean(rows, size_a), mean(cols, size_b))


def _unrolled(
    a: Column, b: Column, initial_score: float, n: int, combine: Combine = F.least
) -> Column:
    """`name_similarity` for names of at most `n` tokens each, as n*n token similarities in
    plain expressions: generated code instead of the interpreted lambdas of `_directed`."""

    def cell(i: int, j: int) -> Column:
        x, y = F.try_element_at(a, F.lit(i)), F.try_element_at(b, F.lit(j))
        return token_similarity(x, y, initial_score)

    return _best_match_means(cell, a, b, n, combine)


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


def name_containment(a: Column, b: Column, initial_score: float) -> Column:
    """The higher of the two directed means: 1.0 when every token of one name is in the other
    ("Felicity" against "Felicity English-Obst", a name with a token left out), however many
    more the other has. Record linkage's `contained` level; never a match on its own."""
    general = F.greatest(_directed(a, b, initial_score), _directed(b, a, initial_score))
    unrolled = _unrolled(a, b, initial_score, UNROLLED_TOKENS, F.greatest)
    return F.when(_short(a, b), unrolled).otherwise(general)


def differs(a: Column, b: Column) -> Column:
    """1.0 unless both sides carry the same whole value (that is an exact match, not weak)."""
    va, vb = F.element_at(a, 1), F.element_at(b, 1)
    same = (F.size(va) == 1) & (F.size(vb) == 1) & (F.element_at(va, 1) == F.element_at(vb, 1))
    return F.when(same, F.lit(0.0)).otherwise(F.lit(1.0))


# ---- upper bounds from signatures (cheap, before the comparator) --------------------------


def _excess(sig_x: Column, kx: int, sig_y: Column, ky: int) -> Column:
    """Bits of set kx (1-based) of sig_x not in set ky of sig_y: grams of the one surely
    missing from the other."""
    lo = F.element_at(sig_x, 2 * kx - 1).bitwiseAND(F.bitwise_not(F.element_at(sig_y, 2 * ky - 1)))
    hi = F.element_at(sig_x, 2 * kx).bitwiseAND(F.bitwise_not(F.element_at(sig_y, 2 * ky)))
    return F.bit_count(lo) + F.bit_count(hi)


def dice_bound(a: Column, b: Column, sa: Column, sb: Column, k: int = 1) -> Column:
    """Upper bound of `dice(a, b)` for the k-th gram sets of two payloads (a, b) from their
    signatures (sa, sb)."""
    ka, kb = F.size(a), F.size(b)
    inter = F.least(ka - _excess(sa, k, sb, k), kb - _excess(sb, k, sa, k))
    bounded = sa.isNotNull() & sb.isNotNull() & (ka + kb > 0)
    return F.when(bounded, 2.0 * inter / (ka + kb)).otherwise(F.lit(1.0))


def name_bound(
    a: Column, b: Column, sa: Column, sb: Column, initial_score: float, combine: Combine = F.least
) -> Column:
    """Upper bound of `name_similarity(a, b)` (`name_containment` with `combine` greatest):
    each token pair's similarity replaced by its bound (an initial by `initial_score`), the
    same means of best matches. 1.0 (no bound) past `UNROLLED_TOKENS` tokens."""

    def cell(i: int, j: int) -> Column:
        ki, kj = F.size(F.element_at(a, i)), F.size(F.element_at(b, j))
        inter = F.least(ki - _excess(sa, i, sb, j), kj - _excess(sb, j, sa, i))
        dice_ub = 2.0 * inter / (ki + kj)
        return F.when((ki == 1) | (kj == 1), F.lit(initial_score)).otherwise(dice_ub)

    bounded = _short(a, b) & sa.isNotNull() & sb.isNotNull()
    means = _best_match_means(cell, a, b, UNROLLED_TOKENS, combine)
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
    if comparator == "birth":
        return birth_score(a, b)
    return differs(a, b)


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
