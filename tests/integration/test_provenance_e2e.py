"""Provenance evidence through the CLI on generated data: a canary line, a re-shuffled copy of
an earlier sample, a sample with columns we never collect and foreign e-mail domains, and a
claimed size we cannot have. Expected values come from the generated warehouse and from what
the tests plant, never from the pipeline's output; a scan checks that no planted raw value
reaches the new tables, the reports or the logs."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import random
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

from tests.integration.conftest import copy_lakehouse, find_leaks, load_report, run_cli
from tools.demo import name_key

pytestmark = pytest.mark.slow
FAST = ("--set", "crosscheck.fuzzy=false")  # fuzzy matching plays no part in these signals
NEW_TABLES = ("sample_schema", "warehouse_profile", "prior_samples", "canary_evidence",
              "recycled_overlap", "sample_profile", "profile_divergence", "provenance_runs",
              "run_verdicts")  # fmt: skip
FOREIGN_LINES, FOREIGN_SHARE = 150, 0.6
CLAIM = 1_000_000


def read_sample(folder: Path) -> tuple[str, list[list[str]]]:
    with open(folder / "sample" / "sample.csv", encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines()
    return lines[0], [next(csv.reader([ln], delimiter=";")) for ln in lines[1:] if ln]


def pick_canary(warehouse: Path, sample_names: set[str]) -> pd.Series:
    """A customer whose name (own, or on one of their orders) no sample line carries, so the
    canary is hit on its e-mail only."""
    customers = pd.read_parquet(warehouse / "customers")
    orders = pd.read_parquet(warehouse / "orders")
    for _, row in customers.sort_values("customer_id").iloc[100:].iterrows():
        names = {name_key(f"{row.first_name} {row.last_name}")}
        names |= {
            name_key(n) for n in orders[orders.customer_id == row.customer_id].ship_name.dropna()
        }
        if not names & sample_names:
            return row
    raise AssertionError("no canary candidate")


def luhn_number(r: random.Random) -> str:
    digits = [r.randrange(10) for _ in range(15)]
    total = sum(
        d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits))
    )
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


@pytest.fixture(scope="module")
def logs():
    from jobs import log

    stream = io.StringIO()
    log.setup_logging(stream)
    yield stream
    log.setup_logging()
    logging.getLogger("crosscheck").handlers.clear()


@pytest.fixture(scope="module")
def world(fabricated, demo, demo_index, tmp_path_factory, logs):
    """Three runs in one lakehouse: `canary` (fabricated lines plus one canary e-mail),
    `copy` (the same lines re-shuffled), `foreign` (password and card columns, 60 % of the
    e-mails at a provider none of our customers uses, and an impossible claimed size)."""
    root = tmp_path_factory.mktemp("provenance")
    lakehouse = copy_lakehouse(demo_index, root / "lakehouse")
    warehouse = demo / "warehouse"  # the fabricated sample's warehouse: the same seed
    customers = pd.read_parquet(warehouse / "customers")
    header, rows = read_sample(fabricated)
    rows = rows[:200]
    canary = pick_canary(warehouse, {name_key(r[0]) for r in rows if r[0].strip()})
    decoy = int(customers.customer_id.max())  # listed as a canary too, never in a sample
    canary_line = ["", canary.email, "", "", canary.country]
    rows.insert(99, canary_line)  # data line 100 = physical line 101 (the header is line 1)

    def write(name: str, head: str, body: list[list[str]], delimiter: str = ";") -> Path:
        folder = root / name
        folder.mkdir()
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(body)
        (folder / "sample.csv").write_text(head + "\n" + buf.getvalue(), encoding="utf-8")
        return folder

    canary_dir = write("canary", header, rows)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    copy_dir = write("copy", header, shuffled)

    r = random.Random(11)
    n_cz = round(FOREIGN_LINES * FOREIGN_SHARE)
    foreign = []
    for i in range(FOREIGN_LINES):
        name = rows[i][0] or f"Jana Novakova {i}"
        if i < n_cz:
            email, phone, country = (
                f"jan.dvorak.x{i:03d}@seznam.cz",
                f"+420 6{r.randrange(10**7, 10**8)}",
                "CZ",
            )
        else:
            email, phone, country = (
                f"petr.svoboda.x{i:03d}@gmail.com",
                f"+44 7700 9{r.randrange(10**4, 10**5)}",
                "GB",
            )
        password = hashlib.md5(f"secret-{i}".encode()).hexdigest()
        foreign.append([name, email, phone, country, password, luhn_number(r)])
    r.shuffle(foreign)
    foreign_dir = write("foreign", "Name,E-mail,Phone,Country,Passwort,Notes", foreign, ",")

    canaries = ("--set", f"provenance.canary_ids=[{int(canary.customer_id)}, {decoy}]")
    args = (*FAST, *canaries)

    def run(run_id: str, folder: Path, *extra: str) -> int:
        sample = ("--sample", str(folder), "--run-id", run_id)
        return run_cli("run", lakehouse, warehouse, *sample, *extra, *args)

    codes = {
        "canary": run("canary", canary_dir),
        "copy": run("copy", copy_dir),
        "foreign": run("foreign", foreign_dir, "--claimed-records", str(CLAIM)),
    }
    return {
        "lakehouse": lakehouse,
        "warehouse": warehouse,
        "customers": customers,
        "canary": canary,
        "canary_rows": rows,
        "foreign": foreign,
        "codes": codes,
    }


def report(world, run_id: str) -> dict:
    return load_report(world["lakehouse"], run_id)


def test_runs_succeed(world):
    assert world["codes"] == {"canary": 0, "copy": 0, "foreign": 0}


def test_canary_is_reported_first_and_decides_match(world):
    rep = report(world, "canary")
    canary_id = str(int(world["canary"].customer_id))
    assert rep["canaries"] == {
        "canary_ids_listed": 2,
        "lines": 1,
        "line_numbers": [101],
        "fields": {"email": 1},
        "canary_ids_hit": [canary_id],
    }
    v = rep["verdict"]
    assert v["code"] == "MATCH" and v["evidence_code"] == "MATCH"
    assert v["text"].startswith("Canary: 1 sample line(s) match 1 of our 2 canary record(s)")
    assert canary_id in v["text"].split(".")[0]
    assert v["evidence"][0]["signal"] == "canary"
    # without the canary, one e-mail among fabricated lines is below every threshold
    assert rep["fields"]["email"]["lines_matched_exact"] == 1
    assert "Some lines match" in v["text"]
    md = (world["lakehouse"] / "reports" / "canary" / "report.md").read_text(encoding="utf-8")
    assert md.index("## Canary records") < md.index("## Matches per field")
    page = (world["lakehouse"] / "reports" / "canary" / "report.html").read_text(encoding="utf-8")
    assert page.index("<h2>Canary records</h2>") < page.index("<h2>Matches per field</h2>")
    assert rep["recycled"]["earlier_runs"] == []  # never compared with itself


def test_reshuffled_copy_is_recycled_from_the_earlier_run(world, spark):
    rep = report(world, "copy")
    r = rep["recycled"]
    assert r["recycled_from"] == "canary"
    best = r["earlier_runs"][0]
    assert best["run_id"] == "canary" and best["overlap"] == 1.0
    assert set(best["share"].values()) == {1.0}
    assert best["verdict"] == "MATCH"
    runs = spark.read.format("delta").load(str(world["lakehouse"] / "sample_runs"))
    started = runs.filter(F.col("run_id") == "canary").first().started_at
    assert best["ingested_at"] == started.isoformat()
    v = rep["verdict"]
    assert v["code"] == "RECYCLED" and v["evidence_code"] == "MATCH"
    assert v["text"].startswith("Canary:")  # the canary line is in the copy too, and comes first
    assert "Recycled: 100.00 % of this sample's email/phone keys" in v["text"]
    assert f"sample run canary, ingested {started.isoformat()[:10]}" in v["text"]
    assert "that run's verdict was MATCH" in v["text"] and "still our data" in v["text"]
    verdicts = spark.read.format("delta").load(str(world["lakehouse"] / "run_verdicts"))
    assert {(x.run_id, x.verdict) for x in verdicts.collect()} == {
        ("canary", "MATCH"), ("copy", "RECYCLED"), ("foreign", rep_code(world, "foreign")),
    }  # fmt: skip


def rep_code(world, run_id):
    return report(world, run_id)["verdict"]["code"]


def test_foreign_sample_is_not_recycled(world):
    rep = report(world, "foreign")
    assert rep["recycled"]["recycled_from"] is None
    assert rep["verdict"]["code"] != "RECYCLED"


def test_schema_fingerprint_shows_columns_we_never_collect(world):
    sch = report(world, "foreign")["schema"]
    cols = {c["column"]: c for c in sch["columns"]}
    assert [cols[str(i)]["header"] for i in range(1, 7)] == [
        "Name",
        "E-mail",
        "Phone",
        "Country",
        "Passwort",
        "Notes",
    ]
    assert {k: cols[k]["status"] for k in cols} == {
        "1": "stored", "2": "stored", "3": "stored", "4": "stored",
        "5": "never_collected", "6": "never_collected",
    }  # fmt: skip
    pw, card = cols["5"], cols["6"]
    assert (pw["kind"], pw["by_header"], pw["by_content"]) == ("password", "password", "password")
    assert pw["content_share"] == 1.0 and pw["values_checked"] == FOREIGN_LINES
    assert (card["kind"], card["by_header"], card["by_content"]) == (
        "credit_card",
        None,
        "credit_card",
    )
    assert (cols["2"]["by_content"], cols["3"]["by_content"]) == ("email", "phone")
    assert sch["counts"] == {"stored": 4, "never_collected": 2, "not_stored": 0, "unrecognised": 0}
    text = report(world, "foreign")["verdict"]["text"]
    assert "2 are kinds we never collect: password (column 5 'Passwort'" in text


def expected_jsd(world) -> float:
    """E-mail domain divergence worked out from the warehouse and the planted sample alone."""
    domains = Counter(e.split("@")[1].lower() for e in world["customers"].email)
    kept = {d: n for d, n in domains.items() if n >= 5}
    other = sum(n for d, n in domains.items() if n < 5)
    total = sum(domains.values())
    q = {d: n / total for d, n in kept.items()} | ({"(other)": other / total} if other else {})
    sample = Counter(row[1].split("@")[1] for row in world["foreign"])
    p = Counter()
    for d, n in sample.items():
        p[d if d in kept else "(other)"] += n / len(world["foreign"])
    m = {k: (p.get(k, 0) + q.get(k, 0)) / 2 for k in set(p) | set(q)}

    def kl(x):
        return sum(v * math.log2(v / m[k]) for k, v in x.items() if v > 0)

    return 0.5 * kl(p) + 0.5 * kl(q)


def test_profile_fingerprint_shows_the_foreign_provider(world):
    prof = report(world, "foreign")["profile"]["dimensions"]
    n_cz = round(FOREIGN_LINES * FOREIGN_SHARE)
    mail = prof["email_domain"]
    assert mail["top"][0] == {"value": "seznam.cz", "sample_n": n_cz, "sample_share": FOREIGN_SHARE,
                              "warehouse_n": 0, "warehouse_share": 0.0}  # fmt: skip
    ours = sum(e.lower().endswith("@gmail.com") for e in world["customers"].email)
    gmail = next(t for t in mail["top"] if t["value"] == "gmail.com")
    assert (gmail["sample_n"], gmail["warehouse_n"]) == (FOREIGN_LINES - n_cz, ours)
    assert mail["flagged"] is True
    assert mail["divergence"] == pytest.approx(expected_jsd(world), abs=1e-6)
    assert (
        prof["phone_code"]["top"][0]["value"] == "420"
        and prof["phone_code"]["top"][0]["sample_n"] == n_cz
    )
    assert (
        prof["country"]["top"][0]["value"] == "CZ" and prof["country"]["top"][0]["warehouse_n"] == 0
    )
    text = report(world, "foreign")["verdict"]["text"]
    assert "60.00 % of its values are seznam.cz, against 0.00 % of ours" in text


def test_claimed_size_above_our_customers_is_flagged(world):
    n_customers = world["customers"].customer_id.nunique()
    claim = report(world, "foreign")["claimed_size"]
    assert claim == {"claimed_records": CLAIM, "warehouse_customers": n_customers,
                     "impossible": True, "excess": CLAIM - n_customers,
                     "ratio": round(CLAIM / n_customers, 6)}  # fmt: skip
    assert f"by {CLAIM - n_customers:,}" in report(world, "foreign")["verdict"]["text"]
    assert report(world, "canary")["claimed_size"]["impossible"] is None  # no claim given


def test_report_job_takes_its_own_claim(world):
    lakehouse, warehouse = world["lakehouse"], world["warehouse"]
    n_customers = world["customers"].customer_id.nunique()
    assert (
        run_cli(
            "report",
            lakehouse,
            warehouse,
            "--run-id",
            "foreign",
            "--claimed-records",
            str(n_customers - 1),
            *FAST,
        )
        == 0
    )
    claim = report(world, "foreign")["claimed_size"]
    assert claim["impossible"] is False and claim["claimed_records"] == n_customers - 1


def test_no_raw_personal_data_in_new_tables_reports_or_logs(world, spark, logs):
    """The canary's and the planted lines' e-mails, local parts, phones, names, passwords and
    card numbers appear in none of the new tables, the three runs' reports or the logs."""
    canary = world["canary"]
    needles = {canary.email.lower(), canary.email.split("@")[0].lower(),
               "".join(ch for ch in canary.phone if ch.isdigit())[-9:],
               f"{canary.first_name} {canary.last_name}".lower()}  # fmt: skip
    for name, email, phone, _, password, card in world["foreign"]:
        needles |= {email.lower(), email.split("@")[0].lower(), password, card}
        needles.add("".join(ch for ch in phone if ch.isdigit())[-9:])
        needles.add(name.lower())
    for row in world["canary_rows"]:
        if row[1].strip():
            needles |= {row[1].strip().lower(), row[1].strip().split("@")[0].lower()}
    needles.discard("")
    texts = {}
    for table in NEW_TABLES:
        df = spark.read.format("delta").load(str(world["lakehouse"] / table))
        rows = df.collect()
        assert rows, table
        texts[table] = "\n".join(str(r.asDict()) for r in rows).lower()
    for run_id in ("canary", "copy", "foreign"):
        for p in (world["lakehouse"] / "reports" / run_id).iterdir():
            texts[f"{run_id}/{p.name}"] = p.read_text(encoding="utf-8").lower()
    texts["logs"] = logs.getvalue().lower()
    assert not find_leaks(texts, needles)
    assert "seznam.cz" in texts["foreign/report.json"]  # a domain is not personal data
    assert json.loads(texts["foreign/report.json"])["schema"]["columns"][4]["header"] == "passwort"
