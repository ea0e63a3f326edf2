"""`make bench`: wall time and peak memory of each pipeline stage on generated data.

Peak memory is the highest resident set of the whole process tree (Python driver + JVM),
sampled every 0.2 s. Figures are printed, never asserted: a benchmark informs, a test decides.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class PeakMemory:
    """Background sampler of the RSS of this process and all its children."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.interval)

    def reset(self) -> None:
        self.peak = self._rss()

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()


def ensure_data(root: Path, customers: int, sample_lines: int) -> Path:
    from jobs.demo import generate

    out = root / f"c{customers}_s{sample_lines}"
    if not (out / "truth.json").exists():
        t = time.perf_counter()
        generate(out, customers=customers, sample_lines=sample_lines, planted_share=0.02,
                 broken=50, fuzzy_share=0.1, hot_names=3, seed=11)  # fmt: skip
        print(f"generated {customers:,} customers / {sample_lines:,} lines in "
              f"{time.perf_counter() - t:.0f} s -> {out}")  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sample-lines", type=int, default=100_000)
    parser.add_argument("--data", default="bench_data")
    parser.add_argument("--driver-memory", default="12g")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    from jobs import log
    from jobs import pipeline as pl
    from jobs.config import load_config
    from jobs.session import build_session

    data = ensure_data(Path(args.data), args.customers, args.sample_lines)
    lakehouse = Path(args.data) / f"lakehouse_c{args.customers}_s{args.sample_lines}"
    wh = data / "warehouse"
    config = load_config(
        overrides=[
            f"lakehouse={lakehouse}",
            f"warehouse.customers.path={wh}/customers",
            f"warehouse.addresses.path={wh}/addresses",
            f"warehouse.orders.path={wh}/orders",
            "spark.conf.spark.sql.shuffle.partitions=8",
            f"spark.conf.spark.driver.memory={args.driver_memory}",
        ]
    )
    log.setup_logging(open(os.devnull, "w"))  # noqa: SIM115 - figures only on stdout
    spark = build_session(master="local[2]", conf=config.spark_conf)
    run_id = "bench"
    stages = [
        ("index build", lambda: pl.ingest_warehouse(spark, config, rebuild=True)),
        ("sample ingest + normalise", lambda: pl.ingest_sample(spark, config, str(data / "sample"), run_id)),
        ("cross-check", lambda: pl.run_crosscheck(spark, config, run_id)),
        ("report", lambda: pl.make_report(spark, config, run_id)),
    ]  # fmt: skip
    rows = []
    with PeakMemory() as mem:
        total = time.perf_counter()
        for name, fn in stages:
            mem.reset()
            t = time.perf_counter()
            result = fn()
            rows.append((name, time.perf_counter() - t, mem.peak))
        total = time.perf_counter() - total
    print(f"\ncrosscheck bench: {args.customers:,} customers, {args.sample_lines:,} sample lines, "
          f"local[2]")  # fmt: skip
    print(f"{'stage':<28}{'wall s':>10}{'peak RSS GiB':>14}")
    for name, seconds, peak in rows:
        print(f"{name:<28}{seconds:>10.1f}{peak / 2**30:>14.2f}")
    print(f"{'whole pipeline':<28}{total:>10.1f}{max(r[2] for r in rows) / 2**30:>14.2f}")
    print(f"verdict: {result['verdict']['code']}")
    spark.stop()


if __name__ == "__main__":
    main()
