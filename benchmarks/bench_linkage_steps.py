"""Where record linkage's time goes, step by step, on a `make bench` lakehouse.

    python benchmarks/bench_linkage_steps.py LAKEHOUSE [RUN]

LAKEHOUSE: e.g. bench_data/lakehouse_c1000000_s100000, after `make bench`.

Runs the steps of `steps.linkage.write_links` on the run's evidence (RUN, default "bench"),
each one materialised on its own and timed: the compared evidence, the lines' and the
customers' held fields, the comparison vectors, EM, the best customer per line (into the
`noop` sink) and the chance baseline. Prints seconds and rows per step. Nothing is written
but `linkage_u`, when the index build has no u for the current levels yet.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_builders import lakehouse_session  # noqa: E402


def main() -> None:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from jobs import tables as T
    from jobs.io.delta import read_table
    from jobs.match import linkage as lk
    from jobs.steps import linkage as steps_linkage
    from jobs.steps.common import run_table
    from jobs.steps.warehouse_u import warehouse_u

    lakehouse = sys.argv[1]
    run_id = sys.argv[2] if len(sys.argv) > 2 else "bench"
    config, spark = lakehouse_session(lakehouse)
    conf = config.matching.linkage
    normalised = run_table(spark, config, T.NORMALISED, run_id)
    index = read_table(spark, config.table(T.INDEX), needed_by="the linkage bench")
    exact = run_table(spark, config, T.EVIDENCE, run_id)
    fuzzy = run_table(spark, config, T.FUZZY_EVIDENCE, run_id)
    payload_rows = (
        run_table(spark, config, T.SAMPLE_FUZZY, run_id),
        read_table(spark, config.table(T.FUZZY_INDEX), needed_by="the linkage bench"),
    )
    builds = read_table(spark, config.table(T.INDEX_BUILDS), needed_by="the linkage bench")
    built_at = builds.orderBy(F.col("built_at").desc()).first().built_at
    rows: list[tuple[str, float, int | str]] = []

    def timed(step: str, work):
        start = time.perf_counter()
        out = work()
        rows.append((step, time.perf_counter() - start, out if isinstance(out, int) else ""))
        print(f"  {step}: {rows[-1][1]:.1f} s", flush=True)
        return out

    u = warehouse_u(spark, config, built_at)  # read from linkage_u after the first run
    held = steps_linkage._held_fields(spark, config, payload_rows)  # as a claim reads it
    lines = normalised.count()
    small, every_mask = conf.broadcasts(lines), conf.reads_every_mask(lines, u.customers)
    evidence = steps_linkage._evidence(exact, fuzzy)
    compared = steps_linkage._compared(
        config, normalised, index, evidence, payload_rows, held, small, every_mask
    )
    evidence, line_fields, customer_fields = compared
    best, line_fields, customer_fields = (
        df.persist(StorageLevel.MEMORY_AND_DISK)
        for df in (lk.best_levels(evidence, conf.levels), line_fields, customer_fields)
    )
    timed("compared evidence, best levels", best.count)
    timed("lines' held fields", line_fields.count)
    timed("customers' held fields", customer_fields.count)
    vectors = lk.vectors_of(best, line_fields, customer_fields, conf.levels, small)
    vectors = vectors.persist(StorageLevel.MEMORY_AND_DISK)
    timed("comparison vectors", vectors.count)
    prior = lk.random_pair_prior(conf, u.customers)
    model = timed("EM", lambda: lk.train(vectors, conf, u.exact, prior, u.measured))
    gammas = [lk.gamma(f) for f in conf.levels]
    links = lk.best_per_line(lk.scored_pairs(vectors, model), extra=gammas).persist()
    strict = F.col("match_probability") >= conf.threshold
    confident = timed("best customer per line", lambda: links.filter(strict).count())
    share = lk.sample_share(confident, lines, conf)
    shuffled = steps_linkage._repaired_vectors(
        normalised, best, line_fields, customer_fields, conf, model, share, small
    )
    at_random = lk.best_per_line(lk.scored_pairs(shuffled, model), extra=gammas)
    timed(
        "chance baseline (lines linked)",
        lambda: at_random.filter(lk.linked(model, conf, share)).count(),
    )
    masks = "every customer's held mask" if every_mask else "the candidates' held masks"
    print(f"\nrecord linkage of run {run_id!r}, {lakehouse}; EM {model.em_iterations} iterations; "
          f"lines' payloads {'broadcast' if small else 'shuffled'}; {masks}")  # fmt: skip
    print(f"{'step':<32}{'s':>8}{'rows':>14}")
    for step, seconds, n in rows:
        print(f"{step:<32}{seconds:>8.1f}{n:>14,}" if n != "" else f"{step:<32}{seconds:>8.1f}")
    print(f"{'total':<32}{sum(s for _, s, _ in rows):>8.1f}")


if __name__ == "__main__":
    main()
