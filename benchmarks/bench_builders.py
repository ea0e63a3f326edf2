"""Per-builder cost of the normalisation (µs per row) and of the exact and fuzzy index rows, on
demo data.

    python benchmarks/bench_builders.py DATA_DIR   # DATA_DIR = a `python -m tools.demo` output

The cleaned values both indexes are made from are persisted and counted first (one run,
timed alone); each other figure is the best of three runs into Spark's `noop` sink in one warm
JVM, so generated-code compilation and JIT warm-up are left out; the Arrow gram sets
(`jobs/match/grams.py`) are timed alone on a batch of up to 10,000 names and streets, best of five.
Figures only: nothing is asserted.
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def best_seconds(work, runs: int = 3) -> float:
    """The fastest of `runs` calls of `work`, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def best_of(df, runs: int = 3) -> float:
    """The fastest of `runs` writes of `df` into Spark's `noop` sink, in seconds."""
    return best_seconds(lambda: df.write.format("noop").mode("overwrite").save(), runs)


def lakehouse_session(lakehouse: str):
    """(config, SparkSession) on a `make bench` lakehouse, as the bench runs it: local[2],
    8 shuffle partitions, 12 GiB for the driver."""
    from jobs.session import build_session
    from jobs.settings import load_config

    config = load_config(
        overrides=[
            f"lakehouse={lakehouse}",
            "spark.conf.spark.sql.shuffle.partitions=8",
            "spark.conf.spark.driver.memory=12g",
        ]
    )
    return config, build_session(master="local[2]", conf=config.spark_conf)


def main() -> None:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import functions as F

    from jobs import normalise as N
    from jobs.io.delta import read_source
    from jobs.match import fuzzy, keys
    from jobs.match.secrets import with_hash_key
    from jobs.session import build_session
    from jobs.settings import load_config
    from jobs.steps.ingest_warehouse import _index_values

    wh = Path(sys.argv[1]) / "warehouse"
    config = load_config(
        overrides=[f"warehouse.{r}.path={wh}/{r}" for r in ("customers", "addresses", "orders")]
    )
    conf = config.normalise
    spark = build_session(master="local[2]", conf={"spark.sql.shuffle.partitions": "8"})
    cust = spark.read.parquet(str(wh / "customers")).cache()
    addr = spark.read.parquet(str(wh / "addresses")).cache()
    name = F.concat_ws(" ", "first_name", "last_name")
    clean = cust.select(
        N.clean_email(F.col("email")).alias("e"),
        N.clean_phone(F.col("phone")).alias("p"),
        "country",
        N.clean_name(name).alias("n"),
    ).cache()
    streets = addr.select(
        N.fold_street(F.col("line1"), conf.abbreviations).alias("s"),
        N.normalise_postcode(F.col("postcode")).alias("pc"),
    ).cache()
    for df in (cust, addr, clean, streets):
        df.count()
    cases = [
        ("read only", cust, F.col("email")),
        ("clean_email", cust, N.clean_email(F.col("email"))),
        ("email_key (cleaned)", clean, N.email_key(F.col("e"), conf)),
        ("clean_phone", cust, N.clean_phone(F.col("phone"))),
        ("phone_e164 (cleaned)", clean, N.phone_e164(F.col("p"), F.col("country"), conf)),
        ("clean_name", cust, N.clean_name(name)),
        ("name_key (cleaned)", clean, N.name_key(F.col("n"))),
        ("fold_street", addr, N.fold_street(F.col("line1"), conf.abbreviations)),
        ("address_key (folded)", streets, N.address_key(F.col("s"), F.col("pc"))),
        ("keyed_hash", with_hash_key(cust, "k"), N.keyed_hash(F.col("email"))),
    ]
    print(f"{'builder':<24}{'s':>8}{'µs/row':>10}")
    for label, df, col in cases:
        seconds = best_of(df.select(col.alias("x")))
        print(f"{label:<24}{seconds:>8.2f}{seconds / df.count() * 1e6:>10.2f}")
    # The Arrow gram sets alone, in this process: 10,000 cleaned names and street lines.
    hasher = fuzzy.gram_hasher("n2", "k")
    batch = clean.select(F.split("n", " ").alias("t")).limit(10_000).toArrow()["t"]
    streets_batch = streets.select(F.split("s", " ").alias("t")).limit(10_000).toArrow()["t"]
    for label, fn, arr in (
        ("gram sets of a name", hasher.token_sets, batch),
        ("gram set of a street", hasher.value_set, streets_batch),
    ):
        best = best_seconds(partial(fn, arr), runs=5)
        print(f"{label:<24}{'':>8}{best / len(arr) * 1e6:>10.2f}  (Arrow batch, Python only)")
    per_script(clean)
    roles = {role: (read_source(spark, role, src), src) for role, src in config.warehouse.items()}
    customers = cust.count()
    values = _index_values(roles, config)  # persisted
    start = time.perf_counter()
    for v in values.values():
        v.count()
    print(f"cleaned index values, {customers:,} customers: {time.perf_counter() - start:.1f} s")
    seconds = best_of(keys.keys_of(values, "k"))
    print(f"exact index keys, {customers:,} customers: {seconds:.1f} s")
    seconds = best_of(fuzzy.fuzzy_index_of(values, "k", config.matching))
    print(f"fuzzy index rows, {customers:,} customers: {seconds:.1f} s")
    spark.stop()


