"""Record linkage on the shared demo run: every line's best customer, checked against the
generator's truth (which customer each planted line was made from)."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from jobs.settings import load_config
from tests.integration.conftest import PLANTED_RUN_ID, load_report, read_truth

pytestmark = pytest.mark.slow
FIELDS = ("email", "phone", "name", "address")


@pytest.fixture(scope="module")
def links(planted_run, demo, spark):
    lakehouse, code, _ = planted_run
    assert code == 0
    raw = spark.read.format("delta").load(str(lakehouse / "sample_raw"))
    raw = raw.filter(F.col("run_id") == PLANTED_RUN_ID)
    where = {r.line_number: (r.source_file.rsplit("/", 1)[-1], r.file_line)
             for r in raw.select("line_number", "source_file", "file_line").collect()}  # fmt: skip
    table = spark.read.format("delta").load(str(lakehouse / "line_links"))
    rows = table.filter(F.col("run_id") == PLANTED_RUN_ID).collect()
    truth = {(t["source_file"], int(t["line_number"])): t for t in read_truth(demo)}
    return [(r, truth[where[r.line_number]]) for r in rows], truth, lakehouse


def test_one_link_per_line_and_linked_lines_are_right(links):
    rows, truth, _ = links
    assert len({r.line_number for r, _ in rows}) == len(rows)
    linked = [(r, t) for r, t in rows if r.linked]
    wrong = [(r.line_number, r.customer_id) for r, t in linked if r.customer_id != t["customer_id"]]
    assert linked and not wrong


def test_lines_with_two_exact_fields_are_linked(links):
    """A planted line that carries two of its customer's values unchanged (as keyed) is
    linked to that customer: the linkage never finds less than the same-record rule."""
    rows, truth, _ = links
    by_line = {(t["source_file"], t["line_number"]): r for r, t in rows}
    two_exact = [
        (t["source_file"], t["line_number"])
        for t in truth.values()
        if t["kind"] == "planted" and sum(t[f] == "exact" for f in FIELDS) >= 2
    ]
    missed = [k for k in two_exact if k not in by_line or not by_line[k].linked]
    assert two_exact and len(missed) <= 0.005 * len(two_exact), missed[:10]


def test_the_model_is_stored_and_weights_rise_with_the_level(links, spark):
    _, _, lakehouse = links
    model = spark.read.format("delta").load(str(lakehouse / "linkage_model"))
    rows = model.filter(F.col("run_id") == PLANTED_RUN_ID).collect()
    # the address is compared part by part
    # the address's parts judged together; the date of birth (none here) keeps conf's m and u
    fields = ("email", "phone", "name", "address", "date_of_birth")
    assert {r.field for r in rows} == set(fields)
    for field, rules in load_config().matching.linkage.fields:
        levels = sorted((r.level, r.weight, r.level_name) for r in rows if r.field == field)
        assert levels[0][2] == "else" and levels[-1][2] == rules[0].name  # the first listed
        assert levels[0][1] < 0 < levels[-1][1]  # disagreeing counts against, agreeing for


def test_the_report_counts_linked_lines(links):
    rows, _, lakehouse = links
    lines = load_report(lakehouse, PLANTED_RUN_ID)["lines"]
    assert lines["linked"] == sum(r.linked for r, _ in rows)
    assert lines["linkage_candidates"] == len(rows)


def test_at_random_next_to_nothing_links(links):
    """With each field moved to another line at random, a line's fields point at one customer
    only by coincidence: the baseline is a small fraction of the planted run's linked lines
    (most of its planted lines link), and the verdict is MATCH."""
    _, truth, lakehouse = links
    report = load_report(lakehouse, PLANTED_RUN_ID)
    lines = report["lines"]
    planted = sum(t["kind"] == "planted" for t in truth.values())
    assert lines["linked"] > planted / 2
    assert lines["linked_by_chance"] <= 0.05 * lines["linked"]
    assert report["verdict"]["code"] == "MATCH"


def test_u_is_measured_by_the_index_build_and_read_by_the_run(links, spark):
    """The warehouse's u is a fixed cost of the index: each build measures it once into
    linkage_u, and the run's model carries those values instead of measuring again."""
    _, _, lakehouse = links
    builds = spark.read.format("delta").load(str(lakehouse / "index_builds")).collect()
    stored = spark.read.format("delta").load(str(lakehouse / "linkage_u")).collect()
    keys = [(r.built_at, r.levels, r.field, r.level) for r in stored]
    assert len(keys) == len(set(keys))  # the run found the build's u: it measured none itself
    assert {r.built_at for r in stored} == {b.built_at for b in builds}
    last = max(b.built_at for b in builds)
    u = {(r.field, r.level): r.u for r in stored if r.built_at == last}
    model = spark.read.format("delta").load(str(lakehouse / "linkage_model"))
    model_u = {(r.field, r.level_name): r.u
               for r in model.filter(F.col("run_id") == PLANTED_RUN_ID).collect()}  # fmt: skip
    compared = [k for k in u if k[1] is not None]
    assert {f for f, _ in compared} == {"name", "address"}
    for field, level in compared:
        assert model_u[(field, level)] == pytest.approx(u[(field, level)])
    for field in ("email", "phone", "name"):
        assert 0 < u[(field, None)] < 0.01  # few customers share a key
        assert model_u[(field, "exact")] == pytest.approx(u[(field, None)])


def test_the_candidates_held_fields_are_read_from_the_index_build(links, spark):
    """customer_fields, written by the index build, gives each candidate customer the mask
    the claim would otherwise make from both indexes (keys, address presence, payload parts)."""
    from jobs import tables as T
    from jobs.io.delta import read_table
    from jobs.match import linkage as lk
    from jobs.steps import linkage as steps_linkage
    from jobs.steps.common import run_table

    _, _, lakehouse = links
    config = load_config(overrides=[f"lakehouse={lakehouse}"])

    def table(name):
        return read_table(spark, config.table(name))

    def run(name):
        return run_table(spark, config, name, PLANTED_RUN_ID)

    evidence = steps_linkage._evidence(run(T.EVIDENCE), run(T.FUZZY_EVIDENCE))
    payload_rows = (run(T.SAMPLE_FUZZY), table(T.FUZZY_INDEX))

    def masks(held, every_mask: bool = False) -> dict:
        args = (config, run(T.NORMALISED), table(T.INDEX), evidence, payload_rows, held)
        compared = steps_linkage._compared(*args, every_mask=every_mask)
        return {r.customer_id: r.held_mask for r in compared[2].collect()}

    from_indexes = masks(None)
    stored = table(T.CUSTOMER_FIELDS)
    assert stored.count() == stored.select("customer_id").distinct().count()
    assert masks(stored) == from_indexes
    # a large sample reads every customer's mask: the candidates' are the same ones
    every = masks(stored, every_mask=True)
    assert len(every) == stored.count() > len(from_indexes)
    assert {c: every[c] for c in from_indexes} == from_indexes
    # the demo's customers hold every field; a house number comes from the payloads alone
    number = lk.held_bits(config.matching.linkage.levels)["house_number"]
    assert len(from_indexes) > 100 and all(m & number for m in from_indexes.values())
