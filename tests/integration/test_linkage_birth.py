"""The date of birth in record linkage, end to end: a warehouse that keeps each customer's date
(a DATE column, mapped as `date_of_birth`) and a sample that writes it in national forms.

2,000 customers in Australian towns, each at an address of their own. Five sample lines:
- "copy": a customer's name and address, the date as "DD.MM.YYYY";
- "renamed": a customer's address under another person's name, the same date (ISO): the name
  was replaced, the date says it is the customer;
- "neighbour": a customer's address under another name with another date: someone else
  living there, who must not be linked to the customer;
- "retyped": a customer's address under another name, the date with two neighbouring digits
  swapped ("DD/MM/YY"): near, not exact;
- "moved": a customer's date and first initial, names no block of theirs meets, at another
  customer's address: only the birth_initial block can make the pair meet.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from tests.integration.conftest import load_report, run_cli

pytestmark = pytest.mark.slow
RUN_ID = "birth"
CUSTOMERS, SEED = 2_000, 11
FIRST = [
    "olivia",
    "jack",
    "charlotte",
    "noah",
    "amelia",
    "william",
    "isla",
    "thomas",
    "mia",
    "james",
    "ava",
    "lucas",
    "grace",
    "henry",
    "chloe",
    "oscar",
    "zoe",
    "leo",
    "ruby",
    "max",
]
LAST = [
    "smith",
    "jones",
    "williams",
    "brown",
    "wilson",
    "taylor",
    "nguyen",
    "johnson",
    "martin",
    "white",
    "anderson",
    "walker",
    "thompson",
    "harris",
    "ryan",
    "robinson",
    "kelly",
    "king",
    "campbell",
    "clarke",
    "mitchell",
    "young",
    "lee",
    "morris",
    "reid",
]
STREETS = [
    "wattle",
    "banksia",
    "kurrajong",
    "jacaranda",
    "bottlebrush",
    "ironbark",
    "acacia",
    "grevillea",
    "waratah",
    "boronia",
    "callistemon",
    "tea tree",
    "paperbark",
    "blackwood",
]
TOWNS = [
    ("barmera", "5345"),
    ("rokeby", "7019"),
    ("toowong", "4066"),
    ("kyabram", "3620"),
    ("casino", "2470"),
    ("malvern", "3144"),
    ("picton", "2571"),
    ("wallsend", "2287"),
]


SHIP = ("ship_name", "ship_phone", "ship_line1", "ship_city", "ship_postcode", "ship_country")


def _customers(rng: random.Random) -> list[dict]:
    out, seen = [], set()
    while len(out) < CUSTOMERS:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        town, postcode = rng.choice(TOWNS)
        street, number = rng.choice(STREETS), rng.randint(1, 400)
        if (street, number, town) in seen:
            continue
        seen.add((street, number, town))
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 60 * 365))
        line1 = f"{number} {street} street"
        out.append({"id": len(out) + 1, "first": first, "last": last, "born": born,
                    "line1": line1, "city": town, "postcode": postcode})  # fmt: skip
    return out


def _write_warehouse(folder, people: list[dict]) -> None:
    n = len(people)
    ids = pa.array([p["id"] for p in people], pa.int64())
    none = pa.nulls(n, pa.string())
    tables = {
        "customers": pa.table({
            "customer_id": ids, "first_name": [p["first"] for p in people],
            "last_name": [p["last"] for p in people], "email": none, "phone": none,
            "country": ["AU"] * n,
            "created_at": pa.array([datetime(2020, 1, 1, tzinfo=timezone.utc)] * n,
                                   pa.timestamp("us", tz="UTC")),
            "first_name_latin": none, "last_name_latin": none,
            "date_of_birth": pa.array([p["born"] for p in people], pa.date32()),
        }),
        "addresses": pa.table({
            "address_id": ids, "customer_id": ids, "line1": [p["line1"] for p in people],
            "line2": none, "city": [p["city"] for p in people], "region": none,
            "postcode": [p["postcode"] for p in people], "country": ["AU"] * n,
        }),
        "orders": pa.table({
            "order_id": pa.array([], pa.int64()), "customer_id": pa.array([], pa.int64()),
            **{c: pa.array([], pa.string()) for c in SHIP},
            "order_ts": pa.array([], pa.timestamp("us", tz="UTC")),
        }),
    }  # fmt: skip
    for name, table in tables.items():
        (folder / name).mkdir(parents=True)
        pq.write_table(table, folder / name / "part-00000.parquet")


def _other(rng: random.Random, p: dict, taken: set) -> tuple[str, str]:
    """A name sharing no token, no token's first three letters and no initial with p's."""
    initials = {p["first"][0], p["last"][0]}
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if first[0] not in initials and last[0] not in initials and (first, last) not in taken:
            return first, last


def _swap_day_digits(d: date) -> str:
    """DD/MM/YY with the day's two digits swapped (a day whose digits differ)."""
    day = f"{d.day:02d}"
    return f"{day[1]}{day[0]}/{d.month:02d}/{d.year % 100:02d}"


