"""Arrow gram sets per script, µs per name: random two-token names, 10,000 per script, best of
five, Python only (no Spark).

    python benchmarks/bench_grams.py

Run at an earlier commit for the figures before a change to `jobs/match/grams.py`. Figures
only: nothing is asserted.
"""

from __future__ import annotations

import random
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa  # noqa: E402

from benchmarks.bench_builders import best_seconds  # noqa: E402
from jobs.match import fuzzy  # noqa: E402

LATIN = "abcdefghijklmnopqrstuvwxyz"
SCRIPTS = {  # letters, token lengths, CJK flags
    "Latin (ASCII)": (list(LATIN), (3, 10), False),
    "Latin with kept letters": ([*LATIN, *"éøßłñ"], (3, 10), False),
    "Han": ([chr(c) for c in range(0x4E00, 0x4E00 + 3000)], (1, 2), True),
    "Hangul": ([chr(c) for c in range(0xAC00, 0xAC00 + 2000)], (1, 2), True),
    "Arabic": ([chr(c) for c in range(0x0627, 0x064A)], (3, 8), False),
    "Thai": ([chr(c) for c in range(0x0E01, 0x0E2E)], (4, 10), False),
}


def main() -> None:
    hasher = fuzzy.gram_hasher("n2", "k" * 32)
    rng = random.Random(1)
    print(f"{'script':<26}{'µs/name':>8}")
    for script, (letters, (lo, hi), cjk) in SCRIPTS.items():
        rows = [
            ["".join(rng.choices(letters, k=rng.randint(lo, hi))) for _ in range(2)]
            for _ in range(10_000)
        ]
        tokens = pa.array(rows, pa.list_(pa.string()))
        flags = pa.array([[cjk, cjk] for _ in rows], pa.list_(pa.bool_())) if cjk else None
        best = best_seconds(partial(hasher.token_sets, tokens, flags), runs=5)
        print(f"{script:<26}{best / len(rows) * 1e6:>8.2f}")


if __name__ == "__main__":
    main()
