"""Array helpers the generator's numpy code shares."""

from __future__ import annotations

import numpy as np


def isin_sorted(values: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Membership via searchsorted (numpy's hash-based isin/unique are slow on int64)."""
    if not sorted_ref.size:
        return np.zeros(len(values), bool)
    pos = np.minimum(np.searchsorted(sorted_ref, values), len(sorted_ref) - 1)
    return sorted_ref[pos] == values
