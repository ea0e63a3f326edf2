"""Fuzzy matching on keyed hashes: near-equal names and addresses, weak e-mail/phone levels.

Values are compared as sets of keyed q-gram hashes, so near-equal values ("Jonh Smith",
"John Smith") are found without raw PII in the index or at cross-check time; pairs are only
made inside blocks (hashed keys with a budget of pairs each), so the work grows with the
matches, not with sample x warehouse. The reasoning at length: docs/fuzzy.md.
"""

from __future__ import annotations

from jobs.match.fuzzy.candidates import candidate_pairs, drop_exact, fuzzy_candidates
from jobs.match.fuzzy.hashes import gram_hash, gram_hasher, py_gram_hash
from jobs.match.fuzzy.index import (
    fuzzy_index,
    fuzzy_index_of,
    fuzzy_rows_of_parts,
    fuzzy_sample_rows,
    index_blocks,
)
from jobs.match.fuzzy.payloads import (
    name_token_sets,
    native_name_token_sets,
    native_street_gram_set,
    native_token_gram_hashes,
    signature,
    street_gram_set,
    token_gram_hashes,
)
from jobs.match.fuzzy.plan import BlockingPlan, fuzzy_blocking_diagnostics, plan_blocking
from jobs.match.fuzzy.schema import (
    BLOCKS_TYPE,
    FUZZY_EVIDENCE_COLUMNS,
    INDEX_COLUMNS,
    PAYLOAD_TYPE,
    SAMPLE_COLUMNS,
    SIGNATURE_TYPE,
)
from jobs.match.fuzzy.score import UNROLLED_TOKENS, dice, dice_bound, name_bound, name_similarity
from jobs.match.fuzzy.translit import skeleton, transliterate

__all__ = [
    # tables
    "BLOCKS_TYPE",
    "FUZZY_EVIDENCE_COLUMNS",
    "INDEX_COLUMNS",
    "PAYLOAD_TYPE",
    "SAMPLE_COLUMNS",
    "SIGNATURE_TYPE",
    # index and sample rows
    "fuzzy_index",
    "fuzzy_index_of",
    "fuzzy_rows_of_parts",
    "fuzzy_sample_rows",
    "index_blocks",
    # blocking plan
    "BlockingPlan",
    "fuzzy_blocking_diagnostics",
    "plan_blocking",
    # candidates and evidence
    "candidate_pairs",
    "drop_exact",
    "fuzzy_candidates",
    # column builders
    "gram_hash",
    "gram_hasher",
    "py_gram_hash",
    "name_token_sets",
    "native_name_token_sets",
    "native_street_gram_set",
    "native_token_gram_hashes",
    "signature",
    "street_gram_set",
    "token_gram_hashes",
    "skeleton",
    "transliterate",
    "UNROLLED_TOKENS",
    "dice",
    "dice_bound",
    "name_bound",
    "name_similarity",
]
