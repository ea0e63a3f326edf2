"""What the signature bound saves in `fuzzy_candidates`, on a `make bench` lakehouse.

    python benchmarks/bench_candidates.py LAKEHOUSE      # e.g. bench_data/lakehouse_c100000_s10000

Prints, for the name pairs of run "bench": pairs, pairs scoring at the threshold, pairs passing
the bound, bound violations (must be 0); then `fuzzy_candidates` into the `noop` sink, best of
two runs in one warm JVM, as it is, without the bound, and with the score filter left free to be
pushed into the join. Figures only: nothing is asserted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_builders import best_of, lakehouse_session  # noqa: E402


def main() -> None:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import functions as F

    from jobs.match import fuzzy
    from jobs.match.fuzzy import candidates as fz_candidates
    from jobs.match.fuzzy import score as fz_score

    lakehouse = sys.argv[1]
    config, spark = lakehouse_session(lakehouse)
    conf = config.matching
    index = spark.read.format("delta").load(config.table("fuzzy_index"))
    sample = spark.read.format("delta").load(config.table("sample_fuzzy"))
    sample = sample.filter(F.col("run_id") == "bench")
    plan = fuzzy.plan_blocking(sample, index, conf).persist()

    pairs = fuzzy.candidate_pairs(sample, plan).filter(F.col("field") == "name")
    a, b, sa, sb = (F.col(c) for c in ("s_payload", "i_payload", "s_sig", "i_sig"))
    threshold = min(r.threshold for r in conf.for_field("name"))
    score = fuzzy.name_similarity(a, b, conf.initial_score)
    bound = fuzzy.name_bound(a, b, sa, sb, conf.initial_score)
    counts = pairs.select(score.alias("s"), bound.alias("b")).agg(
        F.count(F.lit(1)).alias("pairs"),
        F.count(F.when(F.col("s") >= threshold, 1)).alias("matching"),
        F.count(F.when(F.col("b") >= threshold, 1)).alias("passing"),
        F.count(F.when(F.col("s") > F.col("b"), 1)).alias("violations"),
    )
    r = counts.first()
    print(f"name pairs {r.pairs:,}: score >= {threshold} {r.matching:,} "
          f"({r.matching / max(r.pairs, 1):.2%}), bound >= {threshold} {r.passing:,} "
          f"({r.passing / max(r.pairs, 1):.2%}), bound below score {r.violations}")  # fmt: skip

    def candidates_seconds() -> float:
        return best_of(fuzzy.fuzzy_candidates(sample, index, conf, plan=plan), runs=2)

    print(f"fuzzy_candidates as is:                 {candidates_seconds():6.1f} s")
    # The bound is read by `score.pair_scores`, the filter wrapper by `fuzzy_candidates`.
    bound_fn, not_pushed = fz_score._bound, fz_candidates._not_pushed
    fz_score._bound = lambda *args: None
    print(f"  without the bound:                    {candidates_seconds():6.1f} s")
    fz_score._bound, fz_candidates._not_pushed = bound_fn, lambda condition: condition
    print(f"  score filter pushed into the join:    {candidates_seconds():6.1f} s")
    fz_candidates._not_pushed = not_pushed
    plan.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
