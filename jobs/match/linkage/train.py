"""A run's linkage model, from its comparison vectors and the warehouse, and the scored
pairs: conf levels -> start values, key frequencies -> exact u, customers -> the prior, EM -> m."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.match.linkage.model import (
    FieldModel,
    LinkageModel,
    agreeing_fields,
    level_weight,
    match_probability,
    match_weight,
    pattern_counts,
    train_em,
)
from jobs.match.linkage.vectors import PAIR, gamma
from jobs.settings import LinkageConf


def start_values(
    conf: LinkageConf,
    exact_u: Mapping[str, float],
    measured_u: Mapping[tuple[str, str], float] | None = None,
) -> tuple[list[str], list[list[float]], list[list[float]]]:
    """(fields, u, m) per level 0..k, level k the first listed: conf's m and u, the exact
    level's u from the warehouse (`exact_u`, per field), a compared level's from random
    warehouse pairs (`measured_u`, per (field, level)), "else" taking what remains."""
    measured = measured_u or {}
    names, us, ms = [], [], []
    for field, levels in conf.fields:
        ordered = list(reversed(levels))  # level 1 first
        u = [
            measured.get((field, lv.name), exact_u.get(field, 1e-6) if lv.u is None else lv.u)
            for lv in ordered
        ]
        m = [lv.m for lv in ordered]
        names.append(field)
        us.append([max(1.0 - sum(u), 1e-6), *u])
        ms.append([max(1.0 - sum(m), 1e-6), *m])
    return names, us, ms


def random_pair_prior(conf: LinkageConf, customers: int) -> float:
    """The chance that a random (line, customer) pair matches, when `matched_share` of the
    lines are some customer's: matched_share / customers."""
    return conf.matched_share / max(customers, 1)


def train(
    vectors: DataFrame,
    conf: LinkageConf,
    exact_u: Mapping[str, float],
    prior: float | None = None,
    measured_u: Mapping[tuple[str, str], float] | None = None,
) -> LinkageModel:
    """The model of one run: EM over its vectors' pattern counts (one small collect). With
    `prior` (a random pair's, `random_pair_prior`) EM trains m only; without, it trains the
    prior too, from 0.5 (for vectors of pairs drawn at random, as in tests)."""
    names, us, ms = start_values(conf, exact_u, measured_u)
    patterns = pattern_counts(vectors, [gamma(f) for f in names])
    return train_em(
        names,
        patterns,
        us,
        ms,
        0.5 if prior is None else prior,
        conf.max_iterations,
        min_matches=conf.min_matches,
        fix_prior=prior is not None,
        pseudo_pairs=conf.m_pseudo_pairs,
        cap_else=conf.cap_else,
    )


def scored_pairs(vectors: DataFrame, model: LinkageModel) -> DataFrame:
    """Vectors -> the same rows with `match_weight` (bits) and `match_probability`."""
    gammas = [gamma(f.name) for f in model.fields]
    weight = match_weight(model, gammas)
    return vectors.select(
        *PAIR,
        *gammas,
        weight.alias("match_weight"),
        match_probability(weight).alias("match_probability"),
    )


def sample_share(confident: int, lines: int, conf: LinkageConf) -> float:
    """The share of the sample's lines that are our customers, as the lines linked at
    `threshold` show it (at least one line, at most conf's `matched_share`): the prior the
    lower bar is judged under, as Splink estimates it from the pairs a strict rule matches."""
    return min(max(confident, 1) / max(lines, 1), conf.matched_share)


def linked(model: LinkageModel, conf: LinkageConf, share: float | None = None) -> Column:
    """Whether a scored pair (with its gamma columns) links: a probability of at least
    `threshold`, or of `corroborated_threshold` where `corroborating_fields` fields each give
    evidence for the customer, the prior then taken from `share` (`sample_share`; conf's
    `matched_share` when None). One field alone (a customer's address under another name: a
    relative, the next tenant, a decoy) is what the high bar guards against; two fields that
    agree independently, in a sample whose lines are ours, make the customer more likely
    than not enough. A made-up sample links next to nothing at the high bar, so its prior
    falls and a lone coincidence of two fields among a million customers stays unlinked."""
    agreeing = agreeing_fields(model, [gamma(f.name) for f in model.fields])
    lower = match_probability(F.col("match_weight") + F.lit(_shift(model, conf, share)))
    corroborated = (lower >= conf.corroborated_threshold) & (agreeing >= conf.corroborating_fields)
    return (F.col("match_probability") >= conf.threshold) | corroborated


def _shift(model: LinkageModel, conf: LinkageConf, share: float | None) -> float:
    """The weight (bits) the lower bar's prior adds to a pair's: <= 0, as share <= conf's."""
    ratio = 1.0 if share is None else share / conf.matched_share
    return replace(model, prior=model.prior * ratio).prior_weight - model.prior_weight


def _bits(p: float) -> float:
    """Probability -> the weight (bits) at which `match_probability` reaches it."""
    return math.inf if p >= 1.0 else -math.inf if p <= 0.0 else math.log2(p / (1.0 - p))


def may_link(model: LinkageModel, conf: LinkageConf, share: float | None = None) -> Column:
    """Whether a `best_levels` row (its `_<field>` levels; null where no evidence reached a
    level) can link at all (`linked`): its weight, each field without a level counted at the
    most it can still weigh (missing, 0 bits, or "else"), reaches the lower of the two bars.
    The chance baseline drops the pairs that cannot before it makes their vectors: nearly all
    of its re-paired pairs, which would only be scored and found unlinked. Every pair that
    can link still ranks above every dropped one, so each line's best and the one-to-one
    assignment of linkable pairs are unchanged."""
    bar = _bar(model, conf, share)
    if not math.isfinite(bar):  # p 1.0 is met where a weight rounds p to 1.0: keep all
        return F.lit(True)
    bound = F.lit(model.prior_weight)
    for f in model.fields:
        bound = bound + level_weight(f, F.col(f"_{f.name}"), _unlevelled(f))
    return bound >= F.lit(bar - 1e-6)  # a margin for the rounding of the weights' sums


def levelless_may_link(model: LinkageModel, conf: LinkageConf, share: float | None = None) -> bool:
    """Whether a pair with no field at any level (each "else" or missing) passes `may_link`:
    never under a prior below the bar and "else" weights <= 0, as EM and conf give them. Only
    then may the chance baseline leave such pairs out before it moves them
    (`chance.levelled_fields`)."""
    bar = _bar(model, conf, share)
    top = model.prior_weight + sum(_unlevelled(f) for f in model.fields)
    return not math.isfinite(bar) or top >= bar - 1e-6


def _unlevelled(f: FieldModel) -> float:
    """The most a field without a level can still weigh: missing (0 bits) or "else"."""
    return max(f.weights[0], 0.0)


def _bar(model: LinkageModel, conf: LinkageConf, share: float | None) -> float:
    """The lower of `linked`'s two bars, in bits of match weight."""
    return min(
        _bits(conf.threshold), _bits(conf.corroborated_threshold) - _shift(model, conf, share)
    )
