"""Column types and column lists of the fuzzy tables, in one place: the index, the sample
rows, the candidate pairs and the evidence are written and read by different modules."""

from __future__ import annotations

PAYLOAD_TYPE = "array<array<int>>"
SIGNATURE_TYPE = "array<bigint>"
REFINE_TYPE = "array<bigint>"
BLOCKS_TYPE = "array<struct<rule:string,block_key:bigint,refine_keys:array<bigint>>>"

INDEX_COLUMNS = ["field", "customer_id", "sources", "blocks", "payload", "sig"]
SAMPLE_COLUMNS = [
    "run_id", "line_number", "field", "rule", "block_key", "refine_keys", "payload", "sig",
]  # fmt: skip
PAIR_COLUMNS = [
    "line_number", "field", "rule", "customer_id", "sources", "s_payload", "i_payload", "s_sig",
    "i_sig",
]  # fmt: skip
FUZZY_EVIDENCE_COLUMNS = [
    "line_number", "field", "customer_id", "source", "customers_hit", "method", "score",
]  # fmt: skip