PER_SCRIPT = 50_000  # values timed per script
SCRIPTS = {
    "Latin (ASCII)": r"^[a-z0-9 '-]+$",
    "Latin (other)": r"^[\p{IsLatin}0-9 '-]+$",
    "Cyrillic": r"\p{IsCyrillic}",
    "Greek": r"\p{IsGreek}",
    "Han": r"\p{IsHan}",
    "Kana": r"[\p{IsHiragana}\p{IsKatakana}]",
    "Hangul": r"\p{IsHangul}",
}


def per_script(clean) -> None:
    """The name payload builder (transliteration, gram sets, signature: `rows._name_payloads`,
    the same on the sample and the index side) per script of the cleaned names, µs per value
    over PER_SCRIPT values each; and the Arrow gram sets alone on the same values."""
    from pyspark.sql import functions as F

    from jobs.match import fuzzy
    from jobs.match.fuzzy.payloads import CJK_CHAR_RE
    from jobs.match.fuzzy.rows import _name_payloads
    from jobs.match.fuzzy.translit import skeleton, transliterate

    hasher = fuzzy.gram_hasher("n2", "k")
    print(f"{'name payloads by script':<24}{'values':>8}{'µs/value':>10}{'Arrow µs':>10}")
    taken = F.lit(False)
    for script, pattern in SCRIPTS.items():
        rows = clean.filter(~taken & F.col("n").rlike(pattern)).limit(PER_SCRIPT // 10)
        taken = taken | F.col("n").rlike(pattern)
        # Every script the same number of values (its first ones ten times over), so the
        # per-job costs weigh the same in each figure.
        values = (
            rows.crossJoin(clean.sparkSession.range(10))
            .select(
                F.lit(1).alias("id"),
                "country",
                F.col("n").alias("name_c"),
                F.lit(None).cast("string").alias("latin_c"),
            )
            .cache()
        )
        n = values.count()
        if n < PER_SCRIPT:
            print(f"{script:<24}{n:>8,}  (fewer than {PER_SCRIPT // 10:,} distinct: not timed)")
            values.unpersist()
            continue
        seconds = best_of(_name_payloads(values, ["id"], "k"))
        latin = skeleton(transliterate(F.col("name_c")))
        split = values.select(F.split(latin, " ").alias("t")).limit(10_000)
        batch = split.select("t", F.transform("t", lambda x: x.rlike(CJK_CHAR_RE)).alias("c"))
        table = batch.toArrow()
        tokens, cjk = table["t"], table["c"]
        best = best_seconds(partial(hasher.token_sets, tokens, cjk), runs=5)
        print(f"{script:<24}{n:>8,}{seconds / n * 1e6:>10.2f}{best / len(tokens) * 1e6:>10.2f}")
        values.unpersist()


if __name__ == "__main__":
    main()