@pytest.fixture(scope="module")
def birth_run(tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("birth")
    rng = random.Random(SEED)
    people = _customers(rng)
    _write_warehouse(root / "warehouse", people)
    taken = {(p["first"], p["last"]) for p in people}
    digits_differ = [p for p in people if p["born"].day % 11 and p["born"].day >= 10]
    # moved: a first name whose Soundex no made-up "<initial>hhh" shares (mia, leo, zoe: X000)
    movable = [p for p in people if p["first"][0] not in "mlz"]
    copy, renamed, neighbour = rng.sample(people, 3)
    moved = rng.choice([p for p in movable if p not in (copy, renamed, neighbour)])
    retyped = rng.choice([p for p in digits_differ if p not in (copy, renamed, neighbour, moved)])
    other = people[(people.index(moved) + 1) % len(people)]  # somebody else's address
    lines = {
        "copy": (copy, f"{copy['first']} {copy['last']}", copy, copy["born"].strftime("%d.%m.%Y")),
        "renamed": (renamed, " ".join(_other(rng, renamed, taken)), renamed,
                    renamed["born"].isoformat()),
        "neighbour": (None, " ".join(_other(rng, neighbour, taken)), neighbour,
                      (neighbour["born"] - timedelta(days=8_500)).isoformat()),
        "retyped": (retyped, " ".join(_other(rng, retyped, taken)), retyped,
                    _swap_day_digits(retyped["born"])),
        "moved": (moved, f"{moved['first'][0]}hhh zzyzx", other, moved["born"].strftime("%Y%m%d")),
    }  # fmt: skip
    (root / "sample").mkdir()
    truth = {}
    with open(root / "sample" / "dump.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "Adresse", "Geburtsdatum"])
        for n, (kind, (person, name, home, born)) in enumerate(lines.items(), start=2):
            w.writerow([name, f"{home['line1']}, {home['city']} {home['postcode']}", born])
            truth[kind] = (n, str(person["id"]) if person else str(neighbour["id"]))
    code = run_cli("run", root / "lakehouse", root / "warehouse", "--sample",
                   str(root / "sample"), "--run-id", RUN_ID,
                   "--set", "warehouse.customers.columns.date_of_birth=date_of_birth")  # fmt: skip
    assert code == 0
    lakehouse = root / "lakehouse"
    table = spark.read.format("delta").load(str(lakehouse / "line_links"))
    links = {r.line_number: r for r in table.filter(F.col("run_id") == RUN_ID).collect()}
    return truth, links, lakehouse, lines


def test_the_date_tells_the_customer_from_a_neighbour(birth_run):
    truth, links, _, _ = birth_run
    line, customer = truth["renamed"]
    assert links[line].customer_id == customer and links[line].linked
    assert links[line].gamma_date_of_birth == 2  # exact
    line, customer = truth["neighbour"]
    # the address is the customer's, the name and the date are not: not linked
    assert not (links[line].customer_id == customer and links[line].linked)
    assert links[line].gamma_date_of_birth == 0


def test_national_forms_and_a_swapped_digit_compare(birth_run):
    truth, links, _, _ = birth_run
    line, customer = truth["copy"]
    assert (links[line].customer_id, links[line].gamma_date_of_birth) == (customer, 2)
    line, customer = truth["retyped"]
    assert (links[line].customer_id, links[line].gamma_date_of_birth) == (customer, 1)  # near


def test_the_birth_block_makes_a_pair_no_other_rule_makes(birth_run, spark):
    truth, _, lakehouse, _ = birth_run
    line, customer = truth["moved"]
    fuzzy = spark.read.format("delta").load(str(lakehouse / "fuzzy_evidence"))
    rows = fuzzy.filter((F.col("run_id") == RUN_ID) & (F.col("line_number") == line)).collect()
    met = {(r.field, r.method) for r in rows if r.customer_id == customer}
    assert met == {("date_of_birth", "near")}


def _found(value, dates: set[str], numbers: set[int]) -> bool:
    """Whether a row value holds a date as text, or as the number its digits make."""
    if isinstance(value, str):
        return any(d in value for d in dates)
    if isinstance(value, int):
        return value in numbers
    if isinstance(value, (list, tuple)):
        return any(_found(v, dates, numbers) for v in value)
    return False


def test_the_dates_stay_hashed_and_the_column_is_one_we_store(birth_run, spark):
    _, _, lakehouse, lines = birth_run
    written = {born for _, _, _, born in lines.values()}
    people = [p for p, _, _, _ in lines.values() if p]
    written |= {p["born"].isoformat() for p in people} | {f"{p['born']:%Y%m%d}" for p in people}
    numbers = {int(f"{p['born']:%Y%m%d}") for p in people}
    for table in ("sample_normalised", "fuzzy_index", "fuzzy_evidence", "line_links"):
        rows = spark.read.format("delta").load(str(lakehouse / table)).collect()
        assert rows and not [r for r in rows if _found(tuple(r), written, numbers)], table
    report = load_report(lakehouse, RUN_ID)
    text = (lakehouse / "reports" / RUN_ID / "report.md").read_text() + str(report)
    assert not [d for d in written if d in text]
    columns = {c["header"]: c for c in report["schema"]["columns"]}
    assert (columns["Geburtsdatum"]["kind"], columns["Geburtsdatum"]["status"]) == (
        "date_of_birth",
        "stored",
    )
