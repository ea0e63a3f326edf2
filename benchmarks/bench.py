"""`make bench`: wall time and peak memory of each pipeline stage on generated data.

Peak memory is the highest resident set of the whole process tree (Python driver + JVM +
Python workers), sampled every 0.2 s. Figures are printed, never asserted: a benchmark
informs, a test decides.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Sampler:
    """Calls `_sample` every `interval` seconds in a background thread, inside a `with`."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()  # its readings are final once the `with` ends


class PeakMemory(Sampler):
    """Background sampler of the RSS of this process and all its children: the whole tree's
    peak, and apart the JVMs' (driver, and executors on a cluster) and the Python processes'
    (this driver and Spark's Python workers), each the peak of its own sum."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(interval)
        self.peak = self.jvm = self.python = 0

    def _rss(self) -> tuple[int, int]:
        """(JVM, Python) RSS of this process and its children alive for at least a second. A
        process the JVM spawns (Hadoop's local file system runs `chmod`) shows the whole JVM's
        resident pages as its own until it execs: counted, one such child doubled the figure."""
        me = psutil.Process()
        jvm, python = 0, me.memory_info().rss
        now = time.time()
        for child in me.children(recursive=True):
            try:
                if now - child.create_time() >= 1.0:
                    rss = child.memory_info().rss
                    if child.name().startswith("java"):
                        jvm += rss
                    else:
                        python += rss
            except psutil.Error:
                pass
        return jvm, python

    def _sample(self) -> None:
        jvm, python = self._rss()
        self.peak = max(self.peak, jvm + python)
        self.jvm, self.python = max(self.jvm, jvm), max(self.python, python)

    def reset(self) -> None:
        self.peak = self.jvm = self.python = 0
        self._sample()


def ensure_data(root: Path, customers: int, sample_lines: int, fabricated: bool = False) -> Path:
    """The bench's data at one size; `fabricated`: the same generator's sample of fabricated
    lines only."""
    from tools.demo import generate

    out = root / f"c{customers}_s{sample_lines}{'_fabricated' if fabricated else ''}"
    if not (out / "truth.json").exists():
        t = time.perf_counter()
        generate(out, customers=customers, sample_lines=sample_lines, planted_share=0.02,
                 broken=50, fuzzy_share=0.1, hot_names=3, fabricated_only=fabricated,
                 seed=11)  # fmt: skip
        print(f"generated {customers:,} customers / {sample_lines:,} lines in "
              f"{time.perf_counter() - t:.0f} s -> {out}")  # fmt: skip
    return out


class StageLog(io.TextIOBase):
    """Collects the pipeline's JSON log lines, to split the quality checks out of the ingest
    stages they run in (they are timed there as stage `quality`)."""

    def __init__(self) -> None:
        self.finished: list[dict] = []  # every finished (sub-)stage, in order
        self.scoring = 0.0  # record linkage's scoring and its chance baseline, seconds

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("msg") == "stage finished":
                    self.finished.append(record)
                    self._progress(record)
                    if record.get("stage") in ("linkage", "linkage-chance"):
                        self.scoring += float(record.get("seconds", 0))
        return len(text)

    @staticmethod
    def _progress(record: dict) -> None:
        """One line per finished (sub-)stage on stderr: a long run shows where it is."""
        extra = {k: v for k, v in record.items() if k not in ("ts", "level", "msg", "stage")}
        print(f"  {record['ts']} {record['stage']}: {extra}", file=sys.stderr, flush=True)

    def quality_seconds(self, first: int) -> float:
        """Seconds of the quality checks finished since `finished[first]`."""
        done = self.finished[first:]
        return sum(float(r.get("seconds", 0)) for r in done if r.get("stage") == "quality")


def bench_config(args: argparse.Namespace, customers: int, sample_lines: int, data: Path):
    """The pipeline's config on the bench's data and lakehouse at one size."""
    from jobs.settings import load_config

    lakehouse = Path(args.data) / f"lakehouse_c{customers}_s{sample_lines}"
    wh = data / "warehouse"
    return load_config(
        overrides=[
            f"lakehouse={lakehouse}",
            f"warehouse.customers.path={wh}/customers",
            f"warehouse.addresses.path={wh}/addresses",
            f"warehouse.orders.path={wh}/orders",
            f"spark.conf.spark.sql.shuffle.partitions={args.shuffle_partitions}",
            f"spark.conf.spark.driver.memory={args.driver_memory}",
        ]
    )


def run_size(args: argparse.Namespace, customers: int, sample_lines: int) -> tuple[dict, dict]:
    """One pipeline run at one size; per stage (wall seconds, peak RSS bytes)."""
    from jobs import log
    from jobs import steps as pl
    from jobs.session import build_session

    data = ensure_data(Path(args.data), customers, sample_lines)
    config = bench_config(args, customers, sample_lines, data)
    stage_log = StageLog()
    log.setup_logging(stage_log)
    spark = build_session(master="local[2]", conf=config.spark_conf)
    run_id = "bench"
    stages = [
        ("index build", lambda: pl.ingest_warehouse(spark, config, rebuild=True)),
        ("sample ingest + normalise",
         lambda: pl.ingest_sample(spark, config, str(data / "sample"), run_id)),
        ("cross-check", lambda: pl.run_crosscheck(spark, config, run_id)),
        ("report", lambda: pl.make_report(spark, config, run_id)),
    ]  # fmt: skip
    if args.crosscheck_only:  # the index and sample of an earlier run at this size, as they are
        stages = stages[2:]
    out: dict[str, tuple[float, int, int, int]] = {}  # seconds, peak, JVM peak, Python peak
    subs: dict[str, list[dict]] = {}
    walls: dict[str, float] = {}  # with the GX suites run inside a stage
    quality_total, quality_peaks = 0.0, (0, 0, 0)
    with PeakMemory() as mem:
        total = time.perf_counter()
        for name, fn in stages:
            mem.reset()
            first = len(stage_log.finished)
            t = time.perf_counter()
            result = fn()
            seconds = walls[name] = time.perf_counter() - t
            quality = stage_log.quality_seconds(first)
            quality_total += quality
            peaks = (mem.peak, mem.jvm, mem.python)
            if quality:
                quality_peaks = tuple(max(a, b) for a, b in zip(quality_peaks, peaks, strict=True))
            out[name] = (seconds - quality, *peaks)
            subs[name] = stage_log.finished[first:]
        out["validation (GX suites)"] = (quality_total, *quality_peaks)
        whole = time.perf_counter() - total
        out["whole pipeline"] = (whole, *(max(v[i] for v in out.values()) for i in (1, 2, 3)))
    claim = [k for k in CLAIM_TIME if k in walls]
    out["claim-time path"] = (sum(walls[k] for k in claim), *(max(out[k][i] for k in claim)
                                                             for i in (1, 2, 3)))  # fmt: skip
    print(f"\ncrosscheck bench: {customers:,} customers, {sample_lines:,} sample lines, local[2]")
    print(f"{'stage':<28}{'wall s':>10}{'peak RSS GiB':>14}{'JVM':>8}{'Python':>8}")
    for name, (seconds, peak, jvm, python) in out.items():
        gib = [f"{v / 2**30:.2f}" for v in (peak, jvm, python)]
        print(f"{name:<28}{seconds:>10.1f}{gib[0]:>14}{gib[1]:>8}{gib[2]:>8}")
    print("(index build and sample ingest exclude the GX suites run inside them: see validation;"
          " the claim-time path is sample ingest through report, GX included)")  # fmt: skip
    print_sub_stages(subs)
    if args.crosscheck_only:
        print("(--crosscheck-only: the index and sample an earlier run left; whole = cross-check "
              "+ report)")  # fmt: skip
    fields = result["fields"]
    print("lines matched exact/fuzzy per field: "
          + ", ".join(f"{f} {v['lines_matched_exact']}/{v['lines_matched_fuzzy']}"
                      for f, v in fields.items())
          + f"; verdict {result['verdict']['code']}")  # fmt: skip
    xc = out["cross-check"][0]
    print(f"record-level scoring (linkage + its chance baseline): {stage_log.scoring:.1f} s of the "
          f"cross-check's {xc:.1f} s; cross-check / cross-check without it: "
          f"{xc / max(xc - stage_log.scoring, 1e-9):.2f} (target <= 1.5)")  # fmt: skip
    if not args.no_fabricated:
        fabricated_pass(spark, config, customers, sample_lines, Path(args.data))
    if not args.no_refresh and "index build" in walls:
        from benchmarks.bench_refresh import refresh_pass

        refresh_pass(spark, config, stage_log, walls["index build"], 0.01, data)
    stop_jvm(spark)
    log.setup_logging(open(os.devnull, "w"))  # noqa: SIM115
    return out, fields


def stage_label(record: dict) -> str:
    """A sub-stage's name, with the suite for the quality checks."""
    return " ".join(str(x) for x in (record["stage"], record.get("suite")) if x)


def print_sub_stages(subs: dict[str, list[dict]]) -> None:
    """Each stage's sub-stages from the pipeline's log: seconds, rows and µs per row; and the
    sample's fuzzy rows per line against the fuzzy index's per customer."""
    print(f"\n{'sub-stage':<36}{'s':>9}{'rows':>13}{'µs/row':>10}")
    per_row: dict[str, float] = {}
    for name, records in subs.items():
        print(name)
        for r in records:
            seconds, rows = float(r.get("seconds", 0)), r.get("rows")
            us = f"{seconds / rows * 1e6:.1f}" if isinstance(rows, int) and rows else "-"
            rows_text = f"{rows:,}" if isinstance(rows, int) else "-"
            print(f"  {stage_label(r):<34}{seconds:>9.1f}{rows_text:>13}{us:>10}")
            if isinstance(rows, int) and rows:
                per_row.setdefault(r["stage"], seconds / rows * 1e6)
    if "fuzzy-sample" in per_row and "fuzzy-index" in per_row:
        sample, index = per_row["fuzzy-sample"], per_row["fuzzy-index"]
        print(f"fuzzy-sample {sample:.1f} µs per line, fuzzy-index {index:.1f} µs per customer: "
              f"{sample / index:.2f} (target <= 1)")  # fmt: skip


def fabricated_pass(spark, config, customers: int, sample_lines: int, root: Path) -> None:
    """A sample of fabricated lines only (the generator's same seed, no planted line) against
    the index just built: lines linked next to their chance baseline, and the verdict, which
    must never be MATCH."""
    from jobs import steps as pl

    out = ensure_data(root, customers, sample_lines, fabricated=True)
    t = time.perf_counter()
    pl.ingest_sample(spark, config, str(out / "sample"), "bench-fabricated")
    pl.run_crosscheck(spark, config, "bench-fabricated")
    report = pl.make_report(spark, config, "bench-fabricated")
    lines = report["lines"]
    linked, chance = lines.get("linked") or 0, float(lines.get("linked_by_chance") or 0)
    ratio = f"{linked / chance:.2f}" if chance else ("-" if linked == 0 else "inf")
    print(f"fabricated sample ({sample_lines:,} lines, {time.perf_counter() - t:.0f} s): "
          f"{linked} lines linked, chance baseline {chance:.1f}, linked / chance {ratio} "
          f"(target <= 1.5); verdict {report['verdict']['code']} (must not be MATCH)")  # fmt: skip


def stop_jvm(spark) -> None:
    """Stop Spark and its JVM: `spark.stop()` leaves the driver JVM (and its heap) alive until
    Python exits, and the DuckDB reference after it would then not find the memory it needs
    (at 10 M customers the two together exceed 24 GiB). The JVM exits when its stdin closes."""
    from pyspark import SparkContext

    spark.stop()
    gateway = SparkContext._gateway  # set: `spark` was made through it
    proc = getattr(gateway, "proc", None)  # None when spark-submit launched the JVM
    gateway.shutdown()
    if proc is not None:
        proc.stdin.close()
        proc.wait(timeout=120)
    SparkContext._gateway = None
    SparkContext._jvm = None


def duckdb_reference(args: argparse.Namespace, customers: int, sample_lines: int) -> dict:
    """The DuckDB reference in its own process (the JVM keeps its heap until it exits)."""
    data = Path(args.data) / f"c{customers}_s{sample_lines}"
    script = Path(__file__).resolve().parent / "bench_duckdb.py"
    with PeakMemory() as mem:
        done = subprocess.run(
            [sys.executable, str(script), str(data)], capture_output=True, text=True, check=True
        )
    ref = json.loads(done.stdout.strip().splitlines()[-1])
    ref["peak"] = mem.peak
    secs = ref["seconds"]
    print(f"duckdb reference (exact only, threads=2): index {secs['index']:.1f} s, sample "
          f"{secs['sample']:.1f} s, join {secs['join']:.1f} s, total {secs['total']:.1f} s, "
          f"peak {mem.peak / 2**30:.2f} GiB; lines matched: {ref['counts']}")  # fmt: skip
    return ref


CLAIM_TIME = ("sample ingest + normalise", "cross-check", "report")  # walls, GX included
STAGES = ("index build", "sample ingest + normalise", "validation (GX suites)", "cross-check",
          "report", "whole pipeline", "claim-time path")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--customers", default="1000000", help="one size or a comma list (scaling points)"
    )
    parser.add_argument("--sample-lines", type=int, default=0, help="default: customers / 10")
    parser.add_argument("--data", default="bench_data")
    parser.add_argument("--driver-memory", default="12g")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--no-duckdb", action="store_true")
    parser.add_argument("--no-fabricated", action="store_true", help="skip the fabricated sample")
    parser.add_argument(
        "--no-refresh", action="store_true", help="skip the index refresh of 1 %% of customers"
    )
    parser.add_argument(
        "--crosscheck-only",
        action="store_true",
        help="only cross-check + report, on the index and sample an earlier run left",
    )
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    sizes = [int(x) for x in str(args.customers).replace("_", "").split(",")]
    points = []
    for customers in sizes:
        lines = args.sample_lines or max(customers // 10, 1000)
        stages, _ = run_size(args, customers, lines)
        ref = None if args.no_duckdb else duckdb_reference(args, customers, lines)
        points.append((customers, lines, stages, ref))
    print("\nsummary (wall s; ratios against the DuckDB reference of the exact-only part)")
    cols = ("index", "ingest", "valid.", "xcheck", "report", "whole", "claim")
    head = f"{'customers':>11}{'lines':>11}" + "".join(f"{c:>8}" for c in cols) + f"{'peak GiB':>9}"
    print(head + f"{'duckdb':>8}{'xcheck/duckdb join':>20}{'claim/duckdb':>14}{'whole/duckdb':>14}")
    print(f"{'(targets at 10 M)':>115}{'<= 2':>14}{'<= 3':>14}")
    for customers, lines, st, ref in points:
        row = f"{customers:>11,}{lines:>11,}" + "".join(
            f"{st[k][0]:>8.0f}" if k in st else f"{'-':>8}" for k in STAGES
        )
        row += f"{st['whole pipeline'][1] / 2**30:>9.2f}"
        if ref:
            d = ref["seconds"]
            xc = st["cross-check"][0]
            claim = st["claim-time path"][0]
            row += f"{d['total']:>8.0f}{xc / (d['sample'] + d['join']):>20.2f}"
            row += f"{claim / d['total']:>14.2f}"
            row += f"{st['whole pipeline'][0] / d['total']:>14.2f}"
        print(row)
    if len(points) > 1 and not args.crosscheck_only:
        (c0, _, s0, _), (c1, _, s1, _) = points[0], points[-1]
        for k in ("index build", "cross-check", "whole pipeline"):
            growth = s1[k][0] / max(s0[k][0], 1e-9)
            print(
                f"scaling {k}: x{c1 / c0:.0f} customers -> x{growth:.2f} time "
                f"({'no worse than' if growth <= c1 / c0 * 1.05 else 'worse than'} linear)"
            )


if __name__ == "__main__":
    main()
