"""Fellegi–Sunter weights for comparison vectors, trained by EM on their pattern counts.

A comparison vector gives each field a level: -1 when either side has no value, 0 when the
values disagree, 1..k for ever closer agreement (k = exact). Pairs with the same vector are
interchangeable for the model, so EM runs on the driver over (vector, pairs) counts — a few
hundred rows whatever the number of pairs — as fastLink does, and the pairs themselves are
scored afterwards by a Column expression (`match_weight`). u-probabilities come from pairs of
different customers (`level_shares`), m-probabilities from EM with u held fixed, as Splink
trains them; conf defaults stand in when EM has too few likely matches to learn from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

Pattern = tuple[int, ...]
FLOOR = 1e-6  # no probability is 0 or 1: a weight stays finite
PRIOR_FLOOR = 1e-12  # a random pair's chance of matching: 1 / customers, at most 1e12


@dataclass(frozen=True)
class FieldModel:
    """One field's probabilities per level 0..k (level -1, missing, weighs nothing)."""

    name: str
    m: tuple[float, ...]
    u: tuple[float, ...]

    @property
    def weights(self) -> tuple[float, ...]:
        """log2(m / u) per level: the evidence a level adds, in bits."""
        return tuple(math.log2(m / u) for m, u in zip(self.m, self.u, strict=True))


@dataclass(frozen=True)
class LinkageModel:
    """The trained model: the share of candidate pairs that are matches (`prior`) and each
    field's m, u and weight per level; `em_iterations` 0 when conf defaults were used."""

    fields: tuple[FieldModel, ...]
    prior: float
    em_iterations: int = 0
    converged: bool = False

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    def pattern_weight(self, pattern: Pattern) -> float:
        """The total weight of one vector: prior + each non-missing level's weight."""
        return self.prior_weight + sum(
            f.weights[g] for f, g in zip(self.fields, pattern, strict=True) if g >= 0
        )

    def rows(self) -> list[dict]:
        """One dict per (field, level): what the run stores and the report shows."""
        return [
            {"field": f.name, "level": level, "m": m, "u": u, "weight": w}
            for f in self.fields
            for level, (m, u, w) in enumerate(zip(f.m, f.u, f.weights, strict=True))
        ]


def probability(weight: float) -> float:
    """Match weight (bits) -> match probability."""
    return 1.0 / (1.0 + 2.0 ** (-weight))


