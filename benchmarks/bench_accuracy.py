"""`make bench-accuracy` (part of `make bench`): how many truly matching lines the exact keys
find, and how many they find wrongly, on a multinational demo sample, against the
generator's truth: per field and per country.

A line truly matches on a field when the generator wrote the customer's own value there,
however retyped (`exact` in truth.csv), or, for names, when a fabricated name is a
customer's name all the same (`name_collides`). A line found on a field is right when it
truly matches there or was planted with a deliberately corrupted value of that customer (a
corruption the keys fold is no false claim). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIELDS = ("email", "phone", "name", "address")
TARGET_RECALL, TARGET_PRECISION = 0.995, 0.999


def ensure_data(root: Path, customers: int, lines: int, planted_share: float) -> Path:
    from tools.demo import generate

    out = root / f"multinational_c{customers}_s{lines}"
    if not (out / "truth.json").exists():
        generate(out, customers=customers, sample_lines=lines, planted_share=planted_share,
                 broken=20, multinational=True, seed=23)  # fmt: skip
    return out


def run_jobs(data: Path, lakehouse: Path, run_id: str, *overrides: str):
    """The real jobs on data/warehouse (index rebuilt) and data/sample, logs discarded:
    (spark, config, report). Also used by bench_linkage."""
    from jobs import log
    from jobs import steps as pl
    from jobs.session import build_session
    from jobs.settings import load_config

    wh = data / "warehouse"
    config = load_config(
        overrides=[
            f"lakehouse={lakehouse}",
            f"warehouse.customers.path={wh}/customers",
            f"warehouse.addresses.path={wh}/addresses",
            f"warehouse.orders.path={wh}/orders",
            *overrides,
        ]
    )
    log.setup_logging(open(os.devnull, "w"))  # noqa: SIM115
    spark = build_session(master="local[2]", conf=config.spark_conf)
    pl.ingest_warehouse(spark, config, rebuild=True)
    pl.ingest_sample(spark, config, str(data / "sample"), run_id)
    pl.run_crosscheck(spark, config, run_id)
    return spark, config, pl.make_report(spark, config, run_id)


def run_table(spark, config, table: str, run_id: str):
    from pyspark.sql import functions as F

    df = spark.read.format("delta").load(config.table(table))
    return df.filter(F.col("run_id") == run_id)


def line_places(spark, config, run_id: str) -> dict[int, tuple[str, int]]:
    """line_number -> (sample file name, line in that file), as truth.csv names lines."""
    from jobs import tables

    raw = run_table(spark, config, tables.SAMPLE_RAW, run_id)
    return {
        r.line_number: (r.source_file.rsplit("/", 1)[-1], r.file_line)
        for r in raw.select("line_number", "source_file", "file_line").collect()
    }


def run_pipeline(data: Path, lakehouse: Path) -> dict:
    """The real jobs on the generated data; exact matching only (fuzzy off: not measured)."""
    from jobs import tables

    spark, config, report = run_jobs(data, lakehouse, "accuracy", "crosscheck.fuzzy=false")
    where = line_places(spark, config, "accuracy")
    evidence = run_table(spark, config, tables.EVIDENCE, "accuracy")
    found = defaultdict(set)  # (file, line) -> fields found exactly
    for r in evidence.select("line_number", "field").distinct().collect():
        found[where[r.line_number]].add(r.field)
    spark.stop()
    return {"found": found, "report": report}


def score(truth: list[dict], found: dict) -> tuple[dict, dict]:
    """Per field, and per (field, country): [truly matching, found, found right, truly
    matching and found]."""
    overall = {f: [0, 0, 0, 0] for f in FIELDS}
    by_country: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for t in truth:
        if t["kind"] == "broken":
            continue
        hits = found.get((t["source_file"], int(t["line_number"])), set())
        for f in FIELDS:
            true = t[f] == "exact" or (f == "name" and t["name_collides"] == "True")
            got = f in hits
            for cell in (overall[f], by_country[(f, t["country"])]):
                cell[0] += true
                cell[1] += got
                cell[2] += got and (true or t[f] == "fuzzy")
                cell[3] += got and true
    return overall, dict(by_country)


def _rate(n: int, d: int) -> str:
    return f"{n / d:.4f}" if d else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--sample-lines", type=int, default=10_000)
    ap.add_argument("--planted-share", type=float, default=0.3)
    ap.add_argument("--data", default="bench_data")
    a = ap.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    data = ensure_data(Path(a.data), a.customers, a.sample_lines, a.planted_share)
    t = time.perf_counter()
    out = run_pipeline(data, Path(a.data) / f"lakehouse_accuracy_c{a.customers}")
    seconds = time.perf_counter() - t
    with open(data / "truth.csv", newline="", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    overall, by_country = score(truth, out["found"])
    report, countries = out["report"], out["report"]["sample"]["countries"]
    verdict = report["verdict"]["code"]
    print(f"\nexact-key accuracy: {a.customers:,} customers, {a.sample_lines:,} multinational "
          f"lines ({data.name}); pipeline {seconds:.0f} s; verdict {verdict}")  # fmt: skip
    print(f"country of each line told by: {countries['lines_by_source']}; "
          f"conflicting sources: {countries['conflicts']}")  # fmt: skip
    print(f"{'field':<9}{'true':>7}{'found':>7}{'right':>7}{'recall':>9}{'precision':>11}"
          f"  target (recall >= {TARGET_RECALL}, precision >= {TARGET_PRECISION})")  # fmt: skip
    for f, (true, got, right, true_found) in overall.items():
        ok = true_found >= TARGET_RECALL * true and right >= TARGET_PRECISION * got
        print(f"{f:<9}{true:>7}{got:>7}{right:>7}{_rate(true_found, true):>9}"
              f"{_rate(right, got):>11}  {'met' if ok else 'NOT MET'}")  # fmt: skip
    print("\nper country: truly matching lines found / truly matching lines (found wrongly)")
    print(f"{'country':<9}" + "".join(f"{f:>18}" for f in FIELDS))
    for c in sorted({c for _, c in by_country}):
        cells = []
        for f in FIELDS:
            true, got, right, true_found = by_country.get((f, c), [0, 0, 0, 0])
            cells.append(f"{true_found}/{true}" + (f" ({got - right})" if got > right else ""))
        print(f"{c:<9}" + "".join(f"{x:>18}" for x in cells))


if __name__ == "__main__":
    main()
