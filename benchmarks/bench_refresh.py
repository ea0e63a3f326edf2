"""The index refreshed after a few customers changed, against a full build of the same index.

    python benchmarks/bench_refresh.py [--customers N] [--share 0.01]

`make bench` runs `refresh_pass` after the pipeline, on the index it just built; run alone,
this script builds the index whole first (timed), on the bench's data at that size.

The changed customers (`share` of them, picked by a hash of their id) get a new e-mail
address, in a copy of the customers' table written once beside the bench's data. The
nightly job then refreshes the index for them (`ingest_warehouse` without `rebuild`: the
customers' fingerprints name them). A second refresh reads the original table again, so the
lakehouse still matches the bench's data, and is timed too.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench import (  # noqa: E402
    PeakMemory,
    StageLog,
    bench_config,
    ensure_data,
    stage_label,
)

TARGET = 0.15  # a refresh with 1 % of customers changed: at most this share of a full build


def changed_customers_table(spark, config, share: float, root: Path) -> str:
    """The customers' table with `share` of them given a new e-mail address, written once."""
    from pyspark.sql import functions as F

    source = config.warehouse["customers"]
    target = root / f"customers_changed_{share:g}"
    if not (target / "_SUCCESS").exists():
        cid, email = source.columns["customer_id"], source.columns["email"]
        picked = F.pmod(F.xxhash64(F.col(cid).cast("string")), F.lit(10_000)) < round(
            share * 10_000
        )
        moved = F.concat(F.lit("moved."), F.col(cid).cast("string"), F.lit("@example.net"))
        df = spark.read.format(source.format).load(source.path)
        new = df.withColumn(email, F.when(picked, moved).otherwise(F.col(email)))
        new.write.mode("overwrite").parquet(str(target))
    return str(target)


def refresh_pass(
    spark, config, stage_log: StageLog, full_seconds: float, share: float, root: Path
) -> None:
    """Refresh the index for `share` of the customers changed, then back; prints both times,
    the refresh's sub-stages and its share of the full build (`full_seconds`)."""
    from jobs import steps as pl

    source = config.warehouse["customers"]
    path = changed_customers_table(spark, config, share, root)
    moved = dataclasses.replace(
        config,
        warehouse={**config.warehouse, "customers": dataclasses.replace(source, path=path)},
    )
    out = {}
    with PeakMemory() as mem:
        for name, conf in (("refresh", moved), ("refresh back", config)):
            first = len(stage_log.finished)
            start = time.perf_counter()
            done = pl.ingest_warehouse(spark, conf)
            seconds = time.perf_counter() - start
            stages = [r for r in stage_log.finished[first:] if r["stage"] != "ingest-warehouse"]
            out[name] = (seconds, done, stages)
    seconds, done, stages = out["refresh"]
    refreshed = done.get("customers_refreshed", 0)
    ratio = f"{seconds / full_seconds:.2f} x the full build's {full_seconds:.1f} s"
    print(f"index refresh, {share:.0%} of customers changed: {refreshed:,} customers refreshed "
          f"({done.get('mode')}) in {seconds:.1f} s = {ratio} (target <= {TARGET}); back in "
          f"{out['refresh back'][0]:.1f} s ({out['refresh back'][1].get('mode')}); "
          f"peak RSS {mem.peak / 2**30:.2f} GiB")  # fmt: skip
    print("  of which: " + ", ".join(f"{stage_label(r)} {float(r.get('seconds', 0)):.1f}"
                                     for r in stages))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sample-lines", type=int, default=0, help="default: customers / 10")
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--data", default="bench_data")
    parser.add_argument("--driver-memory", default="12g")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from jobs import log
    from jobs import steps as pl
    from jobs.session import build_session

    lines = args.sample_lines or max(args.customers // 10, 1000)
    data = ensure_data(Path(args.data), args.customers, lines)
    config = bench_config(args, args.customers, lines, data)
    stage_log = StageLog()
    log.setup_logging(stage_log)
    spark = build_session(master="local[2]", conf=config.spark_conf)
    start = time.perf_counter()
    pl.ingest_warehouse(spark, config, rebuild=True)
    full = time.perf_counter() - start
    print(f"index build, full: {full:.1f} s")
    refresh_pass(spark, config, stage_log, full, args.share, data)
    spark.stop()


if __name__ == "__main__":
    main()