def _clamp(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(min(max(v, FLOOR), 1.0 - FLOOR) for v in values)


def level_shares(counts: Mapping[int, int], levels: int) -> tuple[float, ...]:
    """Pairs per level (missing left out) -> the share of each level 0..levels-1: a field's
    u-probabilities when the pairs are of different customers."""
    total = sum(n for g, n in counts.items() if g >= 0)
    if total == 0:
        return _clamp([1.0] + [0.0] * (levels - 1))
    return _clamp([counts.get(g, 0) / total for g in range(levels)])


def _posteriors(
    patterns: Sequence[tuple[Pattern, int]], m: list[list[float]], u: Sequence[Sequence[float]],
    prior: float,
) -> list[float]:  # fmt: skip
    out = []
    for pattern, _ in patterns:
        pm, pu = prior, 1.0 - prior
        for c, g in enumerate(pattern):
            if g >= 0:
                pm *= m[c][g]
                pu *= u[c][g]
        out.append(pm / (pm + pu))
    return out


def train_em(
    names: Sequence[str],
    patterns: Sequence[tuple[Pattern, int]],
    u: Sequence[Sequence[float]],
    m_start: Sequence[Sequence[float]],
    prior_start: float,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
    min_matches: float = 10.0,
    fix_prior: bool = False,
    pseudo_pairs: float = 0.0,
    cap_else: bool = False,
) -> LinkageModel:
    """m-probabilities (and, unless `fix_prior`, the prior) by EM over (vector, pairs)
    counts, u held fixed.

    Starts from `m_start` (conf); when the expected number of matches falls below
    `min_matches`, EM has too little to learn from and the start values are kept. With u
    measured over all pairs of people, the prior must be the chance that a random pair
    matches (`fix_prior`): trained on candidate pairs only, which all agree somewhere, it
    would grow until a lone common field looked like a match. `pseudo_pairs` adds that many
    matches spread as `m_start` to every M-step, so a level no likely match happened to show
    (all of them agreeing on e-mail) keeps a finite penalty. `cap_else`: "else" (level 0)
    never likelier among matches than in `m_start`: a sample of other people at our
    customers' addresses would otherwise teach EM that a wrong name is common among matches,
    and then link them."""
    m = [list(_clamp(row)) for row in m_start]
    prior = min(max(prior_start, PRIOR_FLOOR), 1.0 - FLOOR)
    total = sum(n for _, n in patterns)
    converged, iteration = False, 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported below
        post = _posteriors(patterns, m, u, prior)
        matches = sum(p * n for p, (_, n) in zip(post, patterns, strict=True))
        if total == 0 or matches < min_matches:
            m = [list(_clamp(row)) for row in m_start]
            return _model(names, m, u, prior if fix_prior else prior_start, 0, False)
        new_m = []
        for c, row in enumerate(m):
            mass = [pseudo_pairs * x for x in m_start[c]]
            for p, (pattern, n) in zip(post, patterns, strict=True):
                if pattern[c] >= 0:
                    mass[pattern[c]] += p * n
            seen = sum(mass)
            row = list(_clamp([x / seen for x in mass])) if seen > 0 else row
            new_m.append(_else_capped(row, m_start[c]) if cap_else else row)
        new_prior = prior if fix_prior else min(max(matches / total, FLOOR), 1.0 - FLOOR)
        moves = [abs(a - b) for old, new in zip(m, new_m, strict=True) for a, b in zip(old, new)]  # noqa: B905
        change = max(abs(new_prior - prior), *moves)
        m, prior = new_m, new_prior
        if change < tolerance:
            converged = True
            break
    return _model(names, m, u, prior, iteration, converged)


def _else_capped(m: list[float], start: Sequence[float]) -> list[float]:
    """m with level 0 at most `start`'s, the other levels scaled to fill the rest."""
    if m[0] <= start[0]:
        return m
    rest = sum(m[1:])
    if rest <= 0:
        return list(_clamp(start))
    scale = (1.0 - start[0]) / rest
    return list(_clamp([start[0], *[x * scale for x in m[1:]]]))


def _model(names, m, u, prior, iterations, converged) -> LinkageModel:  # noqa: ANN001
    fields = tuple(
        FieldModel(n, tuple(mm), _clamp(uu)) for n, mm, uu in zip(names, m, u, strict=True)
    )
    return LinkageModel(fields, prior, iterations, converged)


def pattern_counts(vectors: DataFrame, gammas: Sequence[str]) -> list[tuple[Pattern, int]]:
    """(vector, pairs) for every distinct comparison vector: EM's whole input, collected."""
    rows = vectors.groupBy(*gammas).agg(F.count(F.lit(1)).alias("n")).collect()
    return [(tuple(int(r[g]) for g in gammas), int(r["n"])) for r in rows]


def match_weight(model: LinkageModel, gammas: Sequence[str]) -> Column:
    """The vector's total weight (bits) as a Column: prior + one CASE per field."""
    total = F.lit(model.prior_weight)
    for f, gamma in zip(model.fields, gammas, strict=True):
        total = total + level_weight(f, F.col(gamma))
    return total


def level_weight(f: FieldModel, level: Column, otherwise: float = 0.0) -> Column:
    """A field's weight at `level` (0..k) as a Column; `otherwise` for any other value: 0
    for missing (-1), as `pattern_weight` counts it."""
    term = F.lit(otherwise)
    for g, w in enumerate(f.weights):
        term = F.when(level == g, F.lit(w)).otherwise(term)
    return term


def agreeing_fields(model: LinkageModel, gammas: Sequence[str]) -> Column:
    """How many fields the vector's levels give evidence for a match (a positive weight): a
    name and a date of birth are two, a customer's address under another name is one."""
    total = F.lit(0)
    for f, gamma in zip(model.fields, gammas, strict=True):
        telling = [g for g, w in enumerate(f.weights) if w > 0]
        total = total + F.when(F.col(gamma).isin(telling), F.lit(1)).otherwise(F.lit(0))
    return total


def match_probability(weight: Column) -> Column:
    """Weight (bits) -> probability, as `probability` does."""
    return F.lit(1.0) / (F.lit(1.0) + F.pow(F.lit(2.0), -weight))
