"""generate(): the warehouse, the sample and its truth, from one seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.demo.locales import HOT_NAMES
from tools.demo.sample import FORMATS
from tools.demo.truth import SampleSpec, write_sample
from tools.demo.vocab import cached_vocab
from tools.demo.warehouse import draw_customers, write_warehouse


def generate(
    out: Path,
    customers: int = 2000,
    sample_lines: int = 500,
    planted_share: float = 0.3,
    broken: int = 10,
    fuzzy_share: float = 0.0,
    hot_names: int = 0,
    fabricated_only: bool = False,
    seed: int = 42,
    sample_format: str = "semicolon",
    gzip: bool = False,
    multinational: bool = False,
) -> dict:
    """Write DIR/warehouse, DIR/sample and DIR/truth.*; the same arguments give the same bytes.

    multinational: the sample is several files as sellers write them (tools.demo.intl), not
    one file of `sample_format`."""
    if sample_format not in FORMATS:
        raise ValueError(f"sample_format must be one of {sorted(FORMATS)}")
    if hot_names > len(HOT_NAMES):
        raise ValueError(f"at most {len(HOT_NAMES)} hot names")
    out = Path(out)
    s_cust, s_chunks, s_sample = np.random.SeedSequence(seed).spawn(3)
    vocab, n = cached_vocab(seed), customers
    cust = draw_customers(vocab, np.random.default_rng(s_cust), n, hot_names)
    n_broken = min(broken, sample_lines)
    n_planted = 0 if fabricated_only else min(n, round(planted_share * (sample_lines - n_broken)))
    n_fab = sample_lines - n_broken - n_planted
    srng = np.random.default_rng(s_sample)
    planted_ids = np.sort(srng.choice(n, n_planted, replace=False)) + 1
    picked, counts, addr_keys = write_warehouse(out, vocab, cust, planted_ids, s_chunks)
    spec = SampleSpec(n_fab, n_broken, fuzzy_share, sample_format, gzip, multinational)
    truth = write_sample(out, vocab, cust, picked, addr_keys, spec, srng)
    return {
        "customers": n,
        **counts,
        "warehouse": str(out / "warehouse"),
        "sample": str(out / truth["sample"]),
        "sample_files": [str(out / "sample" / f) for f in truth["files"]],
        "truth": str(out / "truth.csv"),
        "sample_lines": truth["lines"],
        "planted": n_planted,
        "fabricated": n_fab,
        "broken": n_broken,
    }
