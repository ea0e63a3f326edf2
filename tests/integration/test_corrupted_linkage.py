"""Record linkage on a corrupted set in the suite: 300 multinational customers of the intl
warehouse, each retyped with two or three corruptions (`tools.demo.corrupt`: typing, OCR and
phonetic errors, swapped and missing tokens, changed house numbers and postcodes, no e-mail
or phone), and 100 decoys pairing one customer's name with another's address, which belong
to nobody. Recall over the corrupted lines, precision over every linked line."""

from __future__ import annotations

import random

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from tests.integration.conftest import copy_lakehouse, load_report, run_cli
from tools.demo.corrupt import write_sample

pytestmark = pytest.mark.slow
RUN_ID = "corrupted"
CORRUPTED, DECOYS, SEED = 300, 100, 5


def customers_with_an_address(warehouse) -> list[dict]:
    people = {r["customer_id"]: r for r in pq.read_table(warehouse / "customers").to_pylist()}
    records = {}
    for a in pq.read_table(warehouse / "addresses").to_pylist():
        c = people.get(a["customer_id"])
        if c is None or a["customer_id"] in records or not (a["line1"] and a["postcode"]):
            continue
        records[a["customer_id"]] = {
            "customer_id": str(a["customer_id"]), "first": c["first_name"] or "",
            "last": c["last_name"] or "", "line1": a["line1"], "city": a["city"] or "",
            "postcode": a["postcode"], "country": c["country"] or a["country"] or "",
        }  # fmt: skip
    return [records[k] for k in sorted(records)]


@pytest.fixture(scope="module")
def corrupted_run(intl_demo, intl_index, tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("corrupted")
    lakehouse = copy_lakehouse(intl_index, root / "lakehouse")
    records = random.Random(SEED).sample(customers_with_an_address(intl_demo / "warehouse"),
                                         CORRUPTED)  # fmt: skip
    (root / "sample").mkdir()
    truth = write_sample(records, root / "sample" / "retyped.csv", DECOYS, SEED)
    code = run_cli("run", lakehouse, intl_demo / "warehouse", "--sample", str(root / "sample"),
                   "--run-id", RUN_ID)  # fmt: skip
    assert code == 0
    raw = spark.read.format("delta").load(str(lakehouse / "sample_raw"))
    file_line = {r.line_number: r.file_line for r in raw.filter(F.col("run_id") == RUN_ID)
                 .select("line_number", "file_line").collect()}  # fmt: skip
    links = spark.read.format("delta").load(str(lakehouse / "line_links"))
    links = links.filter((F.col("run_id") == RUN_ID) & F.col("linked")).collect()
    linked = {file_line[r.line_number]: r.customer_id for r in links}
    return truth, linked, lakehouse


def test_corrupted_lines_are_linked_to_their_customer(corrupted_run):
    """Nearly every link is right, and the corrupted lines link with F1 0.98 or more (the
    record-linkage target for this set). Among them: Korean and Chinese names cut to one
    character, which are not initials, and a left-out first name with a misspelt surname
    (`lone_token`). What is still missed is a line that meets its customer in no block."""
    truth, linked, _ = corrupted_run
    assert sum(c is not None for c in truth.values()) == CORRUPTED
    right = sum(truth[n] is not None and truth[n] == c for n, c in linked.items())
    recall, precision = right / CORRUPTED, right / max(len(linked), 1)
    f1 = 2 * recall * precision / (recall + precision) if right else 0.0
    print(f"corrupted set: recall {recall:.4f}, precision {precision:.4f}, F1 {f1:.4f}")
    assert precision >= 0.99 and f1 >= 0.98, (recall, precision, f1)


def test_decoys_link_to_nobody_and_the_verdict_rests_on_linked_lines(corrupted_run):
    """A line with one customer's name and another's address is nobody's record: at most one
    decoy in a hundred may link (a name alone, when the address is that customer's too)."""
    truth, linked, lakehouse = corrupted_run
    decoys = [n for n, c in truth.items() if c is None]
    assert len(decoys) == DECOYS
    assert sum(n in linked for n in decoys) <= 1
    report = load_report(lakehouse, RUN_ID)
    assert report["lines"]["linked"] == len(linked)
    assert report["lines"]["linked_by_chance"] <= 0.05 * len(linked)
    assert report["verdict"]["code"] == "MATCH"
