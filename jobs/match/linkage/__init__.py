"""Record-level linkage: each candidate (line, customer) pair gets a comparison vector, one
level per field, and a Fellegi–Sunter match probability from weights trained per run."""

from jobs.match.linkage.chance import permutations, repaired
from jobs.match.linkage.compare import (
    ADDRESS_PARTS,
    CONTAINED,
    LONE,
    address_evidence_parts,
    address_presence,
    compared_pairs,
    line_birth_payloads,
    lowest_level,
    part_presence,
    payloads,
    telling_zero_parts,
    without_silent_zeros,
)
from jobs.match.linkage.links import LINK_COLUMNS, best_per_line, exact_u, one_to_one
from jobs.match.linkage.model import (
    FieldModel,
    LinkageModel,
    level_shares,
    match_probability,
    match_weight,
    pattern_counts,
    probability,
    train_em,
)
from jobs.match.linkage.random_u import measured_u, random_pair_scores
from jobs.match.linkage.train import (
    linked,
    random_pair_prior,
    sample_share,
    scored_pairs,
    start_values,
    train,
)
from jobs.match.linkage.vectors import (
    comparison_vectors,
    customer_fields_of,
    gamma,
    held_mask,
    line_fields_of,
    parts_of,
)

__all__ = [
    "ADDRESS_PARTS",
    "CONTAINED",
    "LONE",
    "address_evidence_parts",
    "address_presence",
    "compared_pairs",
    "line_birth_payloads",
    "lowest_level",
    "part_presence",
    "payloads",
    "telling_zero_parts",
    "without_silent_zeros",
    "measured_u",
    "random_pair_scores",
    "LINK_COLUMNS",
    "best_per_line",
    "exact_u",
    "one_to_one",
    "permutations",
    "repaired",
    "comparison_vectors",
    "customer_fields_of",
    "gamma",
    "held_mask",
    "line_fields_of",
    "parts_of",
    "FieldModel",
    "LinkageModel",
    "level_shares",
    "match_probability",
    "match_weight",
    "pattern_counts",
    "probability",
    "linked",
    "random_pair_prior",
    "sample_share",
    "scored_pairs",
    "start_values",
    "train",
    "train_em",
]
